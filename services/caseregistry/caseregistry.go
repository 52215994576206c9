// Package caseregistry is the National Database for Victims of Trafficking (point 6 of the Joint
// Instruction): the service that registers cases and owns their data.
package caseregistry

import (
	"context"

	caseregistryv1 "github.com/nrm-albania/nrm/proto/nrm/caseregistry/v1"
	"github.com/nrm-albania/nrm/services/caseregistry/internal/server"
	"github.com/nrm-albania/nrm/services/caseregistry/internal/store"
	"github.com/nrm-albania/nrm/services/platform/app"
	"github.com/nrm-albania/nrm/services/platform/outbox"
)

// Defaults are the service's settings when nothing is configured.
func Defaults() app.Config { return app.Defaults("caseregistry", "127.0.0.1:9101", "127.0.0.1:9201") }

// Setup registers the service and returns its outbox relay as a background worker.
func Setup(_ context.Context, rt *app.Runtime) ([]app.Worker, error) {
	relay := outbox.NewRelay(rt.DB, rt.JS, rt.NS, rt.Logger, rt.Registry, outbox.RelayOptions{})
	caseregistryv1.RegisterCaseRegistryServiceServer(rt.GRPC, server.New(store.New(rt.DB), relay, rt.Logger))
	return []app.Worker{relay.Run}, nil
}
