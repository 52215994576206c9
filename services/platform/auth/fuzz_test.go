package auth_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/nrm-albania/nrm/services/platform/auth"
	"github.com/nrm-albania/nrm/services/platform/auth/authtest"
)

// FuzzVerify feeds arbitrary strings to Verify: it must never panic, never accept a token it
// was not given (the only valid tokens are the seeds; a signature cannot be guessed and the
// canonical-encoding check rules out respellings), and never echo its input in an error.
func FuzzVerify(f *testing.F) {
	v, _ := verifierFor(f, nil, "rsa-1", "ec-1", "ed-1")
	valid := map[string]bool{}
	for _, tok := range []string{
		sign(f, "rsa-1", jwa.RS256(), claims(nil), nil),
		sign(f, "ed-1", jwa.EdDSA(), claims(nil), nil),
		sign(f, "ed-1", jwa.EdDSA(), claims(map[string]any{"aud": testAudience, "nrm_roles": []string{"service"}}), nil),
	} {
		valid[tok] = true
		f.Add(tok)
	}
	for _, tok := range []string{
		"", ".", "..", "a.b.c", "e30.e30.", "e30.e30.e30",
		rawToken(f, map[string]any{"alg": "none", "kid": "ed-1"}, claims(nil), nil),
		rawToken(f, map[string]any{"alg": "HS256", "kid": "rsa-1"}, claims(nil), func(string) []byte { return []byte("k") }),
		sign(f, "ed-1", jwa.EdDSA(), claims(map[string]any{"exp": time.Now().Add(-time.Hour).Unix()}), nil),
		sign(f, "ed-2", jwa.EdDSA(), claims(nil), nil),
		sign(f, "ed-1", jwa.EdDSA(), claims(map[string]any{"nrm_roles": []any{"member", map[string]any{"x": 1}}}), nil),
		sign(f, "ed-1", jwa.EdDSA(), claims(map[string]any{"nrm_institution": []string{"A"}, "sub": 5}), nil),
	} {
		f.Add(tok)
	}
	f.Fuzz(func(t *testing.T, token string) {
		p, err := v.Verify(context.Background(), token)
		if err == nil {
			if !valid[token] {
				t.Fatalf("accepted a token that was never issued: %q → %+v", token, p)
			}
			if p == nil || p.Method != auth.MethodJWT || len(p.Roles) == 0 {
				t.Fatalf("accepted with principal %+v", p)
			}
			return
		}
		var te *auth.TokenError
		if !errors.As(err, &te) {
			t.Fatalf("error %T %v is not a *auth.TokenError", err, err)
		}
		if len(token) >= 12 && strings.Contains(err.Error(), token) {
			t.Fatalf("error %q echoes the token", err)
		}
	})
}

// FuzzAuthenticateMetadata feeds arbitrary authorization and x-nrm-on-behalf-of values (one,
// two or none of each) to the Authenticator.
func FuzzAuthenticateMetadata(f *testing.F) {
	iss := authtest.NewIssuer(f)
	a := &auth.Authenticator{JWT: iss.Verifier(f)}
	user := iss.Token(f, "ASP-ANTITRAF", auth.RoleCaseworker)
	svc := iss.TokenFor(f, auth.Principal{Institution: "NRM", Subject: "svc", Roles: []auth.Role{auth.RoleService}}, time.Hour)
	valid := map[string]bool{user: true, svc: true}

	// layout bits: 1 = send authorization, 2 = send on-behalf-of, 4 = send authorization twice,
	// 8 = send on-behalf-of twice.
	f.Add("Bearer "+user, "", uint8(1))
	f.Add("Bearer "+svc, "Bearer "+user, uint8(3))
	f.Add("Bearer "+user, "Bearer "+svc, uint8(3))
	f.Add("bearer  "+svc, "BEARER "+user, uint8(3))
	f.Add("Bearer "+svc, "Bearer "+user, uint8(11))
	f.Add("Bearer "+user, "", uint8(5))
	f.Add("", "Bearer "+user, uint8(2))
	f.Add("Basic Zm9vOmJhcg==", "", uint8(1))
	f.Add("Bearer ", "Bearer", uint8(3))
	f.Add("Bearer a.b.c", "x", uint8(3))
	f.Fuzz(func(t *testing.T, authz, obo string, layout uint8) {
		md := metadata.MD{}
		if layout&1 != 0 {
			md["authorization"] = []string{authz}
			if layout&4 != 0 {
				md["authorization"] = append(md["authorization"], authz)
			}
		}
		if layout&2 != 0 {
			md["x-nrm-on-behalf-of"] = []string{obo}
			if layout&8 != 0 {
				md["x-nrm-on-behalf-of"] = append(md["x-nrm-on-behalf-of"], obo)
			}
		}
		ctx, err := a.Authenticate(metadata.NewIncomingContext(context.Background(), md), "/m")
		if err == nil {
			p, ok := auth.FromContext(ctx)
			if !ok {
				t.Fatal("accepted without a principal")
			}
			if layout&(1|4) != 1 || !valid[bearerToken(authz)] {
				t.Fatalf("accepted authorization %q (layout %b)", authz, layout)
			}
			if layout&2 != 0 {
				if layout&8 != 0 || !p.Has(auth.RoleService) || p.OnBehalfOf == nil || !valid[bearerToken(obo)] {
					t.Fatalf("accepted on-behalf-of %q for %+v (layout %b)", obo, p, layout)
				}
			} else if p.OnBehalfOf != nil {
				t.Fatal("on-behalf-of without the header")
			}
			return
		}
		st, ok := status.FromError(err)
		if !ok {
			t.Fatalf("error %v is not a status", err)
		}
		if c := st.Code(); c != codes.Unauthenticated && c != codes.PermissionDenied {
			t.Fatalf("code %s: %s", c, st.Message())
		}
		for _, v := range []string{authz, obo, bearerToken(authz), bearerToken(obo)} {
			if len(v) >= 12 && strings.Contains(st.Message(), v) {
				t.Fatalf("message %q echoes a credential", st.Message())
			}
		}
	})
}

// bearerToken is the token part of a "Bearer <token>" value, "" if there is none.
func bearerToken(v string) string {
	scheme, tok, ok := strings.Cut(v, " ")
	if !ok || !strings.EqualFold(scheme, "bearer") {
		return ""
	}
	return strings.TrimLeft(tok, " ")
}
