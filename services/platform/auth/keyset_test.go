package auth_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"

	"github.com/nrm-albania/nrm/services/platform/auth"
)

// eventually retries f until it succeeds or the deadline passes.
func eventually(t *testing.T, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// fakeClock is a time source the test moves; the key set's refresh intervals are measured on
// it, so no test waits for one to pass in real time.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

func TestJWKSFileRotationIsPickedUp(t *testing.T) {
	const refresh = time.Minute
	clock := newFakeClock()
	v, path := verifierFor(t, func(c *auth.JWTConfig) { c.Refresh, c.Clock = refresh, clock.Now }, "ed-1")
	ctx := context.Background()
	oldTok := sign(t, "ed-1", jwa.EdDSA(), claims(nil), nil)
	newTok := sign(t, "ed-2", jwa.EdDSA(), claims(nil), nil)
	if _, err := v.Verify(ctx, oldTok); err != nil {
		t.Fatalf("old key before rotation: %v", err)
	}
	if _, err := v.Verify(ctx, newTok); !errors.Is(err, auth.ErrTokenKey) {
		t.Fatalf("new key before rotation: %v, want ErrTokenKey", err)
	}

	// The issuer rotates: the new key is published, the old one withdrawn.
	writeAtomic(t, path, publicJWKS(t, "ed-2"))
	clock.Advance(refresh)
	// The first token under the new kid is accepted: an unknown kid waits for a re-read.
	if _, err := v.Verify(ctx, newTok); err != nil {
		t.Fatalf("new key after rotation: %v", err)
	}
	eventually(t, "old key still accepted after withdrawal", func() error {
		if _, err := v.Verify(ctx, oldTok); !errors.Is(err, auth.ErrTokenKey) {
			return errors.New("still accepted")
		}
		return nil
	})

	// A broken file (a half-finished edit) keeps the last good keys.
	writeAtomic(t, path, []byte(`{"keys":[{"kty":`))
	for range 5 {
		clock.Advance(refresh)
		if _, err := v.Verify(ctx, newTok); err != nil {
			t.Fatalf("after a broken JWKS file: %v", err)
		}
	}
}

// jwksServer serves a JWK set that the test can change or break, counting fetches.
type jwksServer struct {
	*httptest.Server
	body    atomic.Pointer[[]byte]
	broken  atomic.Bool
	fetches atomic.Int64
}

func newJWKSServer(t *testing.T, kids ...string) *jwksServer {
	s := &jwksServer{}
	s.set(t, kids...)
	s.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fetches.Add(1)
		switch {
		case r.URL.Path == "/redirect":
			http.Redirect(w, r, "/jwks", http.StatusFound)
		case s.broken.Load():
			http.Error(w, "down", http.StatusInternalServerError)
		default:
			w.Header().Set("Content-Type", "application/jwk-set+json")
			_, _ = w.Write(*s.body.Load())
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) set(t *testing.T, kids ...string) {
	b := publicJWKS(t, kids...)
	s.body.Store(&b)
}

func TestJWKSURLWithRefresh(t *testing.T) {
	const refresh = time.Minute
	clock := newFakeClock()
	srv := newJWKSServer(t, "ec-1")
	v, err := auth.NewJWTVerifier(context.Background(), auth.JWTConfig{
		JWKS: srv.URL + "/jwks", Issuer: testIssuer, Audience: testAudience,
		Refresh: refresh, HTTPClient: srv.Client(), Logger: quietLog, Clock: clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	oldTok := sign(t, "ec-1", jwa.ES256(), claims(nil), nil)
	newTok := sign(t, "rsa-1", jwa.RS256(), claims(nil), nil)
	if _, err := v.Verify(ctx, oldTok); err != nil {
		t.Fatalf("before rotation: %v", err)
	}

	srv.set(t, "rsa-1")
	clock.Advance(refresh)
	if _, err := v.Verify(ctx, newTok); err != nil {
		t.Fatalf("new key after rotation: %v", err)
	}
	eventually(t, "withdrawn key still accepted", func() error {
		if _, err := v.Verify(ctx, oldTok); !errors.Is(err, auth.ErrTokenKey) {
			return errors.New("still accepted")
		}
		return nil
	})

	// The identity provider goes down: the last good keys stay in use.
	srv.broken.Store(true)
	before := srv.fetches.Load()
	for range 5 {
		clock.Advance(refresh)
		if _, err := v.Verify(ctx, newTok); err != nil {
			t.Fatalf("while the JWKS URL fails: %v", err)
		}
	}
	eventually(t, "no re-fetch while the URL fails", func() error {
		if srv.fetches.Load() == before {
			return errors.New("no fetch")
		}
		return nil
	})
}

func TestJWKSURLFailsClearlyAtStart(t *testing.T) {
	srv := newJWKSServer(t, "ec-1")
	srv.broken.Store(true)
	cfg := auth.JWTConfig{JWKS: srv.URL + "/jwks", Issuer: testIssuer, Audience: testAudience, HTTPClient: srv.Client()}
	if _, err := auth.NewJWTVerifier(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "500") {
		t.Errorf("JWKS URL answering 500: %v, want an error naming the status", err)
	}
	srv.broken.Store(false)
	cfg.JWKS = srv.URL + "/redirect"
	if _, err := auth.NewJWTVerifier(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "302") {
		t.Errorf("JWKS URL redirecting: %v, want the redirect refused", err)
	}
	// Without the test server's CA the certificate is not trusted.
	cfg.JWKS, cfg.HTTPClient = srv.URL+"/jwks", nil
	if _, err := auth.NewJWTVerifier(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("untrusted JWKS server: %v, want a certificate error", err)
	}
}

func TestUnknownKidsDoNotHammerTheIssuer(t *testing.T) {
	srv := newJWKSServer(t, "ec-1")
	v, err := auth.NewJWTVerifier(context.Background(), auth.JWTConfig{
		JWKS: srv.URL + "/jwks", Issuer: testIssuer, Audience: testAudience,
		Refresh: time.Hour, HTTPClient: srv.Client(), Logger: quietLog,
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		tok := sign(t, "ed-1", jwa.EdDSA(), claims(nil), map[string]any{"kid": "made-up-" + string(rune('a'+i%26))})
		if _, err := v.Verify(context.Background(), tok); !errors.Is(err, auth.ErrTokenKey) {
			t.Fatalf("made-up kid: %v", err)
		}
	}
	if n := srv.fetches.Load(); n != 1 {
		t.Errorf("%d fetches for 50 unknown kids right after start, want only the initial one", n)
	}
}
