// Package grpcserver builds the gRPC server every service runs: tracing, request ids, metrics,
// logging, an authentication slot, error hygiene and panic recovery, plus health and reflection.
package grpcserver

import (
	"context"
	"crypto/tls"
	"log/slog"
	"time"

	grpcprom "github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/logging"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/recovery"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"
)

// Guard admits or refuses a call: it establishes who is calling and whether they may call the
// method. It returns the context carrying the principal, or a status error (Unauthenticated,
// PermissionDenied). A nil Guard admits every call; only tests of this package do that.
type Guard interface {
	Admit(ctx context.Context, fullMethod string) (context.Context, error)
}

// Auditor records an admitted call after its handler ran, with the outcome. An error it
// returns replaces the handler's response: the data of a read that could not be recorded must
// not leave the service.
type Auditor interface {
	Audit(ctx context.Context, fullMethod string, req, resp any, err error) error
}

// Options configures New.
type Options struct {
	Logger         *slog.Logger
	Registerer     prometheus.Registerer
	TracerProvider trace.TracerProvider
	Guard          Guard
	Auditor        Auditor
	Reflection     bool
	MaxRecvBytes   int
	// TLS, when set, makes the server speak TLS (and verify client certificates if it says so).
	TLS *tls.Config
	// MaxCallDuration caps every call's deadline, whatever the caller asked for or if it asked
	// for none, so that no call holds resources for ever [30s].
	MaxCallDuration time.Duration
}

// Server is a gRPC server with its health service.
type Server struct {
	*grpc.Server
	// Health answers probes. SetServing sets every status; Health.Shutdown, when the server
	// starts draining, turns them all NOT_SERVING for good.
	Health *health.Server
}

// RegisterService registers a service (the generated Register…Server functions call it) and
// makes its full name known to the health service, NOT_SERVING until SetServing(true): probes
// ask by name ("grpc-health-probe -service=nrm.caseregistry.v1.CaseRegistryService").
func (s *Server) RegisterService(sd *grpc.ServiceDesc, impl any) {
	s.Server.RegisterService(sd, impl)
	s.Health.SetServingStatus(sd.ServiceName, healthpb.HealthCheckResponse_NOT_SERVING)
}

// SetServing sets the health status of the whole server ("") and of every service registered
// on it, by its full name: SERVING when the service is ready, NOT_SERVING otherwise.
func (s *Server) SetServing(serving bool) {
	st := healthpb.HealthCheckResponse_NOT_SERVING
	if serving {
		st = healthpb.HealthCheckResponse_SERVING
	}
	s.Health.SetServingStatus("", st)
	for name := range s.GetServiceInfo() {
		s.Health.SetServingStatus(name, st)
	}
}

// New builds a server. Register services on it, then Serve.
func New(o Options) *Server {
	if o.MaxCallDuration <= 0 {
		o.MaxCallDuration = 30 * time.Second
	}
	metrics := grpcprom.NewServerMetrics(grpcprom.WithServerHandlingTimeHistogram())
	o.Registerer.MustRegister(metrics)

	logger := logging.LoggerFunc(func(ctx context.Context, lvl logging.Level, msg string, fields ...any) {
		o.Logger.Log(ctx, slog.Level(lvl), msg, fields...)
	})
	logOpts := []logging.Option{logging.WithLogOnEvents(logging.FinishCall)}
	recoverOpts := []recovery.Option{recovery.WithRecoveryHandlerContext(func(ctx context.Context, p any) error {
		o.Logger.ErrorContext(ctx, "panic while serving a call", "panic", p)
		return status.Error(codes.Internal, "internal error")
	})}
	guard := guardInterceptors{o.Guard}
	audit := auditInterceptor{o.Auditor}
	hygiene := errorHygiene{o.Logger}

	opts := []grpc.ServerOption{
		grpc.StatsHandler(otelgrpc.NewServerHandler(otelgrpc.WithTracerProvider(o.TracerProvider))),
		grpc.MaxRecvMsgSize(o.MaxRecvBytes),
		grpc.ChainUnaryInterceptor(
			unaryRequestID,
			capDeadline(o.MaxCallDuration),
			metrics.UnaryServerInterceptor(),
			logging.UnaryServerInterceptor(logger, logOpts...),
			// Twice: outside, so that a panic in the guard or the auditor is caught too; inside,
			// so that the auditor records a panicking handler's outcome.
			recovery.UnaryServerInterceptor(recoverOpts...),
			hygiene.unary,
			guard.unary,
			audit.unary,
			recovery.UnaryServerInterceptor(recoverOpts...),
		),
		grpc.ChainStreamInterceptor(
			streamRequestID,
			metrics.StreamServerInterceptor(),
			logging.StreamServerInterceptor(logger, logOpts...),
			recovery.StreamServerInterceptor(recoverOpts...),
			hygiene.stream,
			guard.stream,
			recovery.StreamServerInterceptor(recoverOpts...),
		),
	}
	if o.TLS != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(o.TLS)))
	}
	srv := &Server{Server: grpc.NewServer(opts...), Health: health.NewServer()}
	healthpb.RegisterHealthServer(srv, srv.Health)
	if o.Reflection {
		reflection.Register(srv)
	}
	// Not ready until the service says so: the health server starts out SERVING.
	srv.SetServing(false)
	return srv
}
