package auth_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"

	"github.com/nrm-albania/nrm/services/platform/auth"
)

func TestVerifyAcceptsValidTokens(t *testing.T) {
	v, _ := verifierFor(t, nil, "rsa-1", "ec-1", "ed-1")
	want := &auth.Principal{
		Institution: "ASP-ANTITRAF",
		Subject:     "officer-17",
		Roles:       []auth.Role{auth.RoleCaseworker, auth.RoleMember},
		Method:      auth.MethodJWT,
	}
	cases := []struct {
		name  string
		token string
		want  *auth.Principal
	}{
		{"RS256", sign(t, "rsa-1", jwa.RS256(), claims(nil), nil), want},
		{"ES256", sign(t, "ec-1", jwa.ES256(), claims(nil), nil), want},
		{"EdDSA", sign(t, "ed-1", jwa.EdDSA(), claims(nil), nil), want},
		{"audience as a string", sign(t, "ed-1", jwa.EdDSA(), claims(map[string]any{"aud": testAudience}), nil), want},
		{"audience among several", sign(t, "ed-1", jwa.EdDSA(), claims(map[string]any{"aud": []string{"portal", testAudience}}), nil), want},
		{"no nbf or iat", sign(t, "ed-1", jwa.EdDSA(), claims(map[string]any{"nbf": nil, "iat": nil}), nil), want},
		{"expired within the leeway", sign(t, "ed-1", jwa.EdDSA(), claims(map[string]any{"exp": time.Now().Add(-10 * time.Second).Unix()}), nil), want},
		{"valid from within the leeway", sign(t, "ed-1", jwa.EdDSA(), claims(map[string]any{"nbf": time.Now().Add(10 * time.Second).Unix()}), nil), want},
		{"duplicate roles collapse", sign(t, "ed-1", jwa.EdDSA(), claims(map[string]any{"nrm_roles": []string{"caseworker", "member", "caseworker"}}), nil), want},
		{"service role", sign(t, "ed-1", jwa.EdDSA(), claims(map[string]any{"sub": "svc-referral", "nrm_institution": "NRM", "nrm_roles": []string{"service"}}), nil),
			&auth.Principal{Institution: "NRM", Subject: "svc-referral", Roles: []auth.Role{auth.RoleService}, Method: auth.MethodJWT}},
		{"typ at+jwt", sign(t, "ed-1", jwa.EdDSA(), claims(nil), map[string]any{"typ": "at+jwt"}), want},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := v.Verify(context.Background(), c.token)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if !reflect.DeepEqual(withoutCredential(p), c.want) {
				t.Errorf("principal %+v, want %+v", p, c.want)
			}
		})
	}
}

