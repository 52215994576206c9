package app_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	auditv1 "github.com/nrm-albania/nrm/proto/nrm/audit/v1"
	eventsv1 "github.com/nrm-albania/nrm/proto/nrm/events/v1"
	"github.com/nrm-albania/nrm/services/platform/access"
	"github.com/nrm-albania/nrm/services/platform/app"
	"github.com/nrm-albania/nrm/services/platform/auth"
	"github.com/nrm-albania/nrm/services/platform/auth/authtest"
	"github.com/nrm-albania/nrm/services/platform/consumer"
	"github.com/nrm-albania/nrm/services/platform/natsbus"
	"github.com/nrm-albania/nrm/services/platform/testenv"
)

const shutdownTimeout = 5 * time.Second

func TestRunServesAndStopsCleanly(t *testing.T) {
	var rt *app.Runtime
	s := start(t, testConfig(t), func(_ context.Context, r *app.Runtime) ([]app.Worker, error) {
		rt = r
		return nil, nil
	})

	testenv.Eventually(t, 20*time.Second, "/readyz is 200", func() bool { return s.get(t, "/readyz").code == http.StatusOK })
	ready := s.get(t, "/readyz")
	if ready.checks["mongodb"] != "ok" || ready.checks["nats"] != "ok" {
		t.Errorf("readiness checks %v, want mongodb and nats ok", ready.checks)
	}
	if got := s.get(t, "/healthz").code; got != http.StatusOK {
		t.Errorf("/healthz %d", got)
	}
	if st, err := s.health(); err != nil || st != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("gRPC health %s, %v; want SERVING", st, err)
	}
	if rt.DB.Name() != s.cfg.MongoDatabase || string(rt.NS) != s.cfg.NATSNamespace || rt.GRPC == nil ||
		rt.Outbox == nil || rt.Registry == nil || rt.Logger == nil || rt.JS == nil || rt.NATS == nil {
		t.Errorf("setup given an incomplete runtime: %+v", rt)
	}

	began := time.Now()
	if err := s.stop(t); err != nil {
		t.Fatalf("Run = %v, want nil", err)
	}
	if d := time.Since(began); d > shutdownTimeout {
		t.Errorf("shutdown took %s, more than the %s timeout", d, shutdownTimeout)
	}
	if _, err := s.health(); status.Code(err) != codes.Unavailable {
		t.Errorf("gRPC health after the stop: %v, want Unavailable", err)
	}
	if _, err := http.Get("http://" + s.adminAddr + "/healthz"); err == nil {
		t.Error("the admin port still answers after the stop")
	}
}

func TestHealthAnswersForEveryServedServiceByName(t *testing.T) {
	// What a service's setup registers, besides the audit service every service serves.
	probe := grpc.ServiceDesc{ServiceName: "nrm.probe.v1.ProbeService", HandlerType: (*any)(nil)}
	s := start(t, testConfig(t), func(_ context.Context, rt *app.Runtime) ([]app.Worker, error) {
		rt.GRPC.RegisterService(&probe, struct{}{})
		return nil, nil
	})
	for _, name := range []string{"", auditv1.AuditService_ServiceDesc.ServiceName, probe.ServiceName} {
		if st, err := s.healthOf(name); err != nil || st != healthpb.HealthCheckResponse_SERVING {
			t.Errorf("gRPC health of %q: %s, %v; want SERVING", name, st, err)
		}
	}
	if _, err := s.healthOf("nrm.unknown.v1.UnknownService"); status.Code(err) != codes.NotFound {
		t.Errorf("gRPC health of a service not served: %v, want NotFound", err)
	}
}

