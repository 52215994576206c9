// Package grpcserver builds the gRPC server every service runs: tracing, request ids, metrics,
// logging, an authentication slot, error hygiene and panic recovery, plus health and reflection.
package grpcserver

import (
	"context"
	"log/slog"

	grpcprom "github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/logging"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/recovery"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"
)

// Authenticator establishes who is calling. It returns a context carrying the principal, or an
// error with code Unauthenticated. A nil Authenticator admits every call (development only,
// until authentication lands).
type Authenticator interface {
	Authenticate(ctx context.Context, fullMethod string) (context.Context, error)
}

// Options configures New.
type Options struct {
	Logger         *slog.Logger
	Registerer     prometheus.Registerer
	TracerProvider trace.TracerProvider
	Authenticator  Authenticator
	Reflection     bool
	MaxRecvBytes   int
}

// Server is a gRPC server with its health service.
type Server struct {
	*grpc.Server
	Health *health.Server
}

// New builds a server. Register services on it, then Serve.
func New(o Options) *Server {
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
	auth := authInterceptors{o.Authenticator}
	hygiene := errorHygiene{o.Logger}

	s := grpc.NewServer(
		grpc.StatsHandler(otelgrpc.NewServerHandler(otelgrpc.WithTracerProvider(o.TracerProvider))),
		grpc.MaxRecvMsgSize(o.MaxRecvBytes),
		grpc.ChainUnaryInterceptor(
			unaryRequestID,
			metrics.UnaryServerInterceptor(),
			logging.UnaryServerInterceptor(logger, logOpts...),
			hygiene.unary,
			auth.unary,
			recovery.UnaryServerInterceptor(recoverOpts...),
		),
		grpc.ChainStreamInterceptor(
			streamRequestID,
			metrics.StreamServerInterceptor(),
			logging.StreamServerInterceptor(logger, logOpts...),
			hygiene.stream,
			auth.stream,
			recovery.StreamServerInterceptor(recoverOpts...),
		),
	)
	hs := health.NewServer()
	healthpb.RegisterHealthServer(s, hs)
	if o.Reflection {
		reflection.Register(s)
	}
	return &Server{Server: s, Health: hs}
}
