package gateway_test

import (
	"context"
	"net"
	"net/http"
	"sync"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/peer"

	"github.com/nrm-albania/nrm/gateway"
	caseregistryv1 "github.com/nrm-albania/nrm/proto/nrm/caseregistry/v1"
	"github.com/nrm-albania/nrm/services/platform/auth"
	"github.com/nrm-albania/nrm/services/platform/auth/authtest"
)

// tlsRegistry is a case registry served over TLS only, authenticating callers with the
// platform's Authenticator as a service does: tokens, and the client certificates of its
// identities file. It records who each call came from and whether a probe showed a certificate.
type tlsRegistry struct {
	addr string
	*fake

	mu         sync.Mutex
	callers    []string // institution/subject of each authenticated call
	probeCerts []bool   // per health check: whether a verified client certificate came with it
}

func startTLSRegistry(t *testing.T, ca *authtest.CA, issuer *authtest.Issuer, gatewayCert *authtest.Cert) *tlsRegistry {
	t.Helper()
	ids := authtest.WriteIdentities(t, auth.Identity{
		Match: gatewayCert.X509.Subject.CommonName, Institution: "NRM-GATEWAY", Subject: "gateway", Roles: []string{"service"},
	})
	tc, err := auth.ServerTLS(ca.ServerTLSConfig(ids))
	if err != nil {
		t.Fatal(err)
	}
	certs, err := auth.LoadCertMapper(ids)
	if err != nil {
		t.Fatal(err)
	}
	authn := &auth.Authenticator{JWT: issuer.Verifier(t), Certs: certs}
	reg := &tlsRegistry{fake: &fake{replies: map[string]reply{"GetCase": respond(&caseregistryv1.GetCaseResponse{Case: sampleCase()})}}}
	guard := func(ctx context.Context, req any, info *grpc.UnaryServerInfo, next grpc.UnaryHandler) (any, error) {
		if info.FullMethod == healthpb.Health_Check_FullMethodName {
			// Health is open to anyone, as on a service; note whether a certificate came.
			pr, _ := peer.FromContext(ctx)
			info, _ := pr.AuthInfo.(credentials.TLSInfo)
			reg.mu.Lock()
			reg.probeCerts = append(reg.probeCerts, len(info.State.VerifiedChains) > 0)
			reg.mu.Unlock()
			return next(ctx, req)
		}
		ctx, err := authn.Authenticate(ctx, info.FullMethod)
		if err != nil {
			return nil, err
		}
		p, _ := auth.FromContext(ctx)
		reg.mu.Lock()
		reg.callers = append(reg.callers, p.Institution+"/"+p.Subject)
		reg.mu.Unlock()
		return next(ctx, req)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	reg.addr = lis.Addr().String()
	srv := grpc.NewServer(grpc.Creds(credentials.NewTLS(tc)), grpc.UnaryInterceptor(guard))
	caseregistryv1.RegisterCaseRegistryServiceServer(srv, caseRegistry{fake: reg.fake})
	hs := health.NewServer()
	hs.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(srv, hs)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return reg
}

func TestBackendTLS(t *testing.T) {
	ca := authtest.NewCA(t)
	gatewayCert := ca.ClientCert(t, "nrm-gateway")
	otherCA := authtest.NewCA(t)
	tests := []struct {
		name   string
		adjust func(*gateway.Config)
		status int
	}{
		{"plain text to a TLS service", func(*gateway.Config) {}, http.StatusServiceUnavailable},
		{"TLS with the services' CA", func(c *gateway.Config) { c.BackendTLSCAFile = ca.CertFile }, http.StatusOK},
		{"TLS with a client certificate", func(c *gateway.Config) {
			c.BackendTLSCAFile, c.BackendTLSCertFile, c.BackendTLSKeyFile = ca.CertFile, gatewayCert.CertFile, gatewayCert.KeyFile
		}, http.StatusOK},
		{"TLS with the name in the service's certificate", func(c *gateway.Config) {
			c.BackendTLSCAFile, c.BackendTLSServerName = ca.CertFile, "localhost"
		}, http.StatusOK},
		{"TLS with a name not in the service's certificate", func(c *gateway.Config) {
			c.BackendTLSCAFile, c.BackendTLSServerName = ca.CertFile, "caseregistry.nrm.internal"
		}, http.StatusServiceUnavailable},
		{"TLS with another CA", func(c *gateway.Config) { c.BackendTLSCAFile = otherCA.CertFile }, http.StatusServiceUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			issuer := authtest.NewIssuer(t)
			reg := startTLSRegistry(t, ca, issuer, gatewayCert)
			e := startWithIssuer(t, issuer, func(c *gateway.Config) {
				c.CaseRegistryAddr = reg.addr
				tt.adjust(c)
			})
			r := e.do(t, http.MethodGet, e.api+"/v1/cases/c-0001", "", e.bearer(t, "KKSAT", "ana"))
			if r.status != tt.status {
				t.Fatalf("status %d, want %d; body %s", r.status, tt.status, r.body)
			}
			reg.mu.Lock()
			callers := reg.callers
			reg.mu.Unlock()
			if tt.status != http.StatusOK {
				wantError(t, r, tt.status, int(codes.Unavailable))
				if len(callers) != 0 {
					t.Errorf("calls reached the service: %v", callers)
				}
				return
			}
			// The call is the user's, whatever certificate the gateway has.
			if len(callers) != 1 || callers[0] != "KKSAT/ana" {
				t.Errorf("the service saw the callers %v, want KKSAT/ana", callers)
			}

			ready := decode(t, e.do(t, http.MethodGet, e.admin+"/readyz", "").body)
			if checks, _ := ready["checks"].(map[string]any); checks["caseregistry"] != "ok" {
				t.Errorf("readiness of the TLS service: %v", ready)
			}
			reg.mu.Lock()
			probes := reg.probeCerts
			reg.mu.Unlock()
			wantCert := e.cfg.BackendTLSCertFile != ""
			if len(probes) == 0 || probes[len(probes)-1] != wantCert {
				t.Errorf("probes presented a certificate: %v, want %t", probes, wantCert)
			}
		})
	}
}
