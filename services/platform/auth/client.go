package auth

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/grpc/credentials"
)

// callerToken is the raw token of a JWT-authenticated caller, kept in the context (never in
// the Principal, which gets printed and logged) so that a service can forward it.
type callerToken struct {
	p     *Principal // the principal the token belongs to
	token string
}

type callerTokenKey struct{}

// DetachCaller returns ctx for work a service does as itself although a caller's request
// started it (say, a follow-up it owes the system rather than the caller). Calls made with it
// carry no on-behalf-of token, and the callee authorizes the service's own rights. Use it
// deliberately: without it, ServiceCredentials refuses to call for a caller whose token it
// cannot forward, rather than silently widening that caller's rights to the service's.
func DetachCaller(ctx context.Context) context.Context {
	// A nil principal hides the caller from FromContext; the forwardable token, keyed to
	// that caller, no longer matches anything.
	return NewContext(ctx, nil)
}

// ServiceCredentials is grpc.PerRPCCredentials sending the service's own bearer token and,
// when ctx carries a principal authenticated by JWT, that caller's original token in
// x-nrm-on-behalf-of (for a call that itself came on behalf of someone, that someone's token).
//
// When ctx carries a caller whose token cannot be forwarded (authenticated by client
// certificate, or a principal put in the context by hand), the call fails: the callee would
// otherwise see only the service and grant the service's rights. Use DetachCaller to act as
// the service on purpose.
//
// A service that authenticates with a client certificate passes a nil token: the callee
// refuses a certificate and a bearer token together, so only x-nrm-on-behalf-of is sent. requireTLS makes gRPC refuse to send the tokens over a connection
// without transport security.
func ServiceCredentials(token func(ctx context.Context) (string, error), requireTLS bool) credentials.PerRPCCredentials {
	return serviceCreds{token: token, requireTLS: requireTLS}
}

type serviceCreds struct {
	token      func(ctx context.Context) (string, error)
	requireTLS bool
}

// ErrCallerNotForwardable is returned when the caller in the context cannot be carried to the
// next service.
var ErrCallerNotForwardable = errors.New("auth: the caller's identity cannot be forwarded (not authenticated by a bearer token); use auth.DetachCaller to call as the service itself")

func (c serviceCreds) GetRequestMetadata(ctx context.Context, _ ...string) (map[string]string, error) {
	md := map[string]string{}
	if c.token != nil {
		own, err := c.token(ctx)
		if err != nil {
			return nil, fmt.Errorf("auth: service token: %w", err)
		}
		if own == "" {
			return nil, errors.New("auth: service token is empty")
		}
		md[AuthorizationKey] = "Bearer " + own
	}
	p, ok := FromContext(ctx)
	if !ok {
		return md, nil
	}
	eff := p.Effective()
	ct, _ := ctx.Value(callerTokenKey{}).(callerToken)
	if ct.p != eff || ct.token == "" {
		return nil, ErrCallerNotForwardable
	}
	md[OnBehalfOfKey] = "Bearer " + ct.token
	return md, nil
}

func (c serviceCreds) RequireTransportSecurity() bool { return c.requireTLS }
