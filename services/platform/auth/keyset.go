package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"
)

const (
	// maxJWKSBytes bounds a key set read from a file or URL; real sets are a few kilobytes.
	maxJWKSBytes = 1 << 20
	// fetchTimeout bounds one JWKS read, so a hung identity provider cannot hold a refresh.
	fetchTimeout = 10 * time.Second
	// unknownKidRefetchInterval limits how often a token naming an unknown key makes the
	// verifier re-read the key set: often enough to pick up an issuer's new key within seconds
	// of its first use, rarely enough that tokens with made-up kids cannot hammer the issuer.
	unknownKidRefetchInterval = 30 * time.Second
	// minRSABits refuses RSA keys too short to be trusted.
	minRSABits = 2048
)

// verificationKey is one public key of the set, reduced to what verification needs.
type verificationKey struct {
	alg  string   // the "alg" the key declares, "" when it declares none
	algs []string // the algorithms the key's type and size can verify
	pub  any      // *rsa.PublicKey, *ecdsa.PublicKey or ed25519.PublicKey
}

// keySet maps kid to key. It is never modified once built; a refresh swaps in a new one.
type keySet struct {
	keys map[string]*verificationKey
}

// parseKeySet reads a JWK set (or a single JWK) and keeps the keys usable for verifying
// signatures. Keys for other purposes (encryption, unsupported types) are skipped, because
// identity providers publish them alongside; private or symmetric key material makes the
// whole set an error, because it means secrets were published or the wrong file configured.
func parseKeySet(data []byte) (*keySet, error) {
	set, err := jwk.Parse(data, jwk.WithStrictKeySetParsing(false), jwk.WithRejectDuplicateKID(true))
	if err != nil {
		return nil, fmt.Errorf("not a JWK set: %w", err)
	}
	ks := &keySet{keys: make(map[string]*verificationKey)}
	var skipped []string
	for i := range set.Len() {
		key, _ := set.Key(i)
		vk, kid, skip, err := verificationKeyOf(key)
		if err != nil {
			return nil, fmt.Errorf("key #%d: %w", i, err)
		}
		if skip != "" {
			skipped = append(skipped, fmt.Sprintf("key #%d %s", i, skip))
			continue
		}
		ks.keys[kid] = vk
	}
	if len(ks.keys) == 0 {
		if len(skipped) == 0 {
			return nil, errors.New("no keys")
		}
		return nil, fmt.Errorf("no usable signature verification key (%s)", strings.Join(skipped, "; "))
	}
	return ks, nil
}

// verificationKeyOf converts one JWK. A non-empty skip says why the key is not usable.
func verificationKeyOf(key jwk.Key) (vk *verificationKey, kid, skip string, err error) {
	if jwk.IsUnsupportedKey(key) {
		return nil, "", "has an unsupported key type", nil
	}
	if use, ok := key.KeyUsage(); ok && use != "" && use != string(jwk.ForSignature) {
		return nil, "", "is not a signature key (use " + use + ")", nil
	}
	if ops, ok := key.KeyOps(); ok && !slices.Contains(ops, jwk.KeyOpVerify) {
		return nil, "", "does not allow verify in key_ops", nil
	}
	var raw any
	if err := jwk.Export(key, &raw); err != nil {
		return nil, "", "", fmt.Errorf("cannot read key: %w", err)
	}
	var algs []string
	switch k := raw.(type) {
	case []byte:
		return nil, "", "", errors.New("symmetric key: a verification key set must hold public keys only")
	case *rsa.PrivateKey, *ecdsa.PrivateKey, ed25519.PrivateKey, *ed25519.PrivateKey:
		return nil, "", "", errors.New("private key material: publish only the public key")
	case *rsa.PublicKey:
		if k.N.BitLen() < minRSABits {
			return nil, "", fmt.Sprintf("is an RSA key shorter than %d bits", minRSABits), nil
		}
		algs = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			algs = []string{"ES256"}
		case elliptic.P384():
			algs = []string{"ES384"}
		case elliptic.P521():
			algs = []string{"ES512"}
		default:
			return nil, "", "is on an unsupported curve", nil
		}
	case ed25519.PublicKey:
		algs = []string{"EdDSA", "Ed25519"}
	default:
		return nil, "", fmt.Sprintf("is a %s key, which cannot verify signatures", key.KeyType()), nil
	}
	kid, ok := key.KeyID()
	if !ok || kid == "" {
		return nil, "", "has no kid (tokens must name their key)", nil
	}
	vk = &verificationKey{algs: algs, pub: raw}
	if a, ok := key.Algorithm(); ok && a.String() != "" {
		if !slices.Contains(algs, a.String()) {
			return nil, "", fmt.Sprintf("declares alg %s, which does not fit its key type", a), nil
		}
		vk.alg = a.String()
	}
	return vk, kid, "", nil
}

// jwksSource is where the key set comes from: a file or an HTTPS URL.
type jwksSource struct {
	path   string
	url    *url.URL
	client *http.Client
}

