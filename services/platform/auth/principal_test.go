package auth_test

import (
	"context"
	"testing"

	"github.com/nrm-albania/nrm/services/platform/auth"
)

func TestParseRole(t *testing.T) {
	for _, r := range auth.AllRoles() {
		if got, ok := auth.ParseRole(string(r)); !ok || got != r {
			t.Errorf("ParseRole(%q) = %q, %v", r, got, ok)
		}
	}
	for _, s := range []string{"", "Chair", "CHAIR", " chair", "admin", "root"} {
		if _, ok := auth.ParseRole(s); ok {
			t.Errorf("ParseRole(%q) accepted", s)
		}
	}
	if n := len(auth.AllRoles()); n != 8 {
		t.Errorf("%d roles, want 8", n)
	}
	roles := auth.AllRoles()
	roles[0] = "root"
	if _, ok := auth.ParseRole("root"); ok {
		t.Error("changing the AllRoles result changed the roles")
	}
}

func TestPrincipal(t *testing.T) {
	user := &auth.Principal{Institution: "ASP-ANTITRAF", Subject: "u", Roles: []auth.Role{auth.RoleCaseworker}}
	svc := &auth.Principal{Institution: "NRM", Subject: "svc", Roles: []auth.Role{auth.RoleService}, OnBehalfOf: user}
	if !user.Has(auth.RoleCaseworker) || user.Has(auth.RoleService) {
		t.Error("Has on the user")
	}
	if svc.Has(auth.RoleCaseworker) {
		t.Error("Has looks through OnBehalfOf; it must not")
	}
	if user.Effective() != user || svc.Effective() != user {
		t.Error("Effective")
	}
	var none *auth.Principal
	if none.Has(auth.RoleChair) || none.Effective() != nil {
		t.Error("nil principal")
	}
	ctx := auth.NewContext(context.Background(), svc)
	if p, ok := auth.FromContext(ctx); !ok || p != svc {
		t.Error("context round trip")
	}
	if _, ok := auth.FromContext(context.Background()); ok {
		t.Error("principal in an empty context")
	}
	if _, ok := auth.FromContext(auth.DetachCaller(ctx)); ok {
		t.Error("principal visible after DetachCaller")
	}
}
