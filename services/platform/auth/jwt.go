package auth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"
)

// MaxTokenBytes bounds a token. Real tokens are well under 2 KiB; the bound keeps parsing cost
// and log lines small whatever a caller sends.
const MaxTokenBytes = 8 << 10

// The private claims that carry the principal.
const (
	ClaimInstitution = "nrm_institution"
	ClaimRoles       = "nrm_roles"
)

// Defaults of JWTConfig.
const (
	DefaultLeeway  = 30 * time.Second
	DefaultRefresh = 5 * time.Minute
	// maxLeeway keeps a clock-skew allowance from turning into a grace period for expired tokens.
	maxLeeway = 5 * time.Minute
)

// defaultAlgorithms are the signature algorithms accepted when JWTConfig.Algorithms is empty.
var defaultAlgorithms = []string{"RS256", "ES256", "EdDSA"}

// supportedAlgorithms are the asymmetric algorithms an operator may allow.
var supportedAlgorithms = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "Ed25519"}

// JWTConfig configures bearer token verification.
type JWTConfig struct {
	// JWKS is where the public keys are: "file:/path", a path, or an "https://..." URL
	// (plain http only for a loopback host).
	JWKS string
	// Issuer and Audience must equal the token's iss and be one of its aud. Both are required.
	Issuer, Audience string
	// Algorithms accepted; default RS256, ES256, EdDSA. HS* and none are refused: with a
	// symmetric algorithm whoever can verify can also mint, and none is no signature at all.
	Algorithms []string
	// Leeway is the clock skew allowed on exp, nbf and iat; default 30s, at most 5m.
	Leeway time.Duration
	// Refresh is how often the key set is re-read (file or URL); default 5m.
	Refresh time.Duration
	// HTTPClient fetches a JWKS URL; nil means a client with a 10s timeout. Redirects are
	// never followed.
	HTTPClient *http.Client
	// Logger receives key set refresh failures and changes; nil means slog.Default().
	Logger *slog.Logger
	// Clock times the key set's refreshes; nil means time.Now. Tests move it instead of
	// sleeping through refresh intervals.
	Clock func() time.Time
}

// JWTVerifier checks bearer tokens and turns them into principals. It is safe for concurrent
// use.
type JWTVerifier struct {
	issuer, audience string
	algs             map[string]bool
	leeway           time.Duration
	keys             *keyStore
}

// NewJWTVerifier validates c and loads the key set once; a missing or bad file or URL is an
// error here rather than a stream of rejected tokens later.
func NewJWTVerifier(ctx context.Context, c JWTConfig) (*JWTVerifier, error) {
	v := &JWTVerifier{issuer: c.Issuer, audience: c.Audience, leeway: c.Leeway, algs: map[string]bool{}}
	if c.Issuer == "" {
		return nil, errors.New("auth: JWT issuer must be set")
	}
	if c.Audience == "" {
		return nil, errors.New("auth: JWT audience must be set")
	}
	algs := c.Algorithms
	if len(algs) == 0 {
		algs = defaultAlgorithms
	}
	for _, a := range algs {
		if err := checkAlgorithm(a); err != nil {
			return nil, fmt.Errorf("auth: JWT algorithm %q: %w", a, err)
		}
		v.algs[a] = true
	}
	switch {
	case v.leeway == 0:
		v.leeway = DefaultLeeway
	case v.leeway < 0 || v.leeway > maxLeeway:
		return nil, fmt.Errorf("auth: JWT leeway %s is outside 0..%s", v.leeway, maxLeeway)
	}
	refresh := c.Refresh
	switch {
	case refresh == 0:
		refresh = DefaultRefresh
	case refresh < 0:
		return nil, fmt.Errorf("auth: JWKS refresh %s is negative", refresh)
	}
	log := c.Logger
	if log == nil {
		log = slog.Default()
	}
	src, err := parseJWKSLocation(c.JWKS, c.HTTPClient)
	if err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	clock := c.Clock
	if clock == nil {
		clock = time.Now
	}
	if v.keys, err = newKeyStore(ctx, src, refresh, log, clock); err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	return v, nil
}

