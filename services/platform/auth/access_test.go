package auth_test

import (
	"slices"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/nrm-albania/nrm/services/platform/auth"
)

// admitOnly admits the principals of the listed institutions and records whom it was asked.
type admitOnly struct {
	institutions map[string]bool
	asked        []*auth.Principal
}

func (a *admitOnly) Admit(p *auth.Principal) error {
	a.asked = append(a.asked, p)
	if !a.institutions[p.Institution] {
		return status.Error(codes.PermissionDenied, "institution "+p.Institution+" unknown")
	}
	return nil
}

func TestAuthenticateAdmitsTheCallerAndWhomItActsFor(t *testing.T) {
	f := newAuthFixture(t)
	police := f.iss.Token(t, "ASP-ANTITRAF", auth.RoleCaseworker)
	stranger := f.iss.Token(t, "ZZ-UNKNOWN", auth.RoleCaseworker)
	svc := f.iss.TokenFor(t, auth.Principal{Institution: "NRM", Subject: "svc-referral", Roles: []auth.Role{auth.RoleService}}, time.Hour)

	cases := []struct {
		name  string
		known []string
		md    []string
		code  codes.Code
		asked []string // institutions the access check saw, in order
	}{
		{"known caller", []string{"ASP-ANTITRAF"}, []string{"authorization", bearer(police)}, codes.OK, []string{"ASP-ANTITRAF"}},
		{"signed token of an unknown institution", []string{"ASP-ANTITRAF"}, []string{"authorization", bearer(stranger)}, codes.PermissionDenied, []string{"ZZ-UNKNOWN"}},
		{"service for a known caller", []string{"NRM", "ASP-ANTITRAF"},
			[]string{"authorization", bearer(svc), auth.OnBehalfOfKey, bearer(police)}, codes.OK, []string{"NRM", "ASP-ANTITRAF"}},
		{"service for an unknown caller", []string{"NRM", "ASP-ANTITRAF"},
			[]string{"authorization", bearer(svc), auth.OnBehalfOfKey, bearer(stranger)}, codes.PermissionDenied, []string{"NRM", "ZZ-UNKNOWN"}},
		{"unknown service for a known caller", []string{"ASP-ANTITRAF"},
			[]string{"authorization", bearer(svc), auth.OnBehalfOfKey, bearer(police)}, codes.PermissionDenied, []string{"NRM"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			check := &admitOnly{institutions: map[string]bool{}}
			for _, k := range c.known {
				check.institutions[k] = true
			}
			a := &auth.Authenticator{JWT: f.a.JWT, Access: check}
			ctx, err := a.Authenticate(incoming(nil, c.md...), "/x.Y/Z")
			if status.Code(err) != c.code {
				t.Fatalf("err = %v, want %s", err, c.code)
			}
			if err == nil {
				if _, ok := auth.FromContext(ctx); !ok {
					t.Fatal("admitted without a principal in the context")
				}
			}
			var asked []string
			for _, p := range check.asked {
				asked = append(asked, p.Institution)
			}
			if !slices.Equal(asked, c.asked) {
				t.Fatalf("the access check saw %v, want %v", asked, c.asked)
			}
		})
	}
}

// The access check can only revoke what the principal identifies: the token's jti and issue
// time, and a certificate's NotBefore.
func TestCredentialIsCarried(t *testing.T) {
	f := newAuthFixture(t)
	issued := time.Now().Add(-time.Minute).Truncate(time.Second)
	tok := f.iss.Sign(t, map[string]any{"iss": f.iss.Issuer, "aud": f.iss.Audience, "sub": "officer-7", "jti": "jti-42",
		"iat": issued.Unix(), "exp": time.Now().Add(time.Hour).Unix(), "nrm_institution": "ASP-ANTITRAF", "nrm_roles": []string{"caseworker"}})
	ctx, err := f.a.Authenticate(incoming(nil, "authorization", bearer(tok)), "/x.Y/Z")
	if err != nil {
		t.Fatal(err)
	}
	p, _ := auth.FromContext(ctx)
	if p.Credential.TokenID != "jti-42" || !p.Credential.IssuedAt.Equal(issued) {
		t.Fatalf("token credential %+v, want jti-42 issued %s", p.Credential, issued)
	}

	ctx, err = f.a.Authenticate(incoming(f.shelterCert), "/x.Y/Z")
	if err != nil {
		t.Fatal(err)
	}
	p, _ = auth.FromContext(ctx)
	if p.Credential.TokenID != "" || !p.Credential.IssuedAt.Equal(f.shelterCert.NotBefore) {
		t.Fatalf("certificate credential %+v, want its NotBefore %s", p.Credential, f.shelterCert.NotBefore)
	}
}