// parseJWKSLocation accepts "file:/path", a plain path, or an https URL. Plain http is
// accepted only for a loopback host: anyone on the path of a JWKS fetch could otherwise
// substitute their own key and mint tokens for any institution.
func parseJWKSLocation(loc string, client *http.Client) (jwksSource, error) {
	switch {
	case loc == "":
		return jwksSource{}, errors.New("JWKS location is empty")
	case strings.HasPrefix(loc, "file:"):
		p := strings.TrimPrefix(loc, "file:")
		p = strings.TrimPrefix(p, "//") // file:///etc/x → /etc/x
		if p == "" {
			return jwksSource{}, errors.New("JWKS file path is empty")
		}
		return jwksSource{path: p}, nil
	case strings.Contains(loc, "://"):
		u, err := url.Parse(loc)
		if err != nil || u.Host == "" {
			return jwksSource{}, errors.New("JWKS URL is not a URL with a host")
		}
		switch {
		case u.Scheme == "https":
		case u.Scheme == "http" && isLoopback(u.Hostname()):
		case u.Scheme == "http":
			return jwksSource{}, errors.New("JWKS URL must use https (plain http only for a loopback host)")
		default:
			return jwksSource{}, fmt.Errorf("JWKS URL scheme %q is not https", u.Scheme)
		}
		if u.User != nil {
			return jwksSource{}, errors.New("JWKS URL must not carry credentials")
		}
		if client == nil {
			client = &http.Client{Timeout: fetchTimeout}
		}
		// A copy, so that the caller's client keeps its own redirect policy. Redirects are
		// refused: one could lead from https to a plain-http or attacker-chosen location.
		c := *client
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		return jwksSource{url: u, client: &c}, nil
	default:
		return jwksSource{path: loc}, nil
	}
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// String names the source in errors and logs.
func (s jwksSource) String() string {
	if s.url != nil {
		return s.url.Redacted()
	}
	return s.path
}

// read returns the raw key set.
func (s jwksSource) read(ctx context.Context) ([]byte, error) {
	if s.url == nil {
		f, err := os.Open(s.path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return readLimited(f)
	}
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP status %s", resp.Status)
	}
	return readLimited(resp.Body)
}

func readLimited(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxJWKSBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxJWKSBytes {
		return nil, fmt.Errorf("larger than %d bytes", maxJWKSBytes)
	}
	return data, nil
}

// keyStore holds the current key set and refreshes it. There is no background loop: a lookup
// that finds the set older than the refresh interval starts one re-read in the background
// and carries on with the current set; a lookup for an unknown kid waits for a re-read (rate
// limited), so that an issuer's new key works from its first token. A failed re-read keeps
// the previous set and is logged.
type keyStore struct {
	src     jwksSource
	refresh time.Duration
	log     *slog.Logger
	now     func() time.Time

	current atomic.Pointer[keySet]

	mu        sync.Mutex
	running   chan struct{} // closed when the re-read in progress ends; nil when none runs
	lastStart time.Time
}

func newKeyStore(ctx context.Context, src jwksSource, refresh time.Duration, log *slog.Logger, now func() time.Time) (*keyStore, error) {
	s := &keyStore{src: src, refresh: refresh, log: log, now: now, lastStart: now()}
	ks, err := s.load(ctx)
	if err != nil {
		return nil, fmt.Errorf("JWKS %s: %w", src, err)
	}
	s.current.Store(ks)
	return s, nil
}

func (s *keyStore) load(ctx context.Context) (*keySet, error) {
	data, err := s.src.read(ctx)
	if err != nil {
		return nil, err
	}
	return parseKeySet(data)
}

// lookup returns the key with the given kid.
func (s *keyStore) lookup(ctx context.Context, kid string) (*verificationKey, bool) {
	s.startRefresh(s.refresh)
	if k, ok := s.current.Load().keys[kid]; ok {
		return k, true
	}
	done := s.startRefresh(min(s.refresh, unknownKidRefetchInterval))
	if done == nil {
		return nil, false
	}
	select {
	case <-done:
	case <-ctx.Done():
		return nil, false
	}
	k, ok := s.current.Load().keys[kid]
	return k, ok
}

// startRefresh starts a re-read unless one runs (then it returns that one) or one started less
// than gap ago (then it returns nil).
func (s *keyStore) startRefresh(gap time.Duration) <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running != nil {
		return s.running
	}
	if s.now().Sub(s.lastStart) < gap {
		return nil
	}
	s.lastStart = s.now()
	done := make(chan struct{})
	s.running = done
	go func() {
		defer func() {
			s.mu.Lock()
			s.running = nil
			s.mu.Unlock()
			close(done)
		}()
		// Not the caller's context: the re-read serves every caller, and one caller giving
		// up must not abort it.
		ks, err := s.load(context.Background())
		if err != nil {
			s.log.Warn("JWKS refresh failed; keeping the previous keys", "jwks", s.src.String(), "error", err)
			return
		}
		if old := s.current.Swap(ks); !sameKids(old, ks) {
			s.log.Info("JWKS refreshed", "jwks", s.src.String(), "kids", kids(ks))
		}
	}()
	return done
}

func kids(ks *keySet) []string {
	out := make([]string, 0, len(ks.keys))
	for k := range ks.keys {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func sameKids(a, b *keySet) bool { return slices.Equal(kids(a), kids(b)) }