func TestReadyzIsUnavailableWhileDraining(t *testing.T) {
	var s *served
	during := make(chan response, 1)
	s = start(t, testConfig(t), func(context.Context, *app.Runtime) ([]app.Worker, error) {
		return []app.Worker{func(ctx context.Context) error {
			<-ctx.Done() // the service is shutting down; the admin port closes after the workers
			during <- s.get(t, "/readyz")
			return nil
		}}, nil
	})
	testenv.Eventually(t, 20*time.Second, "/readyz is 200", func() bool { return s.get(t, "/readyz").code == http.StatusOK })
	if err := s.stop(t); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-during:
		if r.code != http.StatusServiceUnavailable || r.checks["shutdown"] != "draining" {
			t.Errorf("/readyz while draining: %d %v, want 503 with shutdown: draining", r.code, r.checks)
		}
	default:
		t.Fatal("the worker did not probe /readyz while the service drained")
	}
}

func TestRunWaitsForWorkersToStop(t *testing.T) {
	var finished atomic.Bool
	s := start(t, testConfig(t), func(context.Context, *app.Runtime) ([]app.Worker, error) {
		return []app.Worker{slowToStop(&finished)}, nil
	})
	if err := s.stop(t); err != nil {
		t.Fatal(err)
	}
	if !finished.Load() {
		t.Error("Run returned before its worker had stopped")
	}
}

func TestOpenHealthWatchDoesNotTakeTheWorkersShutdownTime(t *testing.T) {
	var finished atomic.Bool
	s := start(t, testConfig(t), func(context.Context, *app.Runtime) ([]app.Worker, error) {
		return []app.Worker{slowToStop(&finished)}, nil
	})
	watch, err := healthpb.NewHealthClient(s.conn(t)).Watch(context.Background(), &healthpb.HealthCheckRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if first, err := watch.Recv(); err != nil || first.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("Watch: %v, %v", first, err)
	}
	if err := s.stop(t); err != nil {
		t.Fatal(err)
	}
	if !finished.Load() {
		t.Error("Run returned before its worker had stopped: the gRPC drain took the whole deadline")
	}
}

func TestRunStopsWhenAWorkerFails(t *testing.T) {
	s := start(t, testConfig(t), func(context.Context, *app.Runtime) ([]app.Worker, error) {
		return []app.Worker{func(context.Context) error { return errors.New("projection worker failed") }}, nil
	})
	select {
	case err := <-s.done:
		if err == nil || !strings.Contains(err.Error(), "projection worker failed") {
			t.Errorf("Run = %v, want the worker's error", err)
		}
		s.stopped = true
	case <-time.After(20 * time.Second):
		t.Fatal("Run still running after its worker failed")
	}
}

func TestRunProvisionsTheStreams(t *testing.T) {
	cfg := testConfig(t)
	bus := testenv.NewBus(t) // for its connection; the service gets a namespace of its own
	ns := natsbus.Namespace(testenv.Name("t"))
	cfg.NATSNamespace = string(ns)
	t.Cleanup(func() {
		for _, st := range natsbus.Streams(ns, 1) {
			_ = bus.JS.DeleteStream(context.Background(), st.Name)
		}
	})
	start(t, cfg, noSetup)
	testenv.Eventually(t, 20*time.Second, "every stream of the namespace exists", func() bool {
		for _, st := range natsbus.Streams(ns, 1) {
			if _, err := bus.JS.Stream(context.Background(), st.Name); err != nil {
				return false
			}
		}
		return true
	})
}

// A consumer made by the runtime starts once the streams exist: on a bus with none yet, it never
// finds its stream missing.
func TestRuntimeConsumersStartOnceTheStreamsExist(t *testing.T) {
	cfg := testConfig(t)
	ns := natsbus.Namespace(testenv.Name("t"))
	cfg.NATSNamespace = string(ns)
	bus := testenv.BusOn(t, ns)
	s := start(t, cfg, func(_ context.Context, rt *app.Runtime) ([]app.Worker, error) {
		c := rt.Consumer(consumer.Config{Stream: natsbus.StreamCase, Durable: "fresh"},
			func(context.Context, *eventsv1.Envelope) error { return nil })
		return []app.Worker{c.Run}, nil
	})
	testenv.Eventually(t, 20*time.Second, "the consumer exists", func() bool {
		_, err := bus.JS.Consumer(context.Background(), ns.Stream(natsbus.StreamCase), "fresh")
		return err == nil
	})
	if err := s.stop(t); err != nil {
		t.Fatal(err)
	}
	if out := s.logs.String(); strings.Contains(out, "consumer stopped") {
		t.Errorf("the consumer started before its stream existed:\n%s", out)
	}
}

