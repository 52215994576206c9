package auth_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/nrm-albania/nrm/services/platform/auth"
	"github.com/nrm-albania/nrm/services/platform/auth/authtest"
)

func TestServerTLS(t *testing.T) {
	ca := authtest.NewCA(t)
	t.Run("with a client CA", func(t *testing.T) {
		cfg, err := auth.ServerTLS(ca.ServerTLSConfig(""))
		if err != nil {
			t.Fatal(err)
		}
		if cfg.MinVersion != tls.VersionTLS13 {
			t.Errorf("MinVersion %x, want TLS 1.3", cfg.MinVersion)
		}
		if cfg.ClientAuth != tls.VerifyClientCertIfGiven || cfg.ClientCAs == nil {
			t.Errorf("ClientAuth %v with pool %v, want VerifyClientCertIfGiven with the CA", cfg.ClientAuth, cfg.ClientCAs)
		}
		if len(cfg.Certificates) != 1 {
			t.Errorf("%d certificates, want 1", len(cfg.Certificates))
		}
	})
	t.Run("without a client CA", func(t *testing.T) {
		cfg, err := auth.ServerTLS(auth.TLSConfig{CertFile: ca.Server.CertFile, KeyFile: ca.Server.KeyFile})
		if err != nil {
			t.Fatal(err)
		}
		if cfg.ClientAuth != tls.NoClientCert || cfg.ClientCAs != nil {
			t.Errorf("ClientAuth %v, want NoClientCert", cfg.ClientAuth)
		}
	})
	notPEM := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := []struct {
		name string
		c    auth.TLSConfig
		want string
	}{
		{"no key", auth.TLSConfig{CertFile: ca.Server.CertFile}, "both"},
		{"missing certificate", auth.TLSConfig{CertFile: filepath.Join(t.TempDir(), "x.pem"), KeyFile: ca.Server.KeyFile}, "no such file"},
		{"key of another certificate", auth.TLSConfig{CertFile: ca.Server.CertFile, KeyFile: ca.ClientCert(t, "x").KeyFile}, "key"},
		{"CA file without certificates", auth.TLSConfig{CertFile: ca.Server.CertFile, KeyFile: ca.Server.KeyFile, ClientCAFile: notPEM}, "no PEM certificate"},
		{"missing CA file", auth.TLSConfig{CertFile: ca.Server.CertFile, KeyFile: ca.Server.KeyFile, ClientCAFile: filepath.Join(t.TempDir(), "x.pem")}, "no such file"},
		{"identities without a CA", auth.TLSConfig{CertFile: ca.Server.CertFile, KeyFile: ca.Server.KeyFile, IdentitiesFile: "ids.json"}, "no client CA"},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			_, err := auth.ServerTLS(c.c)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one mentioning %q", err, c.want)
			}
		})
	}
}

func TestLoadCertMapperRefusesBadFiles(t *testing.T) {
	write := func(s string) string {
		p := filepath.Join(t.TempDir(), "ids.json")
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ok := `{"match":"a","institution":"KKSAT","subject":"s","roles":["member"]}`
	cases := []struct{ name, file, want string }{
		{"missing file", filepath.Join(t.TempDir(), "absent.json"), "no such file"},
		{"not JSON", write("{"), "not a JSON array"},
		{"an object", write(ok), "not a JSON array"},
		{"empty", write("[]"), "no identities"},
		{"trailing data", write("[" + ok + "] []"), "trailing"},
		{"unknown field (typo)", write(`[{"match":"a","institution":"KKSAT","subject":"s","role":["member"]}]`), "unknown field"},
		{"empty match", write(`[{"match":"","institution":"KKSAT","subject":"s","roles":["member"]}]`), "match is empty"},
		{"duplicate match", write("[" + ok + "," + ok + "]"), "twice"},
		{"bad institution", write(`[{"match":"a","institution":"kksat","subject":"s","roles":["member"]}]`), "institution"},
		{"no subject", write(`[{"match":"a","institution":"KKSAT","subject":"","roles":["member"]}]`), "subject"},
		{"no roles", write(`[{"match":"a","institution":"KKSAT","subject":"s","roles":[]}]`), "no roles"},
		{"unknown role", write(`[{"match":"a","institution":"KKSAT","subject":"s","roles":["admin"]}]`), "unknown role"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := auth.LoadCertMapper(c.file)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one mentioning %q", err, c.want)
			}
		})
	}
}

