package auth_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/nrm-albania/nrm/services/platform/auth"
)

func TestServiceCredentials(t *testing.T) {
	f := newAuthFixture(t)
	userTok := f.iss.Token(t, "ASP-ANTITRAF", auth.RoleCaseworker)
	svcTok := f.iss.TokenFor(t, auth.Principal{Institution: "NRM", Subject: "svc-a", Roles: []auth.Role{auth.RoleService}}, time.Hour)
	own := func(context.Context) (string, error) { return "own-token", nil }

	authed := func(t *testing.T, kv ...string) context.Context {
		t.Helper()
		ctx, err := f.a.Authenticate(incoming(nil, kv...), "/m")
		if err != nil {
			t.Fatal(err)
		}
		return ctx
	}
	authedByCert := func(t *testing.T) context.Context {
		t.Helper()
		ctx, err := f.a.Authenticate(incoming(f.shelterCert), "/m")
		if err != nil {
			t.Fatal(err)
		}
		return ctx
	}

	cases := []struct {
		name  string
		token func(context.Context) (string, error)
		ctx   func(t *testing.T) context.Context
		want  map[string]string
		err   error
	}{
		{"no caller: the service as itself", own, func(*testing.T) context.Context { return context.Background() },
			map[string]string{"authorization": "Bearer own-token"}, nil},
		{"caller with a token", own, func(t *testing.T) context.Context { return authed(t, "authorization", bearer(userTok)) },
			map[string]string{"authorization": "Bearer own-token", "x-nrm-on-behalf-of": "Bearer " + userTok}, nil},
		{"a call that came on behalf of someone forwards that someone", own,
			func(t *testing.T) context.Context {
				return authed(t, "authorization", bearer(svcTok), "x-nrm-on-behalf-of", bearer(userTok))
			},
			map[string]string{"authorization": "Bearer own-token", "x-nrm-on-behalf-of": "Bearer " + userTok}, nil},
		{"a service caller with a token is forwarded as the caller", own, func(t *testing.T) context.Context { return authed(t, "authorization", bearer(svcTok)) },
			map[string]string{"authorization": "Bearer own-token", "x-nrm-on-behalf-of": "Bearer " + svcTok}, nil},
		{"caller by certificate cannot be forwarded", own, authedByCert, nil, auth.ErrCallerNotForwardable},
		{"caller by certificate, detached on purpose", own, func(t *testing.T) context.Context { return auth.DetachCaller(authedByCert(t)) },
			map[string]string{"authorization": "Bearer own-token"}, nil},
		{"token caller, detached on purpose", own, func(t *testing.T) context.Context {
			return auth.DetachCaller(authed(t, "authorization", bearer(userTok)))
		}, map[string]string{"authorization": "Bearer own-token"}, nil},
		{"a principal put in the context by hand", own, func(*testing.T) context.Context {
			return auth.NewContext(context.Background(), &auth.Principal{Institution: "KKSAT", Subject: "x", Roles: []auth.Role{auth.RoleChair}, Method: auth.MethodJWT})
		}, nil, auth.ErrCallerNotForwardable},
		{"the principal replaced after authentication", own, func(t *testing.T) context.Context {
			ctx := authed(t, "authorization", bearer(userTok))
			return auth.NewContext(ctx, &auth.Principal{Institution: "MB-DPAM", Subject: "y", Roles: []auth.Role{auth.RoleChair}, Method: auth.MethodJWT})
		}, nil, auth.ErrCallerNotForwardable},
		{"certificate-authenticated service: no own token", nil, func(t *testing.T) context.Context { return authed(t, "authorization", bearer(userTok)) },
			map[string]string{"x-nrm-on-behalf-of": "Bearer " + userTok}, nil},
		{"own token fails", func(context.Context) (string, error) { return "", errors.New("token endpoint down") },
			func(*testing.T) context.Context { return context.Background() }, nil, errors.New("token endpoint down")},
		{"own token empty", func(context.Context) (string, error) { return "", nil },
			func(*testing.T) context.Context { return context.Background() }, nil, errors.New("empty")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			creds := auth.ServiceCredentials(c.token, true)
			md, err := creds.GetRequestMetadata(c.ctx(t), "https://svc/x")
			if c.err != nil {
				if err == nil {
					t.Fatalf("metadata %v, want an error", md)
				}
				if !errors.Is(err, c.err) && !strings.Contains(err.Error(), c.err.Error()) {
					t.Errorf("error %v, want %v", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(md, c.want) {
				t.Errorf("metadata %v, want %v", md, c.want)
			}
		})
	}
	if !auth.ServiceCredentials(own, true).RequireTransportSecurity() || auth.ServiceCredentials(own, false).RequireTransportSecurity() {
		t.Error("RequireTransportSecurity does not follow requireTLS")
	}
}
