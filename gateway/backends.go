package gateway

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"

	grpcprom "github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"
	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc/filters"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	auditv1 "github.com/nrm-albania/nrm/proto/nrm/audit/v1"
	caseregistryv1 "github.com/nrm-albania/nrm/proto/nrm/caseregistry/v1"
	referralv1 "github.com/nrm-albania/nrm/proto/nrm/referral/v1"
	reportingv1 "github.com/nrm-albania/nrm/proto/nrm/reporting/v1"
	secretariatv1 "github.com/nrm-albania/nrm/proto/nrm/secretariat/v1"
	"github.com/nrm-albania/nrm/services/platform/admin"
	"github.com/nrm-albania/nrm/services/platform/config"
	"github.com/nrm-albania/nrm/services/platform/telemetry"
)

// roundRobin spreads calls over every address the name resolves to, so that a backend scaled
// out behind a headless Kubernetes service gets load on all its pods, not on the first one.
const roundRobin = `{"loadBalancingConfig": [{"round_robin": {}}]}`

// maxResponseBytes bounds one answer of a service.
const maxResponseBytes = 64 << 20

// backend is one service the gateway forwards to, over one connection shared by all requests,
// and probed for readiness over probe: the same connection, unless the gateway has a client
// certificate, which only the probe connection presents.
type backend struct {
	name     string
	conn     *grpc.ClientConn
	probe    *grpc.ClientConn
	register func(context.Context, *runtime.ServeMux, *grpc.ClientConn) error
	// services are the full names of the gRPC services whose routes register adds.
	services []string
}

type backends []backend

// dialBackends creates a client per backend. No connection is made yet: grpc.NewClient connects
// on first use, so the gateway starts while a backend is still down and /readyz tells.
func dialBackends(cfg Config, tp trace.TracerProvider, metrics *grpcprom.ClientMetrics) (backends, error) {
	creds, err := backendCredentials(cfg)
	if err != nil {
		return nil, err
	}
	specs := []struct {
		name, addr string
		register   func(context.Context, *runtime.ServeMux, *grpc.ClientConn) error
		services   []string
	}{
		{"caseregistry", cfg.CaseRegistryAddr, registerCaseRegistry,
			[]string{caseregistryv1.CaseRegistryService_ServiceDesc.ServiceName, auditv1.AuditService_ServiceDesc.ServiceName}},
		{"referral", cfg.ReferralAddr, referralv1.RegisterReferralServiceHandler, []string{referralv1.ReferralService_ServiceDesc.ServiceName}},
		{"secretariat", cfg.SecretariatAddr, registerSecretariat,
			[]string{secretariatv1.SecretariatService_ServiceDesc.ServiceName, secretariatv1.AccessService_ServiceDesc.ServiceName,
				secretariatv1.MeetingService_ServiceDesc.ServiceName, secretariatv1.CorrespondenceService_ServiceDesc.ServiceName}},
		{"reporting", cfg.ReportingAddr, registerReporting,
			[]string{reportingv1.ReportingService_ServiceDesc.ServiceName, reportingv1.ReportService_ServiceDesc.ServiceName,
				reportingv1.DataSetService_ServiceDesc.ServiceName, reportingv1.ActivityService_ServiceDesc.ServiceName,
				reportingv1.PublicationService_ServiceDesc.ServiceName, reportingv1.DecisionStatisticsService_ServiceDesc.ServiceName}},
	}
	common := []grpc.DialOption{
		// No per-RPC credentials, on purpose: a call made for a user carries only that user's
		// forwarded credentials, which the services verify themselves, so they authorize the
		// user and never the gateway.
		grpc.WithStatsHandler(otelgrpc.NewClientHandler(
			otelgrpc.WithTracerProvider(tp),
			otelgrpc.WithPropagators(telemetry.Propagator),
			// Readiness probes would otherwise add a trace every few seconds per backend.
			otelgrpc.WithFilter(filters.Not(filters.HealthCheck())),
		)),
		grpc.WithDefaultServiceConfig(roundRobin),
		// A letter's attachment is answered in one message, and may be larger than gRPC's
		// default 4 MiB (NRM_LETTER_ATTACHMENT_MAX_BYTES goes up to 64 MiB).
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxResponseBytes)),
		grpc.WithChainUnaryInterceptor(metrics.UnaryClientInterceptor()),
	}
	var bs backends
	for _, s := range specs {
		conn, err := grpc.NewClient(s.addr, append(common, grpc.WithTransportCredentials(creds.calls))...)
		if err != nil {
			bs.close()
			return nil, fmt.Errorf("%s backend at %s: %w", s.name, s.addr, err)
		}
		b := backend{name: s.name, conn: conn, probe: conn, register: s.register, services: s.services}
		if creds.probes != nil {
			if b.probe, err = grpc.NewClient(s.addr, append(common, grpc.WithTransportCredentials(creds.probes))...); err != nil {
				conn.Close()
				bs.close()
				return nil, fmt.Errorf("%s backend at %s: %w", s.name, s.addr, err)
			}
		}
		bs = append(bs, b)
	}
	return bs, nil
}

// transport is how the gateway reaches the services: the credentials of the connections that
// carry callers' requests, and of the readiness probes when they differ (nil otherwise).
type transport struct {
	calls, probes credentials.TransportCredentials
}

