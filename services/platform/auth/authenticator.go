package auth

import (
	"context"
	"crypto/x509"
	"errors"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/nrm-albania/nrm/services/platform/apierr"
)

// Metadata keys read by the Authenticator and written by ServiceCredentials.
const (
	AuthorizationKey = "authorization"
	OnBehalfOfKey    = "x-nrm-on-behalf-of"
)

// Authenticator establishes the caller of every RPC (it implements grpcserver.Authenticator).
// Either of JWT and Certs may be nil, which turns that method off; both nil refuses every call.
type Authenticator struct {
	JWT   *JWTVerifier
	Certs *CertMapper
	// Access admits the principals that the credentials establish: the caller and, for a call
	// on someone's behalf, that someone. Every service sets it (services/platform/access); it
	// is nil only in tests of authentication alone.
	Access Access
}

// Access decides whether an authenticated principal may come in at all: a valid signature
// proves who issued a credential, not that the Authority still knows the institution it names
// or that the credential was not revoked. It returns a status error.
type Access interface {
	Admit(p *Principal) error
}

// Authenticate returns ctx carrying the caller's principal, or a status error: Unauthenticated
// when credentials are missing or invalid, PermissionDenied when a caller that is not a service
// claims to act for someone else.
//
// A verified client certificate (when Certs is set) or else an "authorization: Bearer" token
// identifies the caller. Sending both is refused: an intermediary holding a certificate (the
// gateway, say) that passed a user's token along would otherwise be taken for itself, with its
// own rights, while the user's token was silently ignored. A service acting for a caller sends
// that caller's token in x-nrm-on-behalf-of instead.
func (a *Authenticator) Authenticate(ctx context.Context, _ string) (context.Context, error) {
	if a == nil || (a.JWT == nil && a.Certs == nil) {
		return nil, status.Error(codes.Internal, "authentication is not configured")
	}
	md, _ := metadata.FromIncomingContext(ctx)
	authz := md.Get(AuthorizationKey)
	if len(authz) > 1 {
		return nil, unauthenticated("CREDENTIALS_AMBIGUOUS", "more than one authorization value")
	}
	cert := a.verifiedCert(ctx)

	var p *Principal
	var token string
	switch {
	case cert != nil && len(authz) == 1:
		return nil, unauthenticated("CREDENTIALS_AMBIGUOUS",
			"send either a client certificate or a bearer token, not both (a service acting for a caller sends the caller's token in "+OnBehalfOfKey+")")
	case cert != nil:
		var err error
		if p, err = a.Certs.Principal(cert); err != nil {
			return nil, unauthenticated("CERTIFICATE_UNKNOWN", "client certificate not recognised")
		}
	case len(authz) == 1:
		var err error
		if p, token, err = a.verifyBearer(ctx, authz[0]); err != nil {
			return nil, bearerError("invalid bearer token", err)
		}
	default:
		return nil, unauthenticated("CREDENTIALS_MISSING", "missing credentials: send a bearer token or a client certificate")
	}

	forward := callerToken{p: p, token: token}
	if obo := md.Get(OnBehalfOfKey); len(obo) > 0 {
		if !p.Has(RoleService) {
			return nil, withInfo(codes.PermissionDenied, "ON_BEHALF_OF_FORBIDDEN",
				"only a service may act on behalf of another caller")
		}
		if len(obo) > 1 {
			return nil, unauthenticated("CREDENTIALS_AMBIGUOUS", "more than one "+OnBehalfOfKey+" value")
		}
		orig, origToken, err := a.verifyBearer(ctx, obo[0])
		if err != nil {
			return nil, bearerError("invalid on-behalf-of token", err)
		}
		p.OnBehalfOf = orig
		// What a further call forwards is the original caller's token, not the service's.
		forward = callerToken{p: orig, token: origToken}
	}
	if a.Access != nil {
		for q := p; q != nil; q = q.OnBehalfOf {
			if err := a.Access.Admit(q); err != nil {
				return nil, err
			}
		}
	}
	ctx = NewContext(ctx, p)
	if forward.token != "" {
		ctx = context.WithValue(ctx, callerTokenKey{}, forward)
	}
	return ctx, nil
}

// verifiedCert returns the leaf of the client's verified chain, or nil. Only chains the TLS
// stack verified count; a certificate that was merely presented does not.
func (a *Authenticator) verifiedCert(ctx context.Context) *x509.Certificate {
	if a.Certs == nil {
		return nil
	}
	pr, ok := peer.FromContext(ctx)
	if !ok || pr.AuthInfo == nil {
		return nil
	}
	info, ok := pr.AuthInfo.(credentials.TLSInfo)
	if !ok || len(info.State.VerifiedChains) == 0 || len(info.State.VerifiedChains[0]) == 0 {
		return nil
	}
	return info.State.VerifiedChains[0][0]
}

// errBearerOff is returned when a bearer token arrives but tokens are not configured.
var errBearerOff = errors.New("bearer tokens are not accepted by this service")

// verifyBearer parses "Bearer <token>" and verifies the token.
func (a *Authenticator) verifyBearer(ctx context.Context, value string) (*Principal, string, error) {
	if a.JWT == nil {
		return nil, "", errBearerOff
	}
	token, err := parseBearer(value)
	if err != nil {
		return nil, "", err
	}
	p, err := a.JWT.Verify(ctx, token)
	if err != nil {
		return nil, "", err
	}
	return p, token, nil
}

// parseBearer extracts the token from an RFC 6750 "Bearer <token>" value (scheme in any case).
func parseBearer(v string) (string, error) {
	if len(v) > MaxTokenBytes+len("Bearer ")+8 {
		return "", tokenErr(ErrTokenTooLarge, "")
	}
	scheme, token, ok := strings.Cut(v, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", tokenErr(ErrTokenMalformed, "not a Bearer credential")
	}
	token = strings.TrimLeft(token, " ")
	if token == "" || strings.ContainsAny(token, " \t\r\n") {
		return "", tokenErr(ErrTokenMalformed, "not a Bearer credential")
	}
	return token, nil
}

func bearerError(prefix string, err error) error {
	if errors.Is(err, errBearerOff) {
		return unauthenticated("BEARER_NOT_ACCEPTED", err.Error())
	}
	reason, class := tokenReason(err)
	return unauthenticated(reason, prefix+": "+class)
}

func unauthenticated(reason, msg string) error {
	return withInfo(codes.Unauthenticated, reason, msg)
}

// withInfo returns a status with a google.rpc.ErrorInfo whose reason a client can act on.
func withInfo(c codes.Code, reason, msg string) error {
	st, err := status.New(c, msg).WithDetails(&errdetails.ErrorInfo{Reason: reason, Domain: apierr.Domain})
	if err != nil {
		return status.Error(c, msg)
	}
	return st.Err()
}