// refusedAlgorithm reports whether the token's header names an algorithm outside the allowed
// list. It only serves to name the rejection: jwx refuses to parse headers with algorithms it
// does not know (None, made-up names), which would otherwise be reported as malformed. It
// never accepts anything; the algorithm used is the one jwx parses, checked again below.
func (v *JWTVerifier) refusedAlgorithm(token string) bool {
	seg, _, _ := strings.Cut(token, ".")
	raw, err := base64.RawURLEncoding.Strict().DecodeString(seg)
	if err != nil {
		return false
	}
	var h struct {
		Alg *string `json:"alg"`
	}
	if json.Unmarshal(raw, &h) != nil || h.Alg == nil {
		return false
	}
	return !v.algs[*h.Alg]
}

func checkAlgorithm(a string) error {
	switch {
	case strings.HasPrefix(strings.ToUpper(a), "HS"):
		return errors.New("refused: with a symmetric algorithm whoever can verify a token can also mint one")
	case strings.EqualFold(a, "none"):
		return errors.New("refused: none means an unsigned token")
	}
	if slices.Contains(supportedAlgorithms, a) {
		return nil
	}
	return fmt.Errorf("not supported (one of %s)", strings.Join(supportedAlgorithms, ", "))
}

// Verify checks token and returns its principal (Method "jwt"). A rejection is a *TokenError
// whose class says why; it never contains the token or any part of it.
func (v *JWTVerifier) Verify(ctx context.Context, token string) (*Principal, error) {
	if len(token) > MaxTokenBytes {
		return nil, tokenErr(ErrTokenTooLarge, fmt.Sprintf("more than %d bytes", MaxTokenBytes))
	}
	if err := checkCompact(token); err != nil {
		return nil, err
	}
	if v.refusedAlgorithm(token) {
		return nil, tokenErr(ErrTokenAlgorithm, "the token's algorithm is not in the allowed list")
	}
	msg, err := jws.Parse([]byte(token), jws.WithCompact())
	if err != nil || len(msg.Signatures()) != 1 {
		return nil, tokenErr(ErrTokenMalformed, "not a signed JWT")
	}
	hdr := msg.Signatures()[0].ProtectedHeaders()
	algo, ok := hdr.Algorithm()
	if !ok {
		return nil, tokenErr(ErrTokenMalformed, "no alg header")
	}
	alg := algo.String()
	if !v.algs[alg] {
		// The token names its algorithm, but only one from the allowed list (never HS* or
		// none) that also fits the key named by kid is used: this is what stops alg none and
		// HS256 signed with the public key (algorithm confusion).
		return nil, tokenErr(ErrTokenAlgorithm, "the token's algorithm is not in the allowed list")
	}
	for _, h := range []string{jws.CriticalKey, jws.B64Key} {
		if hdr.Has(h) {
			return nil, tokenErr(ErrTokenMalformed, "unsupported header "+h)
		}
	}
	kid, ok := hdr.KeyID()
	if !ok || kid == "" {
		return nil, tokenErr(ErrTokenKey, "no kid header")
	}
	key, ok := v.keys.lookup(ctx, kid)
	if !ok {
		return nil, tokenErr(ErrTokenKey, "kid not in the key set")
	}
	if !slices.Contains(key.algs, alg) || (key.alg != "" && key.alg != alg) {
		return nil, tokenErr(ErrTokenAlgorithm, "the key named by kid is not for this algorithm")
	}
	sigAlg, ok := jwa.LookupSignatureAlgorithm(alg)
	if !ok {
		return nil, tokenErr(ErrTokenAlgorithm, "unknown algorithm")
	}
	payload, err := jws.Verify([]byte(token),
		jws.WithCompact(),
		jws.WithKey(sigAlg, key.pub),
		jws.WithAlgorithmMatch(true),
		jws.WithCritValidation(true),
		jws.WithContext(ctx),
	)
	if err != nil {
		return nil, tokenErr(ErrTokenSignature, "")
	}

	// Only now, with the signature verified, are the claims worth reading.
	tok := jwt.New()
	if err := json.Unmarshal(payload, tok); err != nil {
		return nil, tokenErr(ErrTokenMalformed, "claims are not a valid JWT claims set")
	}
	if err := jwt.Validate(tok,
		jwt.WithAcceptableSkew(v.leeway),
		jwt.WithIssuer(v.issuer),
		jwt.WithAudience(v.audience),
		jwt.WithRequiredClaim(jwt.ExpirationKey),
		jwt.WithRequiredClaim(jwt.SubjectKey),
	); err != nil {
		return nil, classifyValidation(err)
	}
	return principalOf(tok)
}