func TestRunWithMongoDBDownServesButIsNotReady(t *testing.T) {
	cfg := testConfig(t)
	cfg.MongoURI = "mongodb://" + closedAddr(t) + "/"
	s := start(t, cfg, noSetup)

	if st, err := s.health(); err != nil || st != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("gRPC health %s, %v; want SERVING: the service runs while its database is down", st, err)
	}
	var ready response
	testenv.Eventually(t, 20*time.Second, "/readyz fails on mongodb alone", func() bool {
		ready = s.get(t, "/readyz")
		return ready.checks["nats"] == "ok"
	})
	if ready.code != http.StatusServiceUnavailable {
		t.Errorf("/readyz %d, want 503", ready.code)
	}
	if m := ready.checks["mongodb"]; m == "" || m == "ok" {
		t.Errorf("mongodb check %q, want the failure", m)
	}
	if err := s.stop(t); err != nil {
		t.Errorf("Run = %v, want nil", err)
	}
}

func TestRunReportsASetupErrorNamingTheService(t *testing.T) {
	cfg := app.Defaults("caseregistry", "127.0.0.1:0", "127.0.0.1:0")
	cfg.MongoURI, cfg.NATSURL = "mongodb://"+closedAddr(t)+"/", "nats://"+closedAddr(t)
	err := app.Run(context.Background(), cfg, func(context.Context, *app.Runtime) ([]app.Worker, error) {
		return nil, errors.New("seed catalogue")
	}, app.Options{LogOutput: io.Discard})
	if err == nil || !strings.Contains(err.Error(), "caseregistry") || !strings.Contains(err.Error(), "seed catalogue") {
		t.Fatalf("Run = %v, want the setup error naming the service", err)
	}
}

func TestRunOnATakenAddressNamesTheSetting(t *testing.T) {
	tests := []struct {
		setting string
		set     func(c *app.Config, addr string)
	}{
		{"NRM_GRPC_ADDR", func(c *app.Config, addr string) { c.GRPCAddr = addr }},
		{"NRM_ADMIN_ADDR", func(c *app.Config, addr string) { c.AdminAddr = addr }},
	}
	for _, tt := range tests {
		t.Run(tt.setting, func(t *testing.T) {
			cfg := app.Defaults("case", "127.0.0.1:0", "127.0.0.1:0")
			cfg.MongoURI, cfg.NATSURL = "mongodb://"+closedAddr(t)+"/", "nats://"+closedAddr(t)
			taken := listen(t)
			tt.set(&cfg, taken)
			var workerRan atomic.Bool
			err := app.Run(context.Background(), cfg, func(context.Context, *app.Runtime) ([]app.Worker, error) {
				return []app.Worker{func(context.Context) error { workerRan.Store(true); return nil }}, nil
			}, app.Options{LogOutput: io.Discard})
			if err == nil || !strings.Contains(err.Error(), tt.setting) || !strings.Contains(err.Error(), taken) {
				t.Fatalf("Run = %v, want an error naming %s and %s", err, tt.setting, taken)
			}
			if workerRan.Load() {
				t.Error("a worker ran although the service could not listen")
			}
		})
	}
}

func noSetup(context.Context, *app.Runtime) ([]app.Worker, error) { return nil, nil }

