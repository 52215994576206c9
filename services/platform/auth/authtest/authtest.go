// Package authtest provides token issuers and certificate authorities for tests of code that
// authenticates callers. It is imported by tests only.
package authtest

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"

	"github.com/nrm-albania/nrm/services/platform/auth"
)

// Issuer mints tokens signed by an in-memory Ed25519 key; its public key set is written to a
// temporary file so that auth.NewJWTVerifier reads it like a real one.
type Issuer struct {
	Issuer, Audience string
	key              jwk.Key
	jwksPath         string
}

// NewIssuer returns an issuer with a fresh key ("https://issuer.test", audience "nrm-test").
func NewIssuer(t testing.TB) *Issuer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	key, err := jwk.Import(priv)
	if err != nil {
		t.Fatal(err)
	}
	must(t, jwk.AssignKeyID(key))
	must(t, key.Set(jwk.AlgorithmKey, jwa.EdDSA()))
	pub, err := key.PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	set := jwk.NewSet()
	must(t, set.AddKey(pub))
	data, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "jwks.json")
	must(t, os.WriteFile(path, data, 0o600))
	return &Issuer{Issuer: "https://issuer.test", Audience: "nrm-test", key: key, jwksPath: path}
}

// JWTConfig returns verifier settings that accept this issuer's tokens. Refresh failures are
// not logged.
func (i *Issuer) JWTConfig() auth.JWTConfig {
	return auth.JWTConfig{
		JWKS:     "file:" + i.jwksPath,
		Issuer:   i.Issuer,
		Audience: i.Audience,
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
}

// Verifier returns a verifier for this issuer's tokens.
func (i *Issuer) Verifier(t testing.TB) *auth.JWTVerifier {
	t.Helper()
	v, err := auth.NewJWTVerifier(context.Background(), i.JWTConfig())
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// Token returns a token valid for an hour for subject "test-<institution>" with the roles.
func (i *Issuer) Token(t testing.TB, institution string, roles ...auth.Role) string {
	t.Helper()
	return i.TokenFor(t, auth.Principal{Institution: institution, Subject: "test-" + strings.ToLower(institution), Roles: roles}, time.Hour)
}

// TokenFor returns a token for p's institution, subject and roles, valid for ttl.
func (i *Issuer) TokenFor(t testing.TB, p auth.Principal, ttl time.Duration) string {
	t.Helper()
	roles := make([]string, len(p.Roles))
	for j, r := range p.Roles {
		roles[j] = string(r)
	}
	now := time.Now()
	return i.Sign(t, map[string]any{
		jwt.IssuerKey:         i.Issuer,
		jwt.AudienceKey:       []string{i.Audience},
		jwt.SubjectKey:        p.Subject,
		jwt.IssuedAtKey:       now.Unix(),
		jwt.ExpirationKey:     now.Add(ttl).Unix(),
		auth.ClaimInstitution: p.Institution,
		auth.ClaimRoles:       roles,
	})
}

// Sign signs arbitrary claims with the issuer's key (kid set), for tests that need a token
// the normal helpers would not make: a wrong audience, a missing claim, an unknown role.
func (i *Issuer) Sign(t testing.TB, claims map[string]any) string {
	t.Helper()
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	hdr := jws.NewHeaders()
	kid, _ := i.key.KeyID()
	must(t, hdr.Set(jws.KeyIDKey, kid))
	must(t, hdr.Set(jws.TypeKey, "JWT"))
	signed, err := jws.Sign(payload, jws.WithKey(jwa.EdDSA(), i.key, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		t.Fatal(err)
	}
	return string(signed)
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(fmt.Errorf("authtest: %w", err))
	}
}
