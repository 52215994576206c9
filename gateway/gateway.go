// Package gateway is the REST/JSON edge of the system: it maps the HTTP routes declared in the
// protos (google.api.http) onto the four services' gRPC APIs with grpc-gateway, serves the
// generated OpenAPI document, and owns the edge concerns: request ids, CORS, a per-principal
// rate limit, size limits, deadlines, security headers, JSON errors, access logs, metrics and
// traces. It verifies bearer tokens with the services' key set, to refuse made-up ones at the
// edge and to key the rate limit by the verified caller, and forwards them as they came: the
// services verify them again and authorize the caller themselves. Its only state is the rate
// limiter's table, which a restart may lose.
package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"time"

	grpcprom "github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"

	"github.com/nrm-albania/nrm/services/platform/admin"
	"github.com/nrm-albania/nrm/services/platform/auth"
	"github.com/nrm-albania/nrm/services/platform/config"
	"github.com/nrm-albania/nrm/services/platform/logging"
	"github.com/nrm-albania/nrm/services/platform/telemetry"
)

// serviceName names the gateway in logs and traces.
const serviceName = "gateway"

// HTTP server limits that need no setting of their own.
const (
	// readHeaderTimeout stops a client that opens connections and trickles headers.
	readHeaderTimeout = 5 * time.Second
	// writeGrace is how much longer than the request deadline the server waits for the response
	// to be written, so that a 504 for a request that ran out of time still reaches the client.
	writeGrace = 5 * time.Second
	// idleTimeout closes keep-alive connections nobody uses.
	idleTimeout = 2 * time.Minute
	// maxHeaderBytes leaves room for a large bearer token and little else.
	maxHeaderBytes = 64 << 10
)

// Options adjusts Run for embedding (the dev launcher, tests).
type Options struct {
	// LogOutput receives the JSON log; nil means standard output.
	LogOutput io.Writer
	// Listening, when set, is told the bound addresses once the gateway serves.
	Listening func(httpAddr, adminAddr net.Addr)
	// Now is the rate limiter's clock; nil means time.Now. Tests set it to drive the limit
	// without depending on how fast the machine is.
	Now func() time.Time
}

// Run serves the REST API and the admin port until ctx ends, then shuts down within
// cfg.ShutdownTimeout: it stops accepting requests, lets those in flight finish, stops the admin
// port and closes the backend connections.
func Run(ctx context.Context, cfg Config, o Options) error {
	if o.LogOutput == nil {
		o.LogOutput = os.Stdout
	}
	log := logging.New(o.LogOutput, serviceName, cfg.LogLevel)
	es, err := cfg.parseEdgeSettings()
	if err != nil {
		return err
	}

	tp, err := telemetry.NewTracerProvider(ctx, serviceName, cfg.OTLPEndpoint)
	if err != nil {
		return err
	}
	defer shutdownWithin(5*time.Second, tp.Shutdown)

	tokens, err := auth.NewJWTVerifier(ctx, auth.JWTConfig{
		JWKS: cfg.AuthJWKS, Issuer: cfg.AuthIssuer, Audience: cfg.AuthAudience,
		Algorithms: splitList(cfg.AuthAlgorithms), Logger: log,
	})
	if err != nil {
		return fmt.Errorf("%s: %w", config.EnvName(settingAuthJWKS), err)
	}

	reg := admin.NewRegistry()

	// Per backend method: calls, codes and latency, as the services count them on their side.
	clientMetrics := grpcprom.NewClientMetrics(grpcprom.WithClientHandlingTimeHistogram())
	reg.MustRegister(clientMetrics)
	bs, err := dialBackends(cfg, tp, clientMetrics)
	if err != nil {
		return err
	}
	// Last of all, once neither server can start a call any more.
	defer func() {
		if err := bs.close(); err != nil {
			log.Warn("closing backend connections", "error", err)
		}
	}()
	mux, err := newMux(ctx, bs)
	if err != nil {
		return err
	}
	api := newEdge(cfg, es, tokens, o.Now, mux, newObserver(log, reg), reg)

	httpLis, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("NRM_HTTP_ADDR %s: %w", cfg.Addr, err)
	}
	adminLis, err := net.Listen("tcp", cfg.AdminAddr)
	if err != nil {
		httpLis.Close()
		return fmt.Errorf("NRM_ADMIN_ADDR %s: %w", cfg.AdminAddr, err)
	}
	var draining atomic.Bool
	apiSrv := &http.Server{
		Handler: otelhttp.NewHandler(api, serviceName,
			otelhttp.WithTracerProvider(tp), otelhttp.WithPropagators(telemetry.Propagator)),
		ReadHeaderTimeout: readHeaderTimeout,
		// The whole request, body included, must arrive within the request's own deadline (the
		// context deadline does not interrupt a body read; this does).
		ReadTimeout:    cfg.RequestTimeout,
		WriteTimeout:   cfg.RequestTimeout + writeGrace,
		IdleTimeout:    idleTimeout,
		MaxHeaderBytes: maxHeaderBytes,
		ErrorLog:       slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	adminSrv := &http.Server{
		Handler:           admin.Handler(reg, bs.checks(), draining.Load),
		ReadHeaderTimeout: readHeaderTimeout,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}

	errc := make(chan error, 2)
	serve := func(name string, srv *http.Server, lis net.Listener) {
		if err := srv.Serve(lis); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("%s server: %w", name, err)
		}
	}
	go serve("http", apiSrv, httpLis)
	go serve("admin", adminSrv, adminLis)
	log.Info("serving", "http_addr", httpLis.Addr().String(), "admin_addr", adminLis.Addr().String(),
		"caseregistry", cfg.CaseRegistryAddr, "referral", cfg.ReferralAddr,
		"secretariat", cfg.SecretariatAddr, "reporting", cfg.ReportingAddr,
		"backend_tls", cfg.BackendTLSCAFile != "", "probe_client_certificate", cfg.BackendTLSCertFile != "",
		"cors_allowed_origins", es.origins, "rate_limit", cfg.RateLimit, "rate_burst", cfg.RateBurst,
		"rate_limited_institutions", len(es.limits.institutions), "rate_limited_subjects", len(es.limits.subjects),
		"trusted_proxies", len(es.proxies))
	if o.Listening != nil {
		o.Listening(httpLis.Addr(), adminLis.Addr())
	}

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
		log.Error("stopping after a failure", "error", runErr)
	}

	// Shutdown, in order, within one deadline. The admin port stays up while the API drains so
	// that /readyz reports "draining" to the load balancer.
	deadline := time.Now().Add(cfg.ShutdownTimeout)
	log.Info("shutting down", "deadline", cfg.ShutdownTimeout.String())
	draining.Store(true)
	if err := shutdownWithin(time.Until(deadline), apiSrv.Shutdown); err != nil {
		log.Warn("requests still in flight at the shutdown deadline were cut off", "error", err)
		apiSrv.Close()
	}
	shutdownWithin(time.Until(deadline), adminSrv.Shutdown)
	log.Info("stopped")
	return runErr
}

// splitList reads a comma-separated setting, dropping blanks.
func splitList(list string) []string {
	var out []string
	for v := range strings.SplitSeq(list, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// shutdownWithin calls f with a context that ends after d (at least a moment, so that an
// exhausted deadline still lets f try).
func shutdownWithin(d time.Duration, f func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), max(d, 100*time.Millisecond))
	defer cancel()
	return f(ctx)
}