func TestCertMapperMatchOrder(t *testing.T) {
	ca := authtest.NewCA(t)
	m, err := auth.LoadCertMapper(authtest.WriteIdentities(t,
		auth.Identity{Match: "spiffe://nrm.gov.al/asp", Institution: "ASP-ANTITRAF", Subject: "by-uri", Roles: []string{"member"}},
		auth.Identity{Match: "asp.gov.al", Institution: "ASP-ANTITRAF", Subject: "by-dns", Roles: []string{"member"}},
		auth.Identity{Match: "ASP case system", Institution: "ASP-ANTITRAF", Subject: "by-cn", Roles: []string{"member"}},
		auth.Identity{Match: "spiffe://nrm.gov.al/kksat", Institution: "KKSAT", Subject: "kksat", Roles: []string{"member"}},
	))
	if err != nil {
		t.Fatal(err)
	}
	cert := func(cn string, uris []string, dns ...string) *x509.Certificate {
		c := ca.ClientCert(t, cn, uris...).X509
		c.DNSNames = dns // the mapper reads the parsed certificate; the test sets SANs directly
		return c
	}
	cases := []struct {
		name    string
		cert    *x509.Certificate
		subject string
		err     string
	}{
		{"URI wins over DNS and CN", cert("ASP case system", []string{"spiffe://nrm.gov.al/asp"}, "asp.gov.al"), "by-uri", ""},
		{"DNS wins over CN", cert("ASP case system", nil, "asp.gov.al"), "by-dns", ""},
		{"CN last", cert("ASP case system", []string{"spiffe://nrm.gov.al/unmapped"}, "unmapped.example"), "by-cn", ""},
		{"nothing matches", cert("someone", []string{"spiffe://nrm.gov.al/x"}, "x.example"), "", "not mapped"},
		{"two identities in one class", cert("x", []string{"spiffe://nrm.gov.al/asp", "spiffe://nrm.gov.al/kksat"}), "", "more than one"},
		{"match is exact", cert("asp case system", nil, "ASP.GOV.AL"), "", "not mapped"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := m.Principal(c.cert)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Errorf("got %+v, %v; want an error mentioning %q", p, err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Subject != c.subject || p.Method != auth.MethodMTLS {
				t.Errorf("principal %+v, want subject %q by mtls", p, c.subject)
			}
		})
	}
	if _, err := m.Principal(nil); err == nil {
		t.Error("nil certificate accepted")
	}
}

// grpcFixture is a TLS gRPC server (health service) whose interceptor authenticates every
// call and records the principal.
type grpcFixture struct {
	addr string
	ca   *authtest.CA
	iss  *authtest.Issuer

	mu    sync.Mutex
	seen  []*auth.Principal
	calls int
}