// checkCompact checks the outline of a compact JWS before any parser sees it: three
// segments of canonical unpadded base64url. Canonical (strict) decoding matters: a lenient
// decoder accepts several spellings of one signature, and a token string that differs from
// the one the issuer produced must not be accepted (it is forwarded and may be compared).
func checkCompact(token string) error {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return tokenErr(ErrTokenMalformed, "not three dot-separated parts")
	}
	for i, p := range parts {
		// An empty signature is left to the algorithm check, so that alg none is reported
		// as what it is.
		if p == "" && i < 2 {
			return tokenErr(ErrTokenMalformed, "empty part")
		}
		if _, err := base64.RawURLEncoding.Strict().DecodeString(p); err != nil {
			return tokenErr(ErrTokenMalformed, "a part is not base64url")
		}
	}
	return nil
}

// classifyValidation maps a jwx validation error to a rejection class. The jwx text is
// dropped: it may quote claim values.
func classifyValidation(err error) error {
	switch {
	case errors.Is(err, jwt.TokenExpiredError()):
		return tokenErr(ErrTokenExpired, "")
	case errors.Is(err, jwt.TokenNotYetValidError()):
		return tokenErr(ErrTokenNotYetValid, "")
	case errors.Is(err, jwt.InvalidIssuedAtError()):
		return tokenErr(ErrTokenNotYetValid, "issued in the future")
	case errors.Is(err, jwt.InvalidIssuerError()):
		return tokenErr(ErrTokenIssuer, "")
	case errors.Is(err, jwt.InvalidAudienceError()):
		return tokenErr(ErrTokenAudience, "")
	case errors.Is(err, jwt.MissingRequiredClaimError()):
		return tokenErr(ErrTokenClaims, "exp or sub missing")
	default:
		return tokenErr(ErrTokenClaims, "")
	}
}

// principalOf reads the principal from verified claims.
func principalOf(tok jwt.Token) (*Principal, error) {
	sub, _ := tok.Subject()
	if err := CheckSubject(sub); err != nil {
		return nil, tokenErr(ErrTokenClaims, "sub: "+err.Error())
	}
	var inst any
	if err := tok.Get(ClaimInstitution, &inst); err != nil {
		return nil, tokenErr(ErrTokenClaims, ClaimInstitution+" missing")
	}
	instStr, ok := inst.(string)
	if !ok {
		return nil, tokenErr(ErrTokenClaims, ClaimInstitution+" is not a string")
	}
	var raw any
	if err := tok.Get(ClaimRoles, &raw); err != nil {
		return nil, tokenErr(ErrTokenClaims, ClaimRoles+" missing")
	}
	var names []string
	switch rs := raw.(type) {
	case []any:
		for _, r := range rs {
			s, ok := r.(string)
			if !ok {
				return nil, tokenErr(ErrTokenClaims, ClaimRoles+" holds a non-string")
			}
			names = append(names, s)
		}
	case []string:
		names = rs
	default:
		return nil, tokenErr(ErrTokenClaims, ClaimRoles+" is not an array")
	}
	if err := CheckInstitution(instStr); err != nil {
		return nil, tokenErr(ErrTokenClaims, ClaimInstitution+": "+err.Error())
	}
	roles, err := parseRoles(names)
	if err != nil {
		return nil, tokenErr(ErrTokenClaims, ClaimRoles+": "+err.Error())
	}
	jti, _ := tok.JwtID()
	iat, _ := tok.IssuedAt()
	return &Principal{Institution: instStr, Subject: sub, Roles: roles, Method: MethodJWT,
		Credential: Credential{TokenID: jti, IssuedAt: iat}}, nil
}
