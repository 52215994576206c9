package auth_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/nrm-albania/nrm/services/platform/auth"
	"github.com/nrm-albania/nrm/services/platform/auth/authtest"
)

// The method set the gRPC server's authentication slot calls.
var _ interface {
	Authenticate(ctx context.Context, fullMethod string) (context.Context, error)
} = (*auth.Authenticator)(nil)

// authFixture is an Authenticator with a token issuer and a CA whose certificates map to a
// member system (the shelter's case system) and to a service.
type authFixture struct {
	iss         *authtest.Issuer
	ca          *authtest.CA
	a           *auth.Authenticator
	shelterCert *x509.Certificate
	serviceCert *x509.Certificate
	unknownCert *x509.Certificate
}

func newAuthFixture(t *testing.T) *authFixture {
	t.Helper()
	f := &authFixture{iss: authtest.NewIssuer(t), ca: authtest.NewCA(t)}
	certs, err := auth.NewCertMapper([]auth.Identity{
		{Match: "spiffe://nrm.gov.al/kksat/case-system", Institution: "KKSAT", Subject: "kksat-case-system", Roles: []string{"caseworker", "member"}},
		{Match: "referral.nrm.internal", Institution: "NRM", Subject: "svc-referral", Roles: []string{"service"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	f.a = &auth.Authenticator{JWT: f.iss.Verifier(t), Certs: certs}
	f.shelterCert = f.ca.ClientCert(t, "kksat", "spiffe://nrm.gov.al/kksat/case-system").X509
	f.serviceCert = f.ca.ClientCert(t, "referral.nrm.internal").X509
	f.unknownCert = f.ca.ClientCert(t, "stranger", "spiffe://nrm.gov.al/stranger").X509
	return f
}

// incoming builds a server-side context with metadata pairs and, when cert is set, a TLS peer
// whose verified chain ends in cert.
func incoming(cert *x509.Certificate, kv ...string) context.Context {
	md := metadata.MD{}
	for i := 0; i+1 < len(kv); i += 2 {
		md.Append(kv[i], kv[i+1])
	}
	ctx := metadata.NewIncomingContext(context.Background(), md)
	pr := &peer.Peer{Addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5000}}
	if cert != nil {
		pr.AuthInfo = credentials.TLSInfo{State: tls.ConnectionState{VerifiedChains: [][]*x509.Certificate{{cert}}}}
	}
	return peer.NewContext(ctx, pr)
}

func bearer(tok string) string { return "Bearer " + tok }

func TestAuthenticate(t *testing.T) {
	f := newAuthFixture(t)
	user := f.iss.Token(t, "ASP-ANTITRAF", auth.RoleCaseworker, auth.RoleMember)
	otherUser := f.iss.Token(t, "KKSAT", auth.RoleCaseworker)
	svc := f.iss.TokenFor(t, auth.Principal{Institution: "NRM", Subject: "svc-secretariat", Roles: []auth.Role{auth.RoleService}}, time.Hour)
	expired := f.iss.Sign(t, map[string]any{"iss": f.iss.Issuer, "aud": f.iss.Audience, "sub": "x", "exp": time.Now().Add(-time.Hour).Unix(),
		"nrm_institution": "ASP-ANTITRAF", "nrm_roles": []string{"member"}})
	wrongAud := f.iss.Sign(t, map[string]any{"iss": f.iss.Issuer, "aud": "elsewhere", "sub": "x", "exp": time.Now().Add(time.Hour).Unix(),
		"nrm_institution": "ASP-ANTITRAF", "nrm_roles": []string{"member"}})

	userP := &auth.Principal{Institution: "ASP-ANTITRAF", Subject: "test-asp-antitraf", Roles: []auth.Role{auth.RoleCaseworker, auth.RoleMember}, Method: auth.MethodJWT}
	svcP := &auth.Principal{Institution: "NRM", Subject: "svc-secretariat", Roles: []auth.Role{auth.RoleService}, Method: auth.MethodJWT}
	shelterP := &auth.Principal{Institution: "KKSAT", Subject: "kksat-case-system", Roles: []auth.Role{auth.RoleCaseworker, auth.RoleMember}, Method: auth.MethodMTLS}
	certSvcP := &auth.Principal{Institution: "NRM", Subject: "svc-referral", Roles: []auth.Role{auth.RoleService}, Method: auth.MethodMTLS}
	with := func(p *auth.Principal, obo *auth.Principal) *auth.Principal {
		c := *p
		c.OnBehalfOf = obo
		return &c
	}

	cases := []struct {
		name    string
		a       *auth.Authenticator
		ctx     context.Context
		want    *auth.Principal
		code    codes.Code
		msg     string // substring of the status message
		reason  string // ErrorInfo reason
		secrets []string
	}{
		{name: "bearer token", ctx: incoming(nil, "authorization", bearer(user)), want: userP},
		{name: "bearer scheme in lower case", ctx: incoming(nil, "authorization", "bearer "+user), want: userP},
		{name: "client certificate by URI SAN", ctx: incoming(f.shelterCert), want: shelterP},
		{name: "client certificate by CN", ctx: incoming(f.serviceCert), want: certSvcP},
		{name: "nothing", ctx: incoming(nil), code: codes.Unauthenticated,
			msg: "missing credentials: send a bearer token or a client certificate", reason: "CREDENTIALS_MISSING"},
		{name: "no metadata at all", ctx: context.Background(), code: codes.Unauthenticated, reason: "CREDENTIALS_MISSING"},
		{name: "expired token", ctx: incoming(nil, "authorization", bearer(expired)), code: codes.Unauthenticated,
			msg: "invalid bearer token: expired", reason: "TOKEN_EXPIRED", secrets: []string{expired}},
		{name: "wrong audience", ctx: incoming(nil, "authorization", bearer(wrongAud)), code: codes.Unauthenticated,
			msg: "invalid bearer token: wrong audience", reason: "TOKEN_AUDIENCE", secrets: []string{wrongAud}},
		{name: "garbage token", ctx: incoming(nil, "authorization", "Bearer abc.def.ghi"), code: codes.Unauthenticated,
			msg: "invalid bearer token: malformed token", reason: "TOKEN_MALFORMED"},
		{name: "basic credentials", ctx: incoming(nil, "authorization", "Basic dXNlcjpwYXNz"), code: codes.Unauthenticated,
			reason: "TOKEN_MALFORMED", secrets: []string{"dXNlcjpwYXNz"}},
		{name: "bare token without scheme", ctx: incoming(nil, "authorization", user), code: codes.Unauthenticated, reason: "TOKEN_MALFORMED", secrets: []string{user}},
		{name: "empty bearer", ctx: incoming(nil, "authorization", "Bearer "), code: codes.Unauthenticated, reason: "TOKEN_MALFORMED"},
		{name: "two authorization values", ctx: incoming(nil, "authorization", bearer(user), "authorization", bearer(otherUser)),
			code: codes.Unauthenticated, reason: "CREDENTIALS_AMBIGUOUS", secrets: []string{user, otherUser}},
		{name: "certificate and token together", ctx: incoming(f.serviceCert, "authorization", bearer(user)),
			code: codes.Unauthenticated, reason: "CREDENTIALS_AMBIGUOUS", secrets: []string{user}},
		{name: "unmapped certificate", ctx: incoming(f.unknownCert), code: codes.Unauthenticated,
			msg: "client certificate not recognised", reason: "CERTIFICATE_UNKNOWN"},
		{name: "tokens off", a: &auth.Authenticator{Certs: f.a.Certs}, ctx: incoming(nil, "authorization", bearer(user)),
			code: codes.Unauthenticated, reason: "BEARER_NOT_ACCEPTED"},
		{name: "certificates off: a presented certificate is only transport", a: &auth.Authenticator{JWT: f.a.JWT},
			ctx: incoming(f.shelterCert, "authorization", bearer(user)), want: userP},
		{name: "certificates off and no token", a: &auth.Authenticator{JWT: f.a.JWT}, ctx: incoming(f.shelterCert),
			code: codes.Unauthenticated, reason: "CREDENTIALS_MISSING"},
		{name: "nothing configured", a: &auth.Authenticator{}, ctx: incoming(nil, "authorization", bearer(user)), code: codes.Internal},

		// On behalf of.
		{name: "service token on behalf of a user", ctx: incoming(nil, "authorization", bearer(svc), "x-nrm-on-behalf-of", bearer(user)),
			want: with(svcP, userP)},
		{name: "service certificate on behalf of a user", ctx: incoming(f.serviceCert, "x-nrm-on-behalf-of", bearer(user)),
			want: with(certSvcP, userP)},
		{name: "user claiming to act for another user", ctx: incoming(nil, "authorization", bearer(user), "x-nrm-on-behalf-of", bearer(otherUser)),
			code: codes.PermissionDenied, reason: "ON_BEHALF_OF_FORBIDDEN", secrets: []string{user, otherUser}},
		{name: "member system claiming to act for a user", ctx: incoming(f.shelterCert, "x-nrm-on-behalf-of", bearer(user)),
			code: codes.PermissionDenied, reason: "ON_BEHALF_OF_FORBIDDEN"},
		{name: "expired on-behalf-of token", ctx: incoming(nil, "authorization", bearer(svc), "x-nrm-on-behalf-of", bearer(expired)),
			code: codes.Unauthenticated, msg: "invalid on-behalf-of token: expired", reason: "TOKEN_EXPIRED", secrets: []string{svc, expired}},
		{name: "garbage on-behalf-of", ctx: incoming(nil, "authorization", bearer(svc), "x-nrm-on-behalf-of", "not a token"),
			code: codes.Unauthenticated, msg: "invalid on-behalf-of token", reason: "TOKEN_MALFORMED"},
		{name: "two on-behalf-of values", ctx: incoming(nil, "authorization", bearer(svc), "x-nrm-on-behalf-of", bearer(user), "x-nrm-on-behalf-of", bearer(otherUser)),
			code: codes.Unauthenticated, reason: "CREDENTIALS_AMBIGUOUS"},
		{name: "on-behalf-of alone", ctx: incoming(nil, "x-nrm-on-behalf-of", bearer(user)), code: codes.Unauthenticated, reason: "CREDENTIALS_MISSING"},
		{name: "invalid service token with on-behalf-of", ctx: incoming(nil, "authorization", bearer(expired), "x-nrm-on-behalf-of", bearer(user)),
			code: codes.Unauthenticated, reason: "TOKEN_EXPIRED"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := c.a
			if a == nil {
				a = f.a
			}
			ctx, err := a.Authenticate(c.ctx, "/nrm.caseregistry.v1.CaseRegistry/GetCase")
			if c.want != nil {
				if err != nil {
					t.Fatalf("Authenticate: %v", err)
				}
				p, ok := auth.FromContext(ctx)
				if !ok {
					t.Fatal("no principal in the context")
				}
				if !reflect.DeepEqual(withoutCredential(p), c.want) {
					t.Errorf("principal %+v (on behalf of %+v), want %+v (on behalf of %+v)", p, p.OnBehalfOf, c.want, c.want.OnBehalfOf)
				}
				return
			}
			st, ok := status.FromError(err)
			if !ok || err == nil {
				t.Fatalf("error %v is not a status", err)
			}
			if st.Code() != c.code {
				t.Errorf("code %s, want %s (%s)", st.Code(), c.code, st.Message())
			}
			if !strings.Contains(st.Message(), c.msg) {
				t.Errorf("message %q does not contain %q", st.Message(), c.msg)
			}
			if c.reason != "" && reasonOf(st) != c.reason {
				t.Errorf("reason %q, want %q", reasonOf(st), c.reason)
			}
			for _, s := range c.secrets {
				assertNoEcho(t, st.Message(), s)
				assertNoEcho(t, st.String(), s)
			}
		})
	}
}

func reasonOf(st *status.Status) string {
	for _, d := range st.Details() {
		if ei, ok := d.(*errdetails.ErrorInfo); ok {
			return ei.Reason
		}
	}
	return ""
}

func TestAuthenticateDoesNotShareMappedPrincipals(t *testing.T) {
	f := newAuthFixture(t)
	user := f.iss.Token(t, "ASP-ANTITRAF", auth.RoleMember)
	ctx, err := f.a.Authenticate(incoming(f.serviceCert, "x-nrm-on-behalf-of", bearer(user)), "/m")
	if err != nil {
		t.Fatal(err)
	}
	p, _ := auth.FromContext(ctx)
	p.Roles[0] = auth.RoleChair
	ctx, err = f.a.Authenticate(incoming(f.serviceCert), "/m")
	if err != nil {
		t.Fatal(err)
	}
	p, _ = auth.FromContext(ctx)
	if p.OnBehalfOf != nil || !reflect.DeepEqual(p.Roles, []auth.Role{auth.RoleService}) {
		t.Errorf("a previous call changed the mapping: %+v", p)
	}
}
