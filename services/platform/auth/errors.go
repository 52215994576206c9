package auth

import "errors"

// The classes of token rejection. Verify returns a *TokenError wrapping one of them, so callers
// can tell them apart with errors.Is; none of them carries any part of the token.
var (
	ErrTokenTooLarge    = errors.New("token too large")
	ErrTokenMalformed   = errors.New("malformed token")
	ErrTokenAlgorithm   = errors.New("signature algorithm not allowed")
	ErrTokenKey         = errors.New("unknown signing key")
	ErrTokenSignature   = errors.New("bad signature")
	ErrTokenExpired     = errors.New("expired")
	ErrTokenNotYetValid = errors.New("not yet valid")
	ErrTokenIssuer      = errors.New("wrong issuer")
	ErrTokenAudience    = errors.New("wrong audience")
	ErrTokenClaims      = errors.New("invalid claims")
)

// TokenError is why a token was rejected: a class (one of the ErrToken* values) and a detail
// written by this package, never copied from the token.
type TokenError struct {
	Kind   error
	Detail string
}

func (e *TokenError) Error() string {
	if e.Detail == "" {
		return "token rejected: " + e.Kind.Error()
	}
	return "token rejected: " + e.Kind.Error() + ": " + e.Detail
}

func (e *TokenError) Unwrap() error { return e.Kind }

func tokenErr(kind error, detail string) error { return &TokenError{Kind: kind, Detail: detail} }

// tokenReasons are the google.rpc.ErrorInfo reasons for each class, for clients that act on
// them (a portal refreshing an expired token, say).
var tokenReasons = map[error]string{
	ErrTokenTooLarge:    "TOKEN_TOO_LARGE",
	ErrTokenMalformed:   "TOKEN_MALFORMED",
	ErrTokenAlgorithm:   "TOKEN_ALGORITHM",
	ErrTokenKey:         "TOKEN_UNKNOWN_KEY",
	ErrTokenSignature:   "TOKEN_SIGNATURE",
	ErrTokenExpired:     "TOKEN_EXPIRED",
	ErrTokenNotYetValid: "TOKEN_NOT_YET_VALID",
	ErrTokenIssuer:      "TOKEN_ISSUER",
	ErrTokenAudience:    "TOKEN_AUDIENCE",
	ErrTokenClaims:      "TOKEN_CLAIMS",
}

// tokenReason returns the ErrorInfo reason and the short class text of err.
func tokenReason(err error) (reason, class string) {
	var te *TokenError
	if errors.As(err, &te) {
		if r, ok := tokenReasons[te.Kind]; ok {
			return r, te.Kind.Error()
		}
	}
	return "TOKEN_INVALID", "invalid token"
}