func startGRPC(t *testing.T, ids ...auth.Identity) *grpcFixture {
	t.Helper()
	f := &grpcFixture{ca: authtest.NewCA(t), iss: authtest.NewIssuer(t)}
	idFile := authtest.WriteIdentities(t, ids...)
	tlsCfg, err := auth.ServerTLS(f.ca.ServerTLSConfig(idFile))
	if err != nil {
		t.Fatal(err)
	}
	certs, err := auth.LoadCertMapper(idFile)
	if err != nil {
		t.Fatal(err)
	}
	a := &auth.Authenticator{JWT: f.iss.Verifier(t), Certs: certs}
	srv := grpc.NewServer(
		grpc.Creds(credentials.NewTLS(tlsCfg)),
		grpc.UnaryInterceptor(func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
			f.mu.Lock()
			f.calls++
			f.mu.Unlock()
			ctx, err := a.Authenticate(ctx, info.FullMethod)
			if err != nil {
				return nil, err
			}
			p, _ := auth.FromContext(ctx)
			f.mu.Lock()
			f.seen = append(f.seen, p)
			f.mu.Unlock()
			return h(ctx, req)
		}),
	)
	healthpb.RegisterHealthServer(srv, health.NewServer())
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	f.addr = lis.Addr().String()
	return f
}