// TestVerifyRejects covers every rejection the security model names, each with a token built
// for it, and checks the class of the error and that the error does not echo the token.
func TestVerifyRejects(t *testing.T) {
	v, jwksPath := verifierFor(t, nil, "rsa-1", "ec-1", "ed-1")
	now := time.Now()
	valid := sign(t, "ed-1", jwa.EdDSA(), claims(nil), nil)
	parts := strings.Split(valid, ".")

	rsaPub, err := key("rsa-1").PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	var rsaRaw any
	if err := jwk.Export(rsaPub, &rsaRaw); err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(rsaRaw)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	pubJWK, err := json.Marshal(rsaPub)
	if err != nil {
		t.Fatal(err)
	}
	jwksBytes, err := os.ReadFile(jwksPath)
	if err != nil {
		t.Fatal(err)
	}
	hmacWith := func(k []byte) func(string) []byte {
		return func(in string) []byte {
			m := hmac.New(sha256.New, k)
			m.Write([]byte(in))
			return m.Sum(nil)
		}
	}
	// Signature bytes flipped, re-encoded canonically: a well-formed token whose signature
	// does not verify.
	sigBytes := mustB64(t, parts[2])
	sigBytes[0] ^= 0xff
	flipped := parts[0] + "." + parts[1] + "." + b64(sigBytes)
	// Claims changed after signing.
	tamperedClaims := claims(map[string]any{"nrm_roles": []string{"secretariat"}})
	tamperedPayload, _ := json.Marshal(tamperedClaims)
	tampered := parts[0] + "." + b64(tamperedPayload) + "." + parts[2]

	cases := []struct {
		name  string
		token string
		want  error
	}{
		// Time.
		{"expired", sign(t, "ed-1", jwa.EdDSA(), claims(map[string]any{"exp": now.Add(-time.Hour).Unix()}), nil), auth.ErrTokenExpired},
		{"expired just past the leeway", sign(t, "ed-1", jwa.EdDSA(), claims(map[string]any{"exp": now.Add(-45 * time.Second).Unix()}), nil), auth.ErrTokenExpired},
		{"not yet valid", sign(t, "ed-1", jwa.EdDSA(), claims(map[string]any{"nbf": now.Add(time.Hour).Unix()}), nil), auth.ErrTokenNotYetValid},
		{"issued in the future", sign(t, "ed-1", jwa.EdDSA(), claims(map[string]any{"iat": now.Add(time.Hour).Unix()}), nil), auth.ErrTokenNotYetValid},
		{"no exp", sign(t, "ed-1", jwa.EdDSA(), claims(map[string]any{"exp": nil}), nil), auth.ErrTokenClaims},
		// Issuer and audience.
		{"wrong issuer", sign(t, "ed-1", jwa.EdDSA(), claims(map[string]any{"iss": "https://evil.test"}), nil), auth.ErrTokenIssuer},
		{"issuer differing in case", sign(t, "ed-1", jwa.EdDSA(), claims(map[string]any{"iss": strings.ToUpper(testIssuer)}), nil), auth.ErrTokenIssuer},
		{"no issuer", sign(t, "ed-1", jwa.EdDSA(), claims(map[string]any{"iss": nil}), nil), auth.ErrTokenIssuer},
		{"wrong audience", sign(t, "ed-1", jwa.EdDSA(), claims(map[string]any{"aud": []string{"other-system"}}), nil), auth.ErrTokenAudience},
		{"no audience", sign(t, "ed-1", jwa.EdDSA(), claims(map[string]any{"aud": nil}), nil), auth.ErrTokenAudience},
		// Signature.
		{"bad signature", flipped, auth.ErrTokenSignature},
		{"claims changed after signing", tampered, auth.ErrTokenSignature},
		{"signed by another key under a known kid", sign(t, "rsa-other", jwa.RS256(), claims(nil), map[string]any{"kid": "rsa-1"}), auth.ErrTokenSignature},
		{"empty signature", parts[0] + "." + parts[1] + ".", auth.ErrTokenMalformed},
		// Algorithms.
		{"alg none", rawToken(t, map[string]any{"alg": "none", "kid": "ed-1"}, claims(nil), nil), auth.ErrTokenAlgorithm},
		{"alg None", rawToken(t, map[string]any{"alg": "None", "kid": "ed-1"}, claims(nil), nil), auth.ErrTokenAlgorithm},
		{"alg none with a signature", rawToken(t, map[string]any{"alg": "none", "kid": "ed-1"}, claims(nil), func(string) []byte { return []byte("x") }), auth.ErrTokenAlgorithm},
		{"HS256 keyed with the public key PEM", rawToken(t, map[string]any{"alg": "HS256", "kid": "rsa-1"}, claims(nil), hmacWith(pubPEM)), auth.ErrTokenAlgorithm},
		{"HS256 keyed with the public key DER", rawToken(t, map[string]any{"alg": "HS256", "kid": "rsa-1"}, claims(nil), hmacWith(der)), auth.ErrTokenAlgorithm},
		{"HS256 keyed with the public JWK", rawToken(t, map[string]any{"alg": "HS256", "kid": "rsa-1"}, claims(nil), hmacWith(pubJWK)), auth.ErrTokenAlgorithm},
		{"HS256 keyed with the JWKS file", rawToken(t, map[string]any{"alg": "HS256", "kid": "rsa-1"}, claims(nil), hmacWith(jwksBytes)), auth.ErrTokenAlgorithm},
		{"algorithm not in the allowed list", sign(t, "rsa-1", jwa.PS256(), claims(nil), nil), auth.ErrTokenAlgorithm},
		{"algorithm that does not fit the key", rawToken(t, map[string]any{"alg": "ES256", "kid": "rsa-1"}, claims(nil), func(string) []byte { return make([]byte, 64) }), auth.ErrTokenAlgorithm},
		{"EdDSA header over an RSA kid", sign(t, "ed-1", jwa.EdDSA(), claims(nil), map[string]any{"kid": "rsa-1"}), auth.ErrTokenAlgorithm},
		{"unknown algorithm", rawToken(t, map[string]any{"alg": "XS999", "kid": "ed-1"}, claims(nil), func(string) []byte { return []byte("x") }), auth.ErrTokenAlgorithm},
		{"no alg", rawToken(t, map[string]any{"kid": "ed-1"}, claims(nil), func(string) []byte { return []byte("x") }), auth.ErrTokenMalformed},
		// Keys.
		{"no kid", sign(t, "ed-1", jwa.EdDSA(), claims(nil), map[string]any{"kid": nil}), auth.ErrTokenKey},
		{"empty kid", sign(t, "ed-1", jwa.EdDSA(), claims(nil), map[string]any{"kid": ""}), auth.ErrTokenKey},
		{"unknown kid", sign(t, "ed-2", jwa.EdDSA(), claims(nil), nil), auth.ErrTokenKey},
		// Shape.
		{"empty", "", auth.ErrTokenMalformed},
		{"one part", "abc", auth.ErrTokenMalformed},
		{"two parts", parts[0] + "." + parts[1], auth.ErrTokenMalformed},
		{"four parts", valid + ".x", auth.ErrTokenMalformed},
		{"JWE-like five parts", "a.b.c.d.e", auth.ErrTokenMalformed},
		{"bad base64 character", parts[0] + "." + parts[1] + "!." + parts[2], auth.ErrTokenMalformed},
		{"standard base64 alphabet", strings.ReplaceAll(strings.ReplaceAll(valid, "-", "+"), "_", "/") + "+/", auth.ErrTokenMalformed},
		{"padded base64", parts[0] + "=." + parts[1] + "." + parts[2], auth.ErrTokenMalformed},
		{"non-canonical trailing bits", parts[0] + "." + parts[1] + "." + nonCanonical(t, parts[2]), auth.ErrTokenMalformed},
		{"whitespace inside", parts[0] + ". " + parts[1] + "." + parts[2], auth.ErrTokenMalformed},
		{"header not JSON", b64([]byte("not json")) + "." + parts[1] + "." + parts[2], auth.ErrTokenMalformed},
		{"claims not JSON", sign(t, "ed-1", jwa.EdDSA(), nil, nil), auth.ErrTokenMalformed},
		{"JSON serialization", jsonSerialized(t), auth.ErrTokenMalformed},
		{"crit header", sign(t, "ed-1", jwa.EdDSA(), claims(nil), map[string]any{"crit": []string{"exp"}, "exp": 1}), auth.ErrTokenMalformed},
		{"too large", parts[0] + "." + b64(make([]byte, 7000)) + "." + parts[2], auth.ErrTokenTooLarge},
		// Claims.
		{"no sub", sign(t, "ed-1", jwa.EdDSA(), claims(map[string]any{"sub": nil}), nil), auth.ErrTokenClaims},
		{"empty sub", sign(t, "ed-1", jwa.EdDSA(), claims(map[string]any{"sub": ""}), nil), auth.ErrTokenClaims},
		{"sub with a newline", sign(t, "ed-1", jwa.EdDSA(), claims(map[string]any{"sub": "a\nINFO forged"}), nil), auth.ErrTokenClaims},
		{"sub too long", sign(t, "ed-1", jwa.EdDSA(), claims(map[string]any{"sub": strings.Repeat("s", 257)}), nil), auth.ErrTokenClaims},
		{"no institution", sign(t, "ed-1", jwa.EdDSA(), claims(map[string]any{"nrm_institution": nil}), nil), auth.ErrTokenClaims},
		{"institution in lower case", sign(t, "ed-1", jwa.EdDSA(), claims(map[string]any{"nrm_institution": "asp-antitraf"}), nil), auth.ErrTokenClaims},
		{"institution with a trailing dash", sign(t, "ed-1", jwa.EdDSA(), claims(map[string]any{"nrm_institution": "ASP-"}), nil), auth.ErrTokenClaims},
		{"institution too long", sign(t, "ed-1", jwa.EdDSA(), claims(map[string]any{"nrm_institution": "A" + strings.Repeat("B", 32)}), nil), auth.ErrTokenClaims},
		{"institution not a string", sign(t, "ed-1", jwa.EdDSA(), claims(map[string]any{"nrm_institution": 7}), nil), auth.ErrTokenClaims},
		{"no roles claim", sign(t, "ed-1", jwa.EdDSA(), claims(map[string]any{"nrm_roles": nil}), nil), auth.ErrTokenClaims},
		{"empty roles", sign(t, "ed-1", jwa.EdDSA(), claims(map[string]any{"nrm_roles": []string{}}), nil), auth.ErrTokenClaims},
		{"unknown role", sign(t, "ed-1", jwa.EdDSA(), claims(map[string]any{"nrm_roles": []string{"member", "superuser"}}), nil), auth.ErrTokenClaims},
		{"role in upper case", sign(t, "ed-1", jwa.EdDSA(), claims(map[string]any{"nrm_roles": []string{"Member"}}), nil), auth.ErrTokenClaims},
		{"roles as a string", sign(t, "ed-1", jwa.EdDSA(), claims(map[string]any{"nrm_roles": "member"}), nil), auth.ErrTokenClaims},
		{"roles holding a number", sign(t, "ed-1", jwa.EdDSA(), claims(map[string]any{"nrm_roles": []any{"member", 1}}), nil), auth.ErrTokenClaims},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := v.Verify(context.Background(), c.token)
			if err == nil {
				t.Fatalf("accepted: %+v", p)
			}
			if !errors.Is(err, c.want) {
				t.Errorf("error %q, want class %q", err, c.want)
			}
			var te *auth.TokenError
			if !errors.As(err, &te) {
				t.Errorf("error %T is not a *auth.TokenError", err)
			}
			assertNoEcho(t, err.Error(), c.token)
		})
	}
}

