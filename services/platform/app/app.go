// Package app runs a service: it connects the dependencies, serves gRPC and the admin port,
// runs the service's background workers, and shuts everything down in order within a deadline
// (health NOT_SERVING, drain the gRPC server, stop workers, drain NATS, close the database).
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.opentelemetry.io/otel/trace"

	auditv1 "github.com/nrm-albania/nrm/proto/nrm/audit/v1"
	"github.com/nrm-albania/nrm/services/platform/access"
	"github.com/nrm-albania/nrm/services/platform/admin"
	"github.com/nrm-albania/nrm/services/platform/audit"
	"github.com/nrm-albania/nrm/services/platform/authz"
	"github.com/nrm-albania/nrm/services/platform/consumer"
	"github.com/nrm-albania/nrm/services/platform/grpcserver"
	"github.com/nrm-albania/nrm/services/platform/logging"
	"github.com/nrm-albania/nrm/services/platform/mongodb"
	"github.com/nrm-albania/nrm/services/platform/natsbus"
	"github.com/nrm-albania/nrm/services/platform/outbox"
	"github.com/nrm-albania/nrm/services/platform/telemetry"
)

// Runtime is what a service is given to wire itself onto.
type Runtime struct {
	Config Config
	Logger *slog.Logger
	DB     *mongo.Database
	NATS   *nats.Conn
	JS     jetstream.JetStream
	GRPC   *grpcserver.Server
	NS     natsbus.Namespace
	// Outbox publishes the events the service writes (and its audit records); wake it after a
	// commit with Outbox.Notify.
	Outbox *outbox.Relay
	// Audit is the service's audit trail. Calls are recorded by the gRPC server; a service
	// records here only what it does by itself (a retention sweep, say).
	Audit    *audit.Trail
	Registry *prometheus.Registry
	Tracer   trace.TracerProvider
	// Access is the directory of institutions and revoked credentials every call is admitted
	// against, followed from the access bucket.
	Access *access.Directory

	// provisioned is closed once the streams exist.
	provisioned chan struct{}
}

// Consumer returns a durable consumer on the service's bus, with its metrics and traces; return
// its Run as a worker. It starts consuming once the runtime has provisioned the streams, so that a
// first start does not race their creation.
func (rt *Runtime) Consumer(cfg consumer.Config, h consumer.Handler) *consumer.Consumer {
	cfg.Ready = rt.provisioned
	return consumer.New(rt.JS, rt.NS, cfg, h, rt.Logger, rt.Registry, rt.Tracer)
}

// Worker is a background task that runs until its context ends.
type Worker func(ctx context.Context) error

// Setup registers a service's gRPC handlers on rt.GRPC and returns its background workers.
type Setup func(ctx context.Context, rt *Runtime) ([]Worker, error)

// Options adjusts Run for embedding (the dev launcher, tests).
type Options struct {
	// LogOutput receives the JSON log; nil means standard output.
	LogOutput io.Writer
	// Listening, when set, is told the bound addresses once the service serves.
	Listening func(grpcAddr, adminAddr net.Addr)
}

