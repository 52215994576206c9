package auth

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jwt"
)

// Dev mode: a local issuer so that `make run` works without an identity provider. Nothing in
// the production binaries calls this unless the launcher asks for it.

// File names in the dev data directory, and the dev issuer's identity.
const (
	DevKeyFile    = "dev-signing-key.pem"
	DevJWKSFile   = "dev-jwks.json"
	DevTokensFile = "dev-tokens.env"
	DevIssuerName = "nrm-dev"
	DevAudience   = "nrm"
	// DevTokenTTL is how long the printed dev tokens stay valid.
	DevTokenTTL = 30 * 24 * time.Hour
)

// DevIssuer mints tokens with a local Ed25519 key.
type DevIssuer struct {
	dir string
	key jwk.Key // private, with kid and alg
}

// DevToken is one named dev token, as written to dev-tokens.env.
type DevToken struct {
	Name  string
	Token string
}

// LoadOrCreateDevIssuer keeps an Ed25519 signing key in dir/dev-signing-key.pem (0600) so
// tokens survive restarts, and writes the public JWKS to dir/dev-jwks.json; issuer "nrm-dev",
// audience "nrm". Several services may start at once on the same dir: the key is created
// atomically, so they all end up with the same one.
func LoadOrCreateDevIssuer(dir string) (*DevIssuer, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("auth: dev data dir: %w", err)
	}
	keyPath := filepath.Join(dir, DevKeyFile)
	priv, err := readDevKey(keyPath)
	if errors.Is(err, os.ErrNotExist) {
		priv, err = createDevKey(keyPath)
	}
	if err != nil {
		return nil, fmt.Errorf("auth: dev signing key: %w", err)
	}
	key, err := jwk.Import(priv)
	if err != nil {
		return nil, fmt.Errorf("auth: dev signing key: %w", err)
	}
	if err := jwk.AssignKeyID(key); err != nil {
		return nil, fmt.Errorf("auth: dev signing key: %w", err)
	}
	if err := key.Set(jwk.AlgorithmKey, jwa.EdDSA()); err != nil {
		return nil, fmt.Errorf("auth: dev signing key: %w", err)
	}
	d := &DevIssuer{dir: dir, key: key}
	if err := d.writeJWKS(); err != nil {
		return nil, fmt.Errorf("auth: dev JWKS: %w", err)
	}
	return d, nil
}

func readDevKey(path string) (ed25519.PrivateKey, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%s is accessible to other users (mode %s); chmod 600 it", path, fi.Mode().Perm())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("%s is not a PEM private key", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%s is not an Ed25519 key", path)
	}
	return priv, nil
}

// createDevKey writes a new key under a temporary name and links it into place; if another
// process got there first the link fails and that process's key is used.
func createDevKey(path string) (ed25519.PrivateKey, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, err
	}
	tmp, err := writeTemp(filepath.Dir(path), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp)
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, os.ErrExist) {
			return readDevKey(path)
		}
		return nil, err
	}
	return priv, nil
}

// writeTemp writes data to a new 0600 file in dir and returns its name.
func writeTemp(dir string, data []byte) (string, error) {
	f, err := os.CreateTemp(dir, ".tmp-")
	if err != nil {
		return "", err
	}
	name := f.Name()
	// CreateTemp already makes 0600 files; the Chmod says so explicitly.
	if err := f.Chmod(0o600); err == nil {
		_, err = f.Write(data)
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			return name, nil
		}
	} else {
		f.Close()
	}
	os.Remove(name)
	return "", err
}

// writeFileAtomic replaces path with data (0600), so a reader never sees half a file.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := writeTemp(filepath.Dir(path), data)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

func (d *DevIssuer) writeJWKS() error {
	pub, err := d.key.PublicKey()
	if err != nil {
		return err
	}
	if err := pub.Set(jwk.KeyUsageKey, jwk.ForSignature); err != nil {
		return err
	}
	set := jwk.NewSet()
	if err := set.AddKey(pub); err != nil {
		return err
	}
	data, err := json.MarshalIndent(set, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(d.dir, DevJWKSFile), append(data, '\n'))
}

// JWTConfig returns the verification settings that accept this issuer's tokens.
func (d *DevIssuer) JWTConfig() JWTConfig {
	return JWTConfig{
		JWKS:       "file:" + filepath.Join(d.dir, DevJWKSFile),
		Issuer:     DevIssuerName,
		Audience:   DevAudience,
		Algorithms: []string{"EdDSA"},
	}
}