// call makes one health check with the given TLS config and per-call options; it returns the
// principal the server saw.
func (f *grpcFixture) call(t *testing.T, ctx context.Context, tc *tls.Config, opts ...grpc.DialOption) (*auth.Principal, error) {
	t.Helper()
	conn, err := grpc.NewClient(f.addr, append([]grpc.DialOption{grpc.WithTransportCredentials(credentials.NewTLS(tc))}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	f.mu.Lock()
	n := len(f.seen)
	f.mu.Unlock()
	_, err = healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.seen) != n+1 {
		t.Fatalf("the server saw %d calls, want %d", len(f.seen), n+1)
	}
	return f.seen[n], nil
}

var shelterIdentity = auth.Identity{Match: "spiffe://nrm.gov.al/kksat/case-system", Institution: "KKSAT", Subject: "kksat-case-system", Roles: []string{"caseworker", "member"}}
var referralIdentity = auth.Identity{Match: "spiffe://nrm.gov.al/svc/referral", Institution: "NRM", Subject: "svc-referral", Roles: []string{"service"}}

func TestMutualTLSOverGRPC(t *testing.T) {
	f := startGRPC(t, shelterIdentity, referralIdentity)
	ctx := context.Background()

	t.Run("known client certificate", func(t *testing.T) {
		p, err := f.call(t, ctx, f.ca.ClientTLS(f.ca.ClientCert(t, "shelter", shelterIdentity.Match)))
		if err != nil {
			t.Fatal(err)
		}
		want := &auth.Principal{Institution: "KKSAT", Subject: "kksat-case-system", Roles: []auth.Role{auth.RoleCaseworker, auth.RoleMember}, Method: auth.MethodMTLS}
		if !reflect.DeepEqual(withoutCredential(p), want) {
			t.Errorf("principal %+v, want %+v", p, want)
		}
	})
	t.Run("client certificate from an unknown CA", func(t *testing.T) {
		other := authtest.NewCA(t)
		f.mu.Lock()
		before := f.calls
		f.mu.Unlock()
		// Same identity, different CA: the handshake must fail whatever the certificate says.
		_, err := f.call(t, ctx, f.ca.ClientTLS(other.ClientCert(t, "shelter", shelterIdentity.Match)))
		if status.Code(err) != codes.Unavailable {
			t.Errorf("error %v, want Unavailable (handshake refused)", err)
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.calls != before {
			t.Error("a call from an untrusted certificate reached the server")
		}
	})
	t.Run("valid CA, unmapped identity", func(t *testing.T) {
		_, err := f.call(t, ctx, f.ca.ClientTLS(f.ca.ClientCert(t, "stranger", "spiffe://nrm.gov.al/stranger")))
		if st := status.Convert(err); st.Code() != codes.Unauthenticated || st.Message() != "client certificate not recognised" {
			t.Errorf("error %v, want Unauthenticated client certificate not recognised", err)
		}
	})
	t.Run("no certificate, bearer token over TLS", func(t *testing.T) {
		tok := f.iss.Token(t, "MB-SEKRETARIATI", auth.RoleSecretariat)
		p, err := f.call(t, metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+tok), f.ca.ClientTLS(nil))
		if err != nil {
			t.Fatal(err)
		}
		if p.Institution != "MB-SEKRETARIATI" || p.Method != auth.MethodJWT || !p.Has(auth.RoleSecretariat) {
			t.Errorf("principal %+v", p)
		}
	})
	t.Run("no certificate, no token", func(t *testing.T) {
		_, err := f.call(t, ctx, f.ca.ClientTLS(nil))
		if status.Code(err) != codes.Unauthenticated {
			t.Errorf("error %v, want Unauthenticated", err)
		}
	})
	t.Run("TLS 1.2 refused", func(t *testing.T) {
		tc := f.ca.ClientTLS(nil)
		tc.MinVersion, tc.MaxVersion = tls.VersionTLS12, tls.VersionTLS12
		_, err := f.call(t, ctx, tc)
		if status.Code(err) != codes.Unavailable {
			t.Errorf("error %v, want Unavailable (handshake refused)", err)
		}
	})
}

// TestOnBehalfOfOverGRPC runs the chain the architecture describes: a user calls service A
// with a token; A calls service B with its own credentials and the user's token; B sees both.
func TestOnBehalfOfOverGRPC(t *testing.T) {
	f := startGRPC(t, shelterIdentity, referralIdentity)
	userTok := f.iss.Token(t, "ASP-ANTITRAF", auth.RoleCaseworker, auth.RoleMember)
	svcTok := f.iss.TokenFor(t, auth.Principal{Institution: "NRM", Subject: "svc-secretariat", Roles: []auth.Role{auth.RoleService}}, time.Hour)
	user := &auth.Principal{Institution: "ASP-ANTITRAF", Subject: "test-asp-antitraf", Roles: []auth.Role{auth.RoleCaseworker, auth.RoleMember}, Method: auth.MethodJWT}

	// What service A's handler has: the context its Authenticator produced for the user's call.
	a := &auth.Authenticator{JWT: f.iss.Verifier(t)}
	inA, err := a.Authenticate(incoming(nil, "authorization", bearer(userTok)), "/a")
	if err != nil {
		t.Fatal(err)
	}

	t.Run("service with a token", func(t *testing.T) {
		creds := auth.ServiceCredentials(func(context.Context) (string, error) { return svcTok, nil }, true)
		p, err := f.call(t, inA, f.ca.ClientTLS(nil), grpc.WithPerRPCCredentials(creds))
		if err != nil {
			t.Fatal(err)
		}
		if p.Subject != "svc-secretariat" || !p.Has(auth.RoleService) || !reflect.DeepEqual(withoutCredential(p.OnBehalfOf), user) || p.Effective() != p.OnBehalfOf {
			t.Errorf("principal %+v on behalf of %+v, want svc-secretariat on behalf of %+v", p, p.OnBehalfOf, user)
		}
	})
	t.Run("service with a client certificate", func(t *testing.T) {
		creds := auth.ServiceCredentials(nil, true)
		tc := f.ca.ClientTLS(f.ca.ClientCert(t, "referral", referralIdentity.Match))
		p, err := f.call(t, inA, tc, grpc.WithPerRPCCredentials(creds))
		if err != nil {
			t.Fatal(err)
		}
		if p.Subject != "svc-referral" || p.Method != auth.MethodMTLS || !reflect.DeepEqual(withoutCredential(p.OnBehalfOf), user) {
			t.Errorf("principal %+v on behalf of %+v", p, p.OnBehalfOf)
		}
	})
	t.Run("member system certificate cannot act for a user", func(t *testing.T) {
		creds := auth.ServiceCredentials(nil, true)
		tc := f.ca.ClientTLS(f.ca.ClientCert(t, "shelter", shelterIdentity.Match))
		_, err := f.call(t, inA, tc, grpc.WithPerRPCCredentials(creds))
		if status.Code(err) != codes.PermissionDenied {
			t.Errorf("error %v, want PermissionDenied", err)
		}
	})
}