// Run runs the service described by cfg and setup until ctx ends, then shuts it down.
func Run(ctx context.Context, cfg Config, setup Setup, o Options) error {
	if o.LogOutput == nil {
		o.LogOutput = os.Stdout
	}
	log := logging.New(o.LogOutput, cfg.Service, cfg.LogLevel)

	tp, err := telemetry.NewTracerProvider(ctx, cfg.Service, cfg.OTLPEndpoint)
	if err != nil {
		return err
	}
	defer shutdownWithin(5*time.Second, tp.Shutdown)

	reg := admin.NewRegistry()

	mc, err := mongodb.Connect(cfg.MongoURI, "nrm-"+cfg.Service)
	if err != nil {
		return err
	}
	defer shutdownWithin(5*time.Second, mc.Disconnect)

	nc, err := natsbus.Connect(cfg.NATSURL, "nrm-"+cfg.Service, log)
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("jetstream: %w", err)
	}

	// Nobody is admitted until the directory has been read from the bus (readiness says so).
	directory := access.NewDirectory(cfg.AccessMaxStaleness, nil)
	guard, tlsConfig, err := security(ctx, cfg, directory)
	if err != nil {
		return err
	}
	db := mc.Database(cfg.MongoDatabase)
	ns := natsbus.Namespace(cfg.NATSNamespace)
	relay := outbox.NewRelay(db, js, ns, log, reg, outbox.RelayOptions{})
	// Every service keeps the audit trail of the calls it serves, and answers auditors about it.
	trail := audit.NewTrail(db, cfg.Service, relay)
	gs := grpcserver.New(grpcserver.Options{
		Logger: log, Registerer: reg, TracerProvider: tp, Guard: guard, TLS: tlsConfig,
		Auditor:    authz.NewRecorder(trail, authz.Table, log, reg),
		Reflection: cfg.Reflection, MaxRecvBytes: cfg.MaxRecvBytes,
	})
	auditv1.RegisterAuditServiceServer(gs, audit.NewServer(db))
	rt := &Runtime{Config: cfg, Logger: log, DB: db, NATS: nc, JS: js, NS: ns, Outbox: relay, GRPC: gs, Audit: trail, Registry: reg, Tracer: tp,
		Access: directory, provisioned: make(chan struct{})}

	workerCtx, stopWorkers := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWorkers()
	workers, err := setup(workerCtx, rt)
	if err != nil {
		return fmt.Errorf("set up %s: %w", cfg.Service, err)
	}
	workers = append(workers, relay.Run, func(ctx context.Context) error {
		return directory.Follow(ctx, js, access.Bucket(ns, cfg.NATSReplicas), log)
	}, retrying("audit indexes", log, func(ctx context.Context) error {
		return audit.EnsureIndexes(ctx, db)
	}), func(ctx context.Context) error {
		err := natsbus.Provision(ctx, js, rt.NS, cfg.NATSReplicas, log)
		if errors.Is(err, context.Canceled) {
			return nil
		}
		if err == nil {
			close(rt.provisioned)
		}
		return err
	})

	grpcLis, err := net.Listen("tcp", cfg.GRPCAddr)
	if err != nil {
		return fmt.Errorf("NRM_GRPC_ADDR %s: %w", cfg.GRPCAddr, err)
	}
	adminLis, err := net.Listen("tcp", cfg.AdminAddr)
	if err != nil {
		grpcLis.Close()
		return fmt.Errorf("NRM_ADMIN_ADDR %s: %w", cfg.AdminAddr, err)
	}
	var draining atomic.Bool
	adminSrv := &http.Server{
		Handler: admin.Handler(reg, map[string]admin.Check{
			"mongodb": mongodb.Check(mc),
			"nats":    natsbus.Check(nc, js),
			"access":  func(context.Context) error { return directory.Ready() },
		}, draining.Load),
		ReadHeaderTimeout: 5 * time.Second,
	}

	var wg sync.WaitGroup
	errc := make(chan error, len(workers)+2)
	for _, w := range workers {
		wg.Go(func() {
			if err := w(workerCtx); err != nil {
				errc <- err
			}
		})
	}
	go func() {
		if err := gs.Serve(grpcLis); err != nil {
			errc <- fmt.Errorf("grpc server: %w", err)
		}
	}()
	go func() {
		if err := adminSrv.Serve(adminLis); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("admin server: %w", err)
		}
	}()
	gs.SetServing(true)
	log.Info("serving", "grpc_addr", grpcLis.Addr().String(), "admin_addr", adminLis.Addr().String(),
		"mongo_database", cfg.MongoDatabase)
	if o.Listening != nil {
		o.Listening(grpcLis.Addr(), adminLis.Addr())
	}

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
		log.Error("stopping after a failure", "error", runErr)
	}

	// Shutdown, in order, within one deadline.
	deadline := time.Now().Add(cfg.ShutdownTimeout)
	log.Info("shutting down", "deadline", cfg.ShutdownTimeout.String())
	draining.Store(true)
	gs.Health.Shutdown()
	// In-flight calls get half the budget: open streams (a health Watch, say) never finish on
	// their own, and the workers and the NATS drain need the rest.
	stopGRPC(gs, time.Until(deadline)/2)
	stopWorkers()
	waitUntil(&wg, deadline)
	if err := nc.Drain(); err != nil {
		log.Warn("nats drain", "error", err)
	}
	shutdownWithin(time.Until(deadline), adminSrv.Shutdown)
	log.Info("stopped")
	return runErr
}

// stopGRPC lets in-flight calls finish, then cuts what remains at the deadline.
func stopGRPC(gs *grpcserver.Server, within time.Duration) {
	done := make(chan struct{})
	go func() {
		gs.GracefulStop()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(within):
		gs.Stop()
	}
}

func waitUntil(wg *sync.WaitGroup, deadline time.Time) {
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(time.Until(deadline)):
	}
}

func shutdownWithin(d time.Duration, f func(context.Context) error) {
	ctx, cancel := context.WithTimeout(context.Background(), max(d, 100*time.Millisecond))
	defer cancel()
	_ = f(ctx)
}

// retrying is a worker that runs a start-up task until it succeeds, so that a dependency that is
// down at start delays the task instead of failing the service.
func retrying(what string, log *slog.Logger, task func(context.Context) error) Worker {
	return func(ctx context.Context) error {
		wait := 250 * time.Millisecond
		for {
			err := task(ctx)
			if err == nil || ctx.Err() != nil {
				return nil
			}
			log.Warn(what+" failed; retrying", "error", err, "retry_in", wait)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(wait):
			}
			wait = min(wait*2, 30*time.Second)
		}
	}
}
