// Package caseregistry is the National Database for Victims of Trafficking (point 6 of the Joint
// Instruction): the service that registers cases and owns their data.
package caseregistry

import (
	"context"

	caseregistryv1 "github.com/nrm-albania/nrm/proto/nrm/caseregistry/v1"
	"github.com/nrm-albania/nrm/services/caseregistry/internal/server"
	"github.com/nrm-albania/nrm/services/caseregistry/internal/store"
	"github.com/nrm-albania/nrm/services/platform/app"
)

// Defaults are the service's settings when nothing is configured.
func Defaults() app.Config { return app.Defaults("caseregistry", "127.0.0.1:9101", "127.0.0.1:9201") }

// Setup registers the service. Its events leave through the runtime's outbox relay.
func Setup(_ context.Context, rt *app.Runtime) ([]app.Worker, error) {
	caseregistryv1.RegisterCaseRegistryServiceServer(rt.GRPC, server.New(store.New(rt.DB), rt.Outbox, rt.Logger))
	return nil, nil
}
