package authz

import (
	"context"
	"slices"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/nrm-albania/nrm/services/platform/apierr"
	"github.com/nrm-albania/nrm/services/platform/auth"
)

// Authenticator establishes who is calling.
type Authenticator interface {
	Authenticate(ctx context.Context, fullMethod string) (context.Context, error)
}

// Guard admits a call when its caller is authenticated and the table allows the caller's
// (effective) roles to call the method.
type Guard struct {
	Authn      Authenticator
	Table      map[string]Rule
	Reflection bool // reflection enabled, hence open
	// Purposes is the list of codes a stated purpose must be one of.
	Purposes Purposes
}

// Admit returns the context carrying the principal, or the status error that refuses the call.
func (g Guard) Admit(ctx context.Context, method string) (context.Context, error) {
	if Open[method] || (g.Reflection && Reflection[method]) {
		return ctx, nil
	}
	ctx, err := g.Authn.Authenticate(ctx, method)
	if err != nil {
		return nil, err
	}
	p, ok := auth.FromContext(ctx)
	if !ok {
		return nil, status.Error(codes.Unauthenticated, "no principal established")
	}
	rule, ok := g.Table[method]
	if !ok {
		return nil, denied("METHOD_NOT_ALLOWED", "no one may call "+method, map[string]string{"method": method})
	}
	eff := p.Effective()
	if !slices.ContainsFunc(rule.Roles, eff.Has) {
		return nil, denied("ROLE_NOT_ALLOWED",
			"your roles ("+roles(eff.Roles)+") may not call "+method+"; allowed: "+roles(rule.Roles),
			map[string]string{"method": method, "allowed_roles": roles(rule.Roles)})
	}
	purpose, err := g.Purposes.FromMetadata(ctx, rule.PurposeRequired)
	if err != nil {
		return nil, err
	}
	if purpose.Code != "" {
		ctx = WithPurpose(ctx, purpose)
	}
	return withNotes(ctx), nil
}

func denied(reason, msg string, meta map[string]string) error {
	st, err := status.New(codes.PermissionDenied, msg).WithDetails(
		&errdetails.ErrorInfo{Reason: reason, Domain: apierr.Domain, Metadata: meta})
	if err != nil {
		return status.Error(codes.PermissionDenied, msg)
	}
	return st.Err()
}

func roles(rs []auth.Role) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = string(r)
	}
	return strings.Join(s, ", ")
}