// backendCredentials builds the transport from the settings: plain text without a CA; TLS
// verifying the services' certificates against the CA otherwise. A client certificate goes on
// the probes only. A service refuses a call that comes with both a client certificate and a
// bearer token (it could not tell whose rights apply), and a connection's certificate goes with
// every call on it, so the connections carrying callers' tokens present none.
func backendCredentials(cfg Config) (transport, error) {
	if cfg.BackendTLSCAFile == "" {
		return transport{calls: insecure.NewCredentials()}, nil
	}
	pem, err := os.ReadFile(cfg.BackendTLSCAFile)
	if err != nil {
		return transport{}, settingError(settingBackendCA, "%v", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return transport{}, settingError(settingBackendCA, "%s holds no PEM certificate", cfg.BackendTLSCAFile)
	}
	base := &tls.Config{MinVersion: tls.VersionTLS13, RootCAs: pool, ServerName: cfg.BackendTLSServerName}
	t := transport{calls: credentials.NewTLS(base)}
	if cfg.BackendTLSCertFile != "" {
		cert, err := tls.LoadX509KeyPair(cfg.BackendTLSCertFile, cfg.BackendTLSKeyFile)
		if err != nil {
			return transport{}, settingError(settingBackendCert, "with %s: %v", config.EnvName(settingBackendKey), err)
		}
		probes := base.Clone()
		probes.Certificates = []tls.Certificate{cert}
		t.probes = credentials.NewTLS(probes)
	}
	return t, nil
}

// registerOn adds every backend's REST routes to mux.
func (bs backends) registerOn(ctx context.Context, mux *runtime.ServeMux) error {
	for _, b := range bs {
		if err := b.register(ctx, mux, b.conn); err != nil {
			return fmt.Errorf("register %s routes: %w", b.name, err)
		}
	}
	return nil
}

// routes are the REST routes of every backend, read from the services' descriptors.
func (bs backends) routes() (routes, error) {
	var names []string
	for _, b := range bs {
		names = append(names, b.services...)
	}
	return routesOf(names...)
}

// checks are the readiness checks: each backend must answer grpc.health.v1 Check with SERVING
// for the whole server (service "").
func (bs backends) checks() map[string]admin.Check {
	checks := make(map[string]admin.Check, len(bs))
	for _, b := range bs {
		client := healthpb.NewHealthClient(b.probe)
		checks[b.name] = func(ctx context.Context) error {
			resp, err := client.Check(ctx, &healthpb.HealthCheckRequest{})
			if err != nil {
				return err
			}
			if st := resp.GetStatus(); st != healthpb.HealthCheckResponse_SERVING {
				return fmt.Errorf("health status %s", st)
			}
			return nil
		}
	}
	return checks
}

// close closes every connection; calls still in flight on them fail with Canceled.
func (bs backends) close() error {
	var errs []error
	for _, b := range bs {
		if err := b.conn.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close %s connection: %w", b.name, err))
		}
		if b.probe == b.conn {
			continue
		}
		if err := b.probe.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close %s probe connection: %w", b.name, err))
		}
	}
	return errors.Join(errs...)
}

// registerCaseRegistry adds the case registry's routes and those of its audit trail
// (/v1/audit/records, /v1/cases/{id}/audit, /v1/audit:verify). Every service keeps a trail;
// REST reaches the registry's, which records access to the cases, and the others' are reached
// over gRPC.
func registerCaseRegistry(ctx context.Context, mux *runtime.ServeMux, conn *grpc.ClientConn) error {
	if err := caseregistryv1.RegisterCaseRegistryServiceHandler(ctx, mux, conn); err != nil {
		return err
	}
	return auditv1.RegisterAuditServiceHandler(ctx, mux, conn)
}

// registerSecretariat maps the secretariat's services: the composition and rules of procedure,
// the access directory, the meetings and the correspondence register.
func registerSecretariat(ctx context.Context, mux *runtime.ServeMux, conn *grpc.ClientConn) error {
	for _, register := range []func(context.Context, *runtime.ServeMux, *grpc.ClientConn) error{
		secretariatv1.RegisterSecretariatServiceHandler,
		secretariatv1.RegisterAccessServiceHandler,
		secretariatv1.RegisterMeetingServiceHandler,
		secretariatv1.RegisterCorrespondenceServiceHandler,
	} {
		if err := register(ctx, mux, conn); err != nil {
			return err
		}
	}
	return nil
}

// registerReporting routes the reporting service's APIs, all served on one connection.
func registerReporting(ctx context.Context, mux *runtime.ServeMux, conn *grpc.ClientConn) error {
	for _, register := range []func(context.Context, *runtime.ServeMux, *grpc.ClientConn) error{
		reportingv1.RegisterReportingServiceHandler,
		reportingv1.RegisterReportServiceHandler,
		reportingv1.RegisterDataSetServiceHandler,
		reportingv1.RegisterActivityServiceHandler,
		reportingv1.RegisterPublicationServiceHandler,
		reportingv1.RegisterDecisionStatisticsServiceHandler,
	} {
		if err := register(ctx, mux, conn); err != nil {
			return err
		}
	}
	return nil
}
