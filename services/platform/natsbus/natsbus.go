// Package natsbus connects a service to NATS JetStream and provisions the streams that every
// service expects. Connections retry for ever, so a service starts and serves while NATS is
// down; what needs the bus (the outbox relay, consumers) waits for it.
package natsbus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Connect returns a connection to url that reconnects for ever and logs its state changes.
func Connect(url, name string, log *slog.Logger) (*nats.Conn, error) {
	nc, err := nats.Connect(url,
		nats.Name(name),
		nats.RetryOnFailedConnect(true),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(500*time.Millisecond),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil { // nil on a deliberate close or drain
				log.Warn("nats disconnected", "error", err)
			}
		}),
		nats.ReconnectHandler(func(c *nats.Conn) {
			log.Info("nats reconnected", "url", c.ConnectedUrlRedacted())
		}),
	)
	if err != nil {
		return nil, fmt.Errorf("nats connection to %s: %w", url, err)
	}
	return nc, nil
}

// Check reports whether the connection is up and JetStream answers; it is the readiness check
// for the bus.
func Check(nc *nats.Conn, js jetstream.JetStream) func(context.Context) error {
	return func(ctx context.Context) error {
		if !nc.IsConnected() {
			return fmt.Errorf("nats is %s", nc.Status())
		}
		if _, err := js.AccountInfo(ctx); err != nil {
			return fmt.Errorf("jetstream: %w", err)
		}
		return nil
	}
}

// Provision creates or updates every stream in Streams. It is idempotent, and retries until ctx
// ends when NATS is unreachable, so a service can start before the bus.
func Provision(ctx context.Context, js jetstream.JetStream, ns Namespace, replicas int, log *slog.Logger) error {
	wait := 250 * time.Millisecond
	for {
		err := provisionOnce(ctx, js, ns, replicas)
		if err == nil {
			return nil
		}
		log.Warn("provisioning jetstream streams failed; retrying", "error", err, "retry_in", wait)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(wait*2, 5*time.Second)
	}
}

// provisionOnce creates missing streams and updates only those whose managed settings differ.
// Every service provisions at start; updating an unchanged stream would be pointless work on the
// server and races with consumers being created on it.
func provisionOnce(ctx context.Context, js jetstream.JetStream, ns Namespace, replicas int) error {
	var errs []error
	for _, want := range Streams(ns, replicas) {
		s, err := js.Stream(ctx, want.Name)
		switch {
		case errors.Is(err, jetstream.ErrStreamNotFound):
			_, err = js.CreateStream(ctx, want)
			if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
				err = nil // another service created it meanwhile
			}
		case err == nil && !same(s.CachedInfo().Config, want):
			_, err = js.UpdateStream(ctx, want)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("stream %s: %w", want.Name, err))
		}
	}
	return errors.Join(errs...)
}

// same compares the settings Streams manages.
func same(have, want jetstream.StreamConfig) bool {
	return slices.Equal(have.Subjects, want.Subjects) && have.Replicas == want.Replicas &&
		have.Duplicates == want.Duplicates && have.MaxAge == want.MaxAge &&
		have.Storage == want.Storage && have.Retention == want.Retention && have.Description == want.Description
}
