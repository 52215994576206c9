package auth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"

	"github.com/nrm-albania/nrm/services/platform/auth"
)

// Test keys are generated once per test binary: RSA generation is slow under -race.
var testKeys = sync.OnceValue(func() map[string]jwk.Key {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	rsaOther, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	_, edKey2, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	out := map[string]jwk.Key{}
	for kid, raw := range map[string]any{"rsa-1": rsaKey, "rsa-other": rsaOther, "ec-1": ecKey, "ed-1": edKey, "ed-2": edKey2} {
		k, err := jwk.Import(raw)
		if err != nil {
			panic(err)
		}
		if err := k.Set(jwk.KeyIDKey, kid); err != nil {
			panic(err)
		}
		out[kid] = k
	}
	return out
})

func key(kid string) jwk.Key { return testKeys()[kid] }

// publicJWKS returns a JWK set with the public halves of the named keys.
func publicJWKS(t testing.TB, kids ...string) []byte {
	t.Helper()
	set := jwk.NewSet()
	for _, kid := range kids {
		pub, err := key(kid).PublicKey()
		if err != nil {
			t.Fatal(err)
		}
		if err := set.AddKey(pub); err != nil {
			t.Fatal(err)
		}
	}
	data, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// writeAtomic replaces path the way an operator's tooling should (write, then rename).
func writeAtomic(t testing.TB, path string, data []byte) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

const (
	testIssuer   = "https://idp.test/realms/nrm"
	testAudience = "nrm"
)

var quietLog = slog.New(slog.NewTextHandler(io.Discard, nil))

// verifierFor writes a JWKS with the named keys and returns a verifier over it.
func verifierFor(t testing.TB, mod func(*auth.JWTConfig), kids ...string) (*auth.JWTVerifier, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "jwks.json")
	writeAtomic(t, path, publicJWKS(t, kids...))
	c := auth.JWTConfig{JWKS: path, Issuer: testIssuer, Audience: testAudience, Logger: quietLog}
	if mod != nil {
		mod(&c)
	}
	v, err := auth.NewJWTVerifier(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	return v, path
}

// claims returns valid claims, changed by the given edits (a nil value deletes the claim).
func claims(edits map[string]any) map[string]any {
	now := time.Now()
	c := map[string]any{
		"iss":             testIssuer,
		"aud":             []string{testAudience},
		"sub":             "officer-17",
		"iat":             now.Unix(),
		"nbf":             now.Unix(),
		"exp":             now.Add(time.Hour).Unix(),
		"nrm_institution": "ASP-ANTITRAF",
		"nrm_roles":       []string{"caseworker", "member"},
	}
	for k, v := range edits {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

// sign signs claims with jwx under the given key and algorithm. The header names the key's
// kid unless headers overrides it (a nil value removes a header).
func sign(t testing.TB, kid string, alg jwa.SignatureAlgorithm, c map[string]any, headers map[string]any) string {
	t.Helper()
	payload, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var k any = key(kid)
	if _, ok := headers["kid"]; ok {
		// jwx copies the kid of a jwk.Key into the header; sign with the raw key so that the
		// test controls the header.
		var raw any
		if err := jwk.Export(key(kid), &raw); err != nil {
			t.Fatal(err)
		}
		k = raw
	}
	hdr := jws.NewHeaders()
	for name, v := range headers {
		if v != nil {
			if err := hdr.Set(name, v); err != nil {
				t.Fatal(err)
			}
		}
	}
	signed, err := jws.Sign(payload, jws.WithKey(alg, k, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		t.Fatal(err)
	}
	return string(signed)
}

// rawToken assembles a compact token from a header and claims, with the given signature
// bytes: for tokens jwx refuses to produce (alg none, HS256 keyed with a public key).
func rawToken(t testing.TB, header map[string]any, c map[string]any, sig func(signingInput string) []byte) string {
	t.Helper()
	h, err := json.Marshal(header)
	if err != nil {
		t.Fatal(err)
	}
	p, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	in := b64(h) + "." + b64(p)
	var s []byte
	if sig != nil {
		s = sig(in)
	}
	return in + "." + b64(s)
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func b64Decode(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }

// withoutCredential returns a copy of p, and of whom it acts for, without the credential's
// details: the tests of who a caller is compare identities, and TestCredentialIsCarried checks
// the details.
func withoutCredential(p *auth.Principal) *auth.Principal {
	if p == nil {
		return nil
	}
	c := *p
	c.Credential = auth.Credential{}
	c.OnBehalfOf = withoutCredential(p.OnBehalfOf)
	return &c
}