// Mint signs a token for p (Institution, Subject, Roles; Method and OnBehalfOf are ignored)
// valid for ttl. p is checked as a verifier would check it, so a minted token always verifies.
func (d *DevIssuer) Mint(p Principal, ttl time.Duration) (string, error) {
	return mint(d.key, jwa.EdDSA(), DevIssuerName, DevAudience, p, ttl)
}

// mint builds and signs a token carrying p.
func mint(key jwk.Key, alg jwa.SignatureAlgorithm, issuer, audience string, p Principal, ttl time.Duration) (string, error) {
	if ttl <= 0 {
		return "", errors.New("auth: token lifetime must be positive")
	}
	if _, err := newPrincipal(p.Institution, p.Subject, roleNames(p.Roles), MethodJWT); err != nil {
		return "", fmt.Errorf("auth: cannot mint a token: %w", err)
	}
	var jti [16]byte
	if _, err := rand.Read(jti[:]); err != nil {
		return "", err
	}
	now := time.Now()
	tok, err := jwt.NewBuilder().
		Issuer(issuer).
		Audience([]string{audience}).
		Subject(p.Subject).
		IssuedAt(now).
		NotBefore(now).
		Expiration(now.Add(ttl)).
		JwtID(hex.EncodeToString(jti[:])).
		Claim(ClaimInstitution, p.Institution).
		Claim(ClaimRoles, roleNames(p.Roles)).
		Build()
	if err != nil {
		return "", err
	}
	signed, err := jwt.Sign(tok, jwt.WithKey(alg, key))
	if err != nil {
		return "", fmt.Errorf("auth: sign token: %w", err)
	}
	return string(signed), nil
}

// devTokenSpecs are the tokens `make run` prints.
var devTokenSpecs = []devTokenSpec{
	{"NRM_TOKEN_SECRETARIAT", "MB-SEKRETARIATI", "dev-secretariat", []Role{RoleSecretariat}},
	{"NRM_TOKEN_CHAIR", "MB-DPAM", "dev-chair", []Role{RoleChair, RoleMember}},
	{"NRM_TOKEN_CASEWORKER_POLICE", "ASP-ANTITRAF", "dev-caseworker-police", []Role{RoleCaseworker, RoleMember}},
	{"NRM_TOKEN_CASEWORKER_SHELTER", "KKSAT", "dev-caseworker-shelter", []Role{RoleCaseworker, RoleMember}},
	{"NRM_TOKEN_ANALYST", "MB-DPAM", "dev-analyst", []Role{RoleAnalyst}},
	{"NRM_TOKEN_AUDITOR", "MB-DPAM", "dev-auditor", []Role{RoleAuditor}},
	// One member of each of the 13 institutions of point 2 (the secretariat's composition, whose
	// stack test checks this list against it): to reply to invitations and approve reports.
	member("MB-DPAM"), member("ASP-ANTITRAF"), member("ASP-KUFIRI"), member("ASP-DHF-MINORE"), member("ASP-KIBERNETIK"),
	member("MEPJ-KONSULLORE"), member("MSHMS"), member("ASHDMF"), member("SHSSH"), member("MAS"), member("AKPA"),
	member("ISHPSHSH"), member("KKSAT"),
}

type devTokenSpec = struct {
	name, institution, subject string
	roles                      []Role
}

// member is the spec of a member institution's token, NRM_TOKEN_MEMBER_<CODE> with "-" as "_".
func member(code string) devTokenSpec {
	return devTokenSpec{"NRM_TOKEN_MEMBER_" + strings.ReplaceAll(code, "-", "_"), code, "dev-member-" + strings.ToLower(code), []Role{RoleMember}}
}

// DevTokens mints the dev tokens (valid 30 days) and writes dir/dev-tokens.env (0600)
// with lines NAME=token, returning them in that order.
func (d *DevIssuer) DevTokens(dir string) ([]DevToken, error) {
	out := make([]DevToken, 0, len(devTokenSpecs))
	var b strings.Builder
	b.WriteString("# Development tokens minted by the local dev issuer (nrm-dev). Never valid outside `make run`.\n")
	for _, s := range devTokenSpecs {
		tok, err := d.Mint(Principal{Institution: s.institution, Subject: s.subject, Roles: s.roles}, DevTokenTTL)
		if err != nil {
			return nil, err
		}
		out = append(out, DevToken{Name: s.name, Token: tok})
		fmt.Fprintf(&b, "%s=%s\n", s.name, tok)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("auth: dev tokens: %w", err)
	}
	if err := writeFileAtomic(filepath.Join(dir, DevTokensFile), []byte(b.String())); err != nil {
		return nil, fmt.Errorf("auth: dev tokens: %w", err)
	}
	return out, nil
}