// assertNoEcho fails if msg contains the token or a sizeable piece of it.
func assertNoEcho(t *testing.T, msg, token string) {
	t.Helper()
	if token != "" && strings.Contains(msg, token) {
		t.Errorf("error %q echoes the token", msg)
	}
	for _, part := range strings.Split(token, ".") {
		if len(part) >= 8 && strings.Contains(msg, part) {
			t.Errorf("error %q echoes part of the token", msg)
		}
	}
}

func mustB64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := b64Decode(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// nonCanonical changes the unused low bits of the last base64url character, which a lenient
// decoder ignores: the same signature bytes under a different spelling.
func nonCanonical(t *testing.T, s string) string {
	t.Helper()
	if len(s)%4 == 0 {
		t.Fatalf("segment of length %d has no spare bits", len(s))
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := strings.IndexByte(alphabet, s[len(s)-1])
	return s[:len(s)-1] + string(alphabet[last|1])
}

func jsonSerialized(t *testing.T) string {
	t.Helper()
	payload, _ := json.Marshal(claims(nil))
	signed, err := jws.Sign(payload, jws.WithJSON(), jws.WithKey(jwa.EdDSA(), key("ed-1")))
	if err != nil {
		t.Fatal(err)
	}
	return string(signed)
}

func TestVerifyHonoursTheAllowedAlgorithms(t *testing.T) {
	t.Run("PS256 allowed", func(t *testing.T) {
		v, _ := verifierFor(t, func(c *auth.JWTConfig) { c.Algorithms = []string{"PS256"} }, "rsa-1", "ed-1")
		if _, err := v.Verify(context.Background(), sign(t, "rsa-1", jwa.PS256(), claims(nil), nil)); err != nil {
			t.Errorf("PS256: %v", err)
		}
		for _, tok := range []string{sign(t, "rsa-1", jwa.RS256(), claims(nil), nil), sign(t, "ed-1", jwa.EdDSA(), claims(nil), nil)} {
			if _, err := v.Verify(context.Background(), tok); !errors.Is(err, auth.ErrTokenAlgorithm) {
				t.Errorf("an algorithm outside the list: %v, want ErrTokenAlgorithm", err)
			}
		}
	})
	t.Run("a key that declares its algorithm", func(t *testing.T) {
		pub, err := key("rsa-1").PublicKey()
		if err != nil {
			t.Fatal(err)
		}
		if err := pub.Set(jwk.AlgorithmKey, jwa.RS256()); err != nil {
			t.Fatal(err)
		}
		set := jwk.NewSet()
		_ = set.AddKey(pub)
		data, _ := json.Marshal(set)
		path := filepath.Join(t.TempDir(), "jwks.json")
		writeAtomic(t, path, data)
		v, err := auth.NewJWTVerifier(context.Background(), auth.JWTConfig{JWKS: "file:" + path, Issuer: testIssuer, Audience: testAudience, Algorithms: []string{"RS256", "PS256"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := v.Verify(context.Background(), sign(t, "rsa-1", jwa.RS256(), claims(nil), nil)); err != nil {
			t.Errorf("RS256: %v", err)
		}
		if _, err := v.Verify(context.Background(), sign(t, "rsa-1", jwa.PS256(), claims(nil), nil)); !errors.Is(err, auth.ErrTokenAlgorithm) {
			t.Errorf("PS256 with a key declaring RS256: %v, want ErrTokenAlgorithm", err)
		}
	})
}

func TestVerifyLeewayIsConfigurable(t *testing.T) {
	v, _ := verifierFor(t, func(c *auth.JWTConfig) { c.Leeway = 2 * time.Minute }, "ed-1")
	tok := sign(t, "ed-1", jwa.EdDSA(), claims(map[string]any{"exp": time.Now().Add(-90 * time.Second).Unix()}), nil)
	if _, err := v.Verify(context.Background(), tok); err != nil {
		t.Errorf("expired 90s ago with a 2m leeway: %v", err)
	}
}

func TestNewJWTVerifierRefusesBadConfig(t *testing.T) {
	good := filepath.Join(t.TempDir(), "jwks.json")
	writeAtomic(t, good, publicJWKS(t, "ed-1"))
	write := func(name string, data []byte) string {
		p := filepath.Join(t.TempDir(), name)
		writeAtomic(t, p, data)
		return p
	}
	privSet := func() []byte {
		set := jwk.NewSet()
		_ = set.AddKey(key("ed-1"))
		d, _ := json.Marshal(set)
		return d
	}()
	symSet := []byte(`{"keys":[{"kty":"oct","kid":"s","k":"c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"}]}`)
	noKid := func() []byte {
		pub, _ := key("ed-1").PublicKey()
		_ = pub.Remove(jwk.KeyIDKey)
		set := jwk.NewSet()
		_ = set.AddKey(pub)
		d, _ := json.Marshal(set)
		return d
	}()
	encOnly := func() []byte {
		pub, _ := key("rsa-1").PublicKey()
		_ = pub.Set(jwk.KeyUsageKey, jwk.ForEncryption)
		set := jwk.NewSet()
		_ = set.AddKey(pub)
		d, _ := json.Marshal(set)
		return d
	}()

	cases := []struct {
		name string
		mod  func(*auth.JWTConfig)
		want string
	}{
		{"HS256", func(c *auth.JWTConfig) { c.Algorithms = []string{"RS256", "HS256"} }, "symmetric"},
		{"HS512", func(c *auth.JWTConfig) { c.Algorithms = []string{"HS512"} }, "symmetric"},
		{"none", func(c *auth.JWTConfig) { c.Algorithms = []string{"none"} }, "unsigned"},
		{"unknown algorithm", func(c *auth.JWTConfig) { c.Algorithms = []string{"RS1"} }, "not supported"},
		{"no issuer", func(c *auth.JWTConfig) { c.Issuer = "" }, "issuer"},
		{"no audience", func(c *auth.JWTConfig) { c.Audience = "" }, "audience"},
		{"negative leeway", func(c *auth.JWTConfig) { c.Leeway = -time.Second }, "leeway"},
		{"huge leeway", func(c *auth.JWTConfig) { c.Leeway = time.Hour }, "leeway"},
		{"negative refresh", func(c *auth.JWTConfig) { c.Refresh = -time.Second }, "refresh"},
		{"no JWKS", func(c *auth.JWTConfig) { c.JWKS = "" }, "empty"},
		{"missing file", func(c *auth.JWTConfig) { c.JWKS = filepath.Join(t.TempDir(), "absent.json") }, "no such file"},
		{"missing file URL", func(c *auth.JWTConfig) { c.JWKS = "file:" + filepath.Join(t.TempDir(), "absent.json") }, "no such file"},
		{"not JSON", func(c *auth.JWTConfig) { c.JWKS = write("bad.json", []byte("{not json")) }, "not a JWK set"},
		{"empty set", func(c *auth.JWTConfig) { c.JWKS = write("empty.json", []byte(`{"keys":[]}`)) }, "no keys"},
		{"private key published", func(c *auth.JWTConfig) { c.JWKS = write("priv.json", privSet) }, "private key"},
		{"symmetric key", func(c *auth.JWTConfig) { c.JWKS = write("sym.json", symSet) }, "symmetric key"},
		{"key without kid", func(c *auth.JWTConfig) { c.JWKS = write("nokid.json", noKid) }, "no kid"},
		{"encryption key only", func(c *auth.JWTConfig) { c.JWKS = write("enc.json", encOnly) }, "not a signature key"},
		{"plain http", func(c *auth.JWTConfig) { c.JWKS = "http://idp.example/jwks" }, "https"},
		{"other scheme", func(c *auth.JWTConfig) { c.JWKS = "ftp://idp.example/jwks" }, "not https"},
		{"credentials in URL", func(c *auth.JWTConfig) { c.JWKS = "https://u:p@idp.example/jwks" }, "credentials"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := auth.JWTConfig{JWKS: good, Issuer: testIssuer, Audience: testAudience, Logger: quietLog}
			c.mod(&cfg)
			_, err := auth.NewJWTVerifier(context.Background(), cfg)
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not mention %q", err, c.want)
			}
		})
	}
}

func TestKeySetSkipsKeysItCannotUse(t *testing.T) {
	encKey, _ := key("rsa-other").PublicKey()
	_ = encKey.Set(jwk.KeyUsageKey, jwk.ForEncryption)
	_ = encKey.Set(jwk.KeyIDKey, "enc-1")
	sigKey, _ := key("ed-1").PublicKey()
	set := jwk.NewSet()
	_ = set.AddKey(encKey)
	_ = set.AddKey(sigKey)
	data, _ := json.Marshal(set)
	// An unknown key type, as an identity provider publishing post-quantum keys would.
	data = []byte(strings.Replace(string(data), `"keys":[`, `"keys":[{"kty":"ML-DSA","kid":"pq-1","pub":"AAAA"},`, 1))
	path := filepath.Join(t.TempDir(), "jwks.json")
	writeAtomic(t, path, data)
	v, err := auth.NewJWTVerifier(context.Background(), auth.JWTConfig{JWKS: path, Issuer: testIssuer, Audience: testAudience, Logger: quietLog})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(context.Background(), sign(t, "ed-1", jwa.EdDSA(), claims(nil), nil)); err != nil {
		t.Errorf("signature key: %v", err)
	}
	if _, err := v.Verify(context.Background(), sign(t, "rsa-other", jwa.RS256(), claims(nil), map[string]any{"kid": "enc-1"})); !errors.Is(err, auth.ErrTokenKey) {
		t.Errorf("token naming the encryption key: %v, want ErrTokenKey", err)
	}
}