// slowToStop is a worker that takes a moment to stop, and says when it has.
func slowToStop(finished *atomic.Bool) app.Worker {
	return func(ctx context.Context) error {
		<-ctx.Done()
		time.Sleep(300 * time.Millisecond) // flushing, say
		finished.Store(true)
		return nil
	}
}

// testConfig is a service on free local ports, against the test store and a bus namespace of
// the test's own.
func testConfig(t *testing.T) app.Config {
	t.Helper()
	bus := testenv.NewBus(t)
	cfg := app.Defaults("case", "127.0.0.1:0", "127.0.0.1:0")
	cfg.MongoURI, cfg.MongoDatabase = testenv.MongoURI(t), testenv.Name("t_")
	cfg.NATSURL, cfg.NATSNamespace = bus.URL, string(bus.NS)
	cfg.ShutdownTimeout = shutdownTimeout
	testenv.PublishAccess(t, bus, testenv.Institutions...)
	return cfg
}

// served is a service running for a test.
type served struct {
	cfg                 app.Config
	grpcAddr, adminAddr string
	cancel              context.CancelFunc
	done                chan error
	stopped             bool
	logs                *testenv.LogBuffer
}

// start runs the service until the test ends and returns once it listens.
func start(t *testing.T, cfg app.Config, setup app.Setup) *served {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &served{cfg: cfg, cancel: cancel, done: make(chan error, 1), logs: &testenv.LogBuffer{}}
	listening := make(chan [2]string, 1)
	go func() {
		s.done <- app.Run(ctx, cfg, setup, app.Options{
			LogOutput: s.logs,
			Listening: func(g, a net.Addr) { listening <- [2]string{g.String(), a.String()} },
		})
	}()
	t.Cleanup(func() {
		if !s.stopped {
			if err := s.stop(t); err != nil {
				t.Errorf("Run = %v", err)
			}
		}
		if t.Failed() {
			t.Logf("service log:\n%s", s.logs)
		}
	})
	select {
	case addrs := <-listening:
		s.grpcAddr, s.adminAddr = addrs[0], addrs[1]
	case err := <-s.done:
		s.stopped = true
		t.Fatalf("the service did not start: %v", err)
	}
	return s
}

// stop cancels the service's context and returns what Run returned.
func (s *served) stop(t *testing.T) error {
	t.Helper()
	s.cancel()
	s.stopped = true
	select {
	case err := <-s.done:
		return err
	case <-time.After(4 * shutdownTimeout):
		t.Fatalf("Run did not return within %s of the cancellation", 4*shutdownTimeout)
		return nil
	}
}

func (s *served) conn(t *testing.T) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(s.grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// health asks the gRPC health service on a fresh connection.
func (s *served) health() (healthpb.HealthCheckResponse_ServingStatus, error) {
	return s.healthOf("")
}

// healthOf asks the gRPC health service about one service by its full name ("": the server).
func (s *served) healthOf(service string) (healthpb.HealthCheckResponse_ServingStatus, error) {
	conn, err := grpc.NewClient(s.grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: service})
	return res.GetStatus(), err
}

type response struct {
	code   int
	checks map[string]string
}

// get fetches path on the admin port.
func (s *served) get(t *testing.T, path string) response {
	t.Helper()
	res, err := http.Get("http://" + s.adminAddr + path)
	if err != nil {
		t.Errorf("GET %s: %v", path, err)
		return response{}
	}
	defer res.Body.Close()
	var body struct{ Checks map[string]string }
	_ = json.NewDecoder(res.Body).Decode(&body)
	return response{code: res.StatusCode, checks: body.Checks}
}

// listen occupies a local port until the test ends and returns its address.
func listen(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l.Addr().String()
}

