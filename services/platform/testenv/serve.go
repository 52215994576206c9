package testenv

import (
	"bytes"
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/nrm-albania/nrm/services/platform/access"
	"github.com/nrm-albania/nrm/services/platform/app"
	"github.com/nrm-albania/nrm/services/platform/auth"
	"github.com/nrm-albania/nrm/services/platform/auth/authtest"
)

// Served is a service running for a test.
type Served struct {
	// Conn is a client connection to the service's gRPC port, authenticated as Admin.
	Conn *grpc.ClientConn
	// Issuer signs the tokens the service accepts; mint other principals' tokens with it.
	Issuer *authtest.Issuer
	// Addr is the service's gRPC address, for Dial.
	Addr string
	// Bus is the service's NATS namespace, for publishing to it or reading what it published.
	Bus *Bus
	// DB is the name of the service's database.
	DB string
	// Access publishes to the service's access directory: register, deactivate, revoke.
	Access *access.Publisher
}

// Admin is the principal of Served.Conn: every human role, at the chair's institution.
var Admin = auth.Principal{Institution: "MB-DPAM", Subject: "test-admin", Roles: []auth.Role{
	auth.RoleChair, auth.RoleSecretariat, auth.RoleMember, auth.RoleCaseworker, auth.RoleAnalyst, auth.RoleAuditor, auth.RoleOperator,
}}

// Serve runs a whole service as its binary does (app.Run, every interceptor, health and the
// admin port) on free local ports, connected to a fresh bus namespace, and returns a client
// connection to it. cfg's MongoURI and MongoDatabase are used as given, so a test can point the
// service at a store that is down; empty means the test store and a fresh database. The service
// stops, and must stop cleanly, when the test ends; its log is shown if the test failed.
func Serve(t testing.TB, cfg app.Config, setup app.Setup) *Served {
	t.Helper()
	bus := NewBus(t)
	pub := PublishAccess(t, bus, Institutions...)
	cfg.GRPCAddr, cfg.AdminAddr = "127.0.0.1:0", "127.0.0.1:0"
	if cfg.MongoURI == "" || cfg.MongoURI == app.Defaults("", "", "").MongoURI {
		cfg.MongoURI, cfg.MongoDatabase = MongoURI(t), Name("t_")
	}
	cfg.NATSURL, cfg.NATSNamespace = bus.URL, string(bus.NS)
	cfg.ShutdownTimeout = 5 * time.Second
	issuer := authtest.NewIssuer(t)
	jc := issuer.JWTConfig()
	cfg.Auth = app.AuthConfig{JWKS: jc.JWKS, Issuer: jc.Issuer, Audience: jc.Audience}

	logs := &LogBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s log:\n%s", cfg.Service, logs.String())
		}
	})

	ctx, stop := context.WithCancel(context.Background())
	listening := make(chan [2]net.Addr, 1)
	done := make(chan error, 1)
	go func() {
		done <- app.Run(ctx, cfg, setup, app.Options{
			LogOutput: logs,
			Listening: func(grpcAddr, adminAddr net.Addr) { listening <- [2]net.Addr{grpcAddr, adminAddr} },
		})
	}()
	var addrs [2]net.Addr
	select {
	case addrs = <-listening:
	case err := <-done:
		stop()
		t.Fatalf("%s did not start: %v", cfg.Service, err)
	}
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("%s stopped with %v", cfg.Service, err)
		}
	})
	WaitForAccess(t, addrs[1].String())
	s := &Served{Issuer: issuer, Addr: addrs[0].String(), Bus: bus, DB: cfg.MongoDatabase, Access: pub}
	s.Conn = s.Dial(t, issuer.TokenFor(t, Admin, time.Hour))
	return s
}

// Dial returns a connection to the service that sends token as its bearer token; "" sends none.
func (s *Served) Dial(t testing.TB, token string) *grpc.ClientConn {
	t.Helper()
	opts := []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
	if token != "" {
		opts = append(opts, grpc.WithPerRPCCredentials(Bearer(token)))
	}
	conn, err := grpc.NewClient(s.Addr, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// Bearer is per-RPC credentials sending a bearer token over a plain test connection.
type Bearer string

// GetRequestMetadata implements credentials.PerRPCCredentials.
func (b Bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(b)}, nil
}

// RequireTransportSecurity implements credentials.PerRPCCredentials; tests run without TLS.
func (Bearer) RequireTransportSecurity() bool { return false }

// LogBuffer collects a log written from many goroutines.
type LogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *LogBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *LogBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
