package authz

import (
	"context"
	"slices"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/nrm-albania/nrm/services/platform/apierr"
	"github.com/nrm-albania/nrm/services/platform/auth"
)

// PurposeKey is the gRPC metadata key (REST header X-NRM-Purpose) in which a caller states why
// it reads personal data; the purpose goes into the audit trail.
const PurposeKey = "x-nrm-purpose"

// MaxPurpose bounds a stated purpose.
const MaxPurpose = 200

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
	if _, err := Purpose(ctx, rule.PurposeRequired); err != nil {
		return nil, err
	}
	return ctx, nil
}

// Purpose returns the purpose the caller stated, validated; required says whether it must be
// there.
func Purpose(ctx context.Context, required bool) (string, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	vals := md.Get(PurposeKey)
	switch {
	case len(vals) == 0 && required:
		return "", apierr.InvalidField(PurposeKey, "state why you need this data (REST header X-NRM-Purpose)")
	case len(vals) == 0:
		return "", nil
	case len(vals) > 1:
		return "", apierr.InvalidField(PurposeKey, "must be sent once")
	}
	p := strings.TrimSpace(vals[0])
	if p == "" && required {
		return "", apierr.InvalidField(PurposeKey, "must not be blank")
	}
	if len(p) > MaxPurpose {
		return "", apierr.InvalidField(PurposeKey, "must be at most %d bytes", MaxPurpose)
	}
	for _, r := range p {
		if r < 0x20 || r == 0x7f {
			return "", apierr.InvalidField(PurposeKey, "must not contain control characters")
		}
	}
	return p, nil
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