// closedAddr returns a local address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// The settings NRM_TLS_* make a service speak TLS and know member institutions by their client
// certificates: a mapped certificate is its institution with its roles, a connection without a
// certificate has no principal, and a certificate from another CA never gets through the handshake.
func TestMutualTLSFromTheSettings(t *testing.T) {
	ca := authtest.NewCA(t)
	ids := authtest.WriteIdentities(t, auth.Identity{Match: "asp-auditor", Institution: "ASP-ANTITRAF", Subject: "asp-audit-system", Roles: []string{"auditor"}})
	tc := ca.ServerTLSConfig(ids)
	cfg := testConfig(t)
	cfg.Auth = app.AuthConfig{CertFile: tc.CertFile, KeyFile: tc.KeyFile, ClientCAFile: tc.ClientCAFile, IdentitiesFile: tc.IdentitiesFile}
	s := start(t, cfg, func(context.Context, *app.Runtime) ([]app.Worker, error) { return nil, nil })
	testenv.WaitForAccess(t, s.adminAddr)

	verify := func(tlsConfig *tls.Config) error {
		return verifyChain(t, s.grpcAddr, grpc.WithTransportCredentials(credentials.NewTLS(tlsConfig)))
	}
	if err := verify(ca.ClientTLS(ca.ClientCert(t, "asp-auditor"))); err != nil {
		t.Errorf("the mapped auditor certificate was refused: %v", err)
	}
	if err := verify(ca.ClientTLS(nil)); status.Code(err) != codes.Unauthenticated {
		t.Errorf("no client certificate: %v, want Unauthenticated", err)
	}
	if err := verify(ca.ClientTLS(ca.ClientCert(t, "someone-unmapped"))); status.Code(err) != codes.Unauthenticated {
		t.Errorf("an unmapped certificate: %v, want Unauthenticated", err)
	}
	other := authtest.NewCA(t)
	stranger := ca.ClientTLS(other.ClientCert(t, "asp-auditor")) // trusts the server, signed by another CA
	if err := verify(stranger); err == nil || status.Code(err) == codes.OK {
		t.Errorf("a certificate from an unknown CA got through: %v", err)
	}
}

// A correctly signed token is not enough: its institution must be in the access directory and
// active. A deactivation applies to the running service, with no restart.
func TestOnlyInstitutionsOfTheDirectoryGetIn(t *testing.T) {
	cfg := testConfig(t)
	bus := testenv.NewBus(t)
	cfg.NATSNamespace = string(bus.NS)
	pub := testenv.PublishAccess(t, bus, "MB-DPAM")
	iss := authtest.NewIssuer(t)
	jc := iss.JWTConfig()
	cfg.Auth = app.AuthConfig{JWKS: jc.JWKS, Issuer: jc.Issuer, Audience: jc.Audience}
	s := start(t, cfg, noSetup)
	testenv.WaitForAccess(t, s.adminAddr)

	verify := func(institution string) error {
		return verifyChain(t, s.grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithPerRPCCredentials(testenv.Bearer(iss.Token(t, institution, auth.RoleAuditor))))
	}
	if err := verify("MB-DPAM"); err != nil {
		t.Fatalf("a known institution was refused: %v", err)
	}
	if err := verify("ZZ-UNKNOWN"); status.Code(err) != codes.PermissionDenied || !strings.Contains(status.Convert(err).Message(), "not known") {
		t.Fatalf("an unknown institution: %v, want PermissionDenied, not known", err)
	}
	if err := pub.PutInstitution(context.Background(), access.Institution{Code: "MB-DPAM", Kind: access.KindMember, Active: false}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 20*time.Second, "the deactivation applies", func() bool {
		return status.Code(verify("MB-DPAM")) == codes.PermissionDenied
	})
}

// verifyChain calls VerifyAuditChain, which every service serves, over a connection made with
// opts, and returns the call's error.
func verifyChain(t *testing.T, addr string, opts ...grpc.DialOption) error {
	t.Helper()
	conn, err := grpc.NewClient(addr, opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = auditv1.NewAuditServiceClient(conn).VerifyAuditChain(ctx, &auditv1.VerifyAuditChainRequest{})
	return err
}
