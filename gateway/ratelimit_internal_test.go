package gateway

import (
	"crypto/sha256"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/nrm-albania/nrm/services/platform/auth"
)

func keyOf(i int) principalKey { return sha256.Sum256(fmt.Appendf(nil, "principal %d", i)) }

// FakeClock is a settable time source for the rate limiter, exported to the package's external
// tests too (Options.Now). It stands still unless a test moves it, so that a limit shows the same
// whatever the speed of the machine.
type FakeClock struct {
	mu sync.Mutex
	t  time.Time
}

// NewFakeClock returns a clock standing at a fixed instant.
func NewFakeClock() *FakeClock { return &FakeClock{t: time.Date(2026, 10, 2, 9, 0, 0, 0, time.UTC)} }

// Now is the clock's time.
func (c *FakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock on by d.
func (c *FakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// testLimiter is a limiter on a fake clock with one limit for every principal.
type testLimiter struct {
	*rateLimiter
	r rateOf
}

func (l testLimiter) allow(key principalKey) (bool, time.Duration) {
	return l.rateLimiter.allow(key, l.r)
}

func newTestLimiter(perSecond, burst, max int) (testLimiter, *FakeClock) {
	clock := NewFakeClock()
	return testLimiter{newRateLimiter(max, clock.Now), rateOf{perSecond, burst}}, clock
}

func TestLimiterBudget(t *testing.T) {
	l, clock := newTestLimiter(2, 3, 10)
	a := keyOf(1)
	for i := range 3 {
		if ok, _ := l.allow(a); !ok {
			t.Fatalf("request %d within the burst refused", i)
		}
	}
	ok, wait := l.allow(a)
	if ok || wait <= 0 || wait > 500*time.Millisecond {
		t.Fatalf("over the burst: allowed %t, wait %v; want refused with a wait of at most 1/rate", ok, wait)
	}
	// A refusal takes nothing: after the wait exactly one request goes through.
	clock.Advance(wait)
	if ok, _ := l.allow(a); !ok {
		t.Fatal("refused after waiting as told")
	}
	if ok, _ := l.allow(a); ok {
		t.Fatal("a second request allowed before the next token")
	}
}

func TestLimiterTableIsBounded(t *testing.T) {
	l, _ := newTestLimiter(1, 1, 3)
	for i := range 10 {
		l.allow(keyOf(i))
		if n := l.size(); n > 3 {
			t.Fatalf("after %d principals the table holds %d, bound 3", i+1, n)
		}
	}
	// The least recently used went first: principal 0 was evicted and starts afresh, while the
	// most recent keeps its spent budget.
	if ok, _ := l.allow(keyOf(9)); ok {
		t.Error("the most recent principal lost its state")
	}
	if ok, _ := l.allow(keyOf(0)); !ok {
		t.Error("an evicted principal was not given a new bucket")
	}
	// Use refreshes: a principal used again survives newcomers that push older ones out.
	l2, _ := newTestLimiter(1, 1, 3)
	l2.allow(keyOf(1))
	l2.allow(keyOf(2))
	l2.allow(keyOf(3))
	l2.allow(keyOf(1)) // refused, but now the most recently used
	l2.allow(keyOf(4)) // evicts 2
	if _, ok := l2.byKey[keyOf(1)]; !ok {
		t.Error("a principal in use was evicted before idle ones")
	}
	if _, ok := l2.byKey[keyOf(2)]; ok {
		t.Error("the least recently used principal was kept")
	}
}

func TestLimiterDropsIdlePrincipals(t *testing.T) {
	l, clock := newTestLimiter(10, 20, 1000) // a bucket fills up again in 2 s
	for i := range 100 {
		l.allow(keyOf(i))
	}
	clock.Advance(time.Second)
	l.allow(keyOf(1000))
	if n := l.size(); n != 101 {
		t.Fatalf("after 1 s the table holds %d, want all 101: no bucket is full yet", n)
	}
	clock.Advance(time.Second)
	l.allow(keyOf(1001))
	if n := l.size(); n != 2 {
		t.Errorf("after 2 s idle the table holds %d, want the 2 recent principals only", n)
	}
}

// A flood of distinct tokens, as fast as the machine goes, on the real bound.
func TestLimiterFloodStaysWithinTheBound(t *testing.T) {
	if testing.Short() {
		t.Skip("floods the limiter table")
	}
	l, _ := newTestLimiter(20, 40, maxPrincipals)
	const workers, each = 8, (maxPrincipals + maxPrincipals/4) / 8
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				l.allow(keyOf(w*each + i))
			}
		})
	}
	wg.Wait()
	if n := l.size(); n > maxPrincipals || n != len(l.byKey) {
		t.Errorf("table holds %d entries (map %d) after %d principals, bound %d", n, len(l.byKey), workers*each, maxPrincipals)
	}
}

func TestRetryAfter(t *testing.T) {
	for _, tt := range []struct {
		wait time.Duration
		want int
	}{{0, 1}, {time.Nanosecond, 1}, {999 * time.Millisecond, 1}, {time.Second, 1}, {1001 * time.Millisecond, 2}, {30 * time.Second, 30}} {
		if got := retryAfter(tt.wait); got != tt.want {
			t.Errorf("retryAfter(%v) = %d, want %d", tt.wait, got, tt.want)
		}
	}
}

func TestClientAddr(t *testing.T) {
	proxies, err := parseTrustedProxies("10.0.0.0/8, 2001:db8:ffff::/48, 192.0.2.10")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		remote  string
		xff     []string
		trusted []netip.Prefix
		want    string // "" when there is no address
	}{
		{"direct", "198.51.100.7:5000", nil, proxies, "198.51.100.7"},
		{"direct, forwarded header ignored", "198.51.100.7:5000", []string{"203.0.113.1"}, proxies, "198.51.100.7"},
		{"no proxies trusted", "10.0.0.2:5000", []string{"203.0.113.1"}, nil, "10.0.0.2"},
		{"one trusted proxy", "10.0.0.2:5000", []string{"203.0.113.1"}, proxies, "203.0.113.1"},
		{"a single trusted address", "192.0.2.10:5000", []string{"203.0.113.1"}, proxies, "203.0.113.1"},
		{"spoofed entries left of the proxy's", "10.0.0.2:5000", []string{"6.6.6.6, 7.7.7.7, 203.0.113.1"}, proxies, "203.0.113.1"},
		{"a chain of trusted proxies", "10.0.0.2:5000", []string{"203.0.113.1, 10.9.9.9, 10.0.0.3"}, proxies, "203.0.113.1"},
		{"several headers read as one list", "10.0.0.2:5000", []string{"6.6.6.6, 203.0.113.1", "10.0.0.3"}, proxies, "203.0.113.1"},
		{"all hops trusted", "10.0.0.2:5000", []string{"10.0.0.8, 10.0.0.9"}, proxies, "10.0.0.8"},
		{"trusted proxy without the header", "10.0.0.2:5000", nil, proxies, "10.0.0.2"},
		{"garbage hop: the proxy is the key", "10.0.0.2:5000", []string{"203.0.113.1, unknown"}, proxies, "10.0.0.2"},
		{"garbage left of the client is not read", "10.0.0.2:5000", []string{"unknown, 203.0.113.1"}, proxies, "203.0.113.1"},
		{"hop with a port", "10.0.0.2:5000", []string{"203.0.113.1:4711"}, proxies, "203.0.113.1"},
		{"IPv6 hop with a port", "10.0.0.2:5000", []string{"[2001:db8:1::5]:4711"}, proxies, "2001:db8:1::5"},
		{"IPv6 hop in brackets", "10.0.0.2:5000", []string{"[2001:db8:1::5]"}, proxies, "2001:db8:1::5"},
		{"IPv6 proxy", "[2001:db8:ffff::1]:443", []string{"2001:db8:1::5"}, proxies, "2001:db8:1::5"},
		{"IPv4-mapped proxy address", "[::ffff:10.0.0.2]:5000", []string{"203.0.113.1"}, proxies, "203.0.113.1"},
		{"IPv4-mapped hop", "10.0.0.2:5000", []string{"::ffff:203.0.113.1"}, proxies, "203.0.113.1"},
		{"not an IP connection", "@", nil, proxies, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/v1/cases", nil)
			r.RemoteAddr = tt.remote
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			a, ok := clientAddr(r, tt.trusted)
			got := ""
			if ok {
				got = a.String()
			}
			if got != tt.want {
				t.Errorf("clientAddr = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPrincipalOf(t *testing.T) {
	req := func(remote string) *http.Request {
		r := httptest.NewRequest(http.MethodGet, "/v1/cases", nil)
		r.RemoteAddr = remote
		return r
	}
	who := func(institution, subject string) *auth.Principal {
		return &auth.Principal{Institution: institution, Subject: subject}
	}
	type keyed struct {
		r *http.Request
		p *auth.Principal
	}
	key := func(k keyed) principalKey { key, _ := principalOf(k.r, k.p, nil); return key }

	if _, kind := principalOf(req("198.51.100.7:1"), who("KKSAT", "ana"), nil); kind != principalToken {
		t.Errorf("a verified principal is of kind %q", kind)
	}
	if _, kind := principalOf(req("198.51.100.7:1"), nil, nil); kind != principalAddress {
		t.Errorf("a request without one is of kind %q", kind)
	}
	here := req("198.51.100.7:1")
	tests := []struct {
		name string
		a, b keyed
		same bool
	}{
		// Two tokens of one caller (a refreshed token, say) share one budget.
		{"one principal from two addresses", keyed{here, who("KKSAT", "ana")}, keyed{req("203.0.113.5:2"), who("KKSAT", "ana")}, true},
		{"two subjects of one institution", keyed{here, who("KKSAT", "ana")}, keyed{here, who("KKSAT", "ben")}, false},
		{"one subject name in two institutions", keyed{here, who("KKSAT", "ana")}, keyed{here, who("MB-DPAM", "ana")}, false},
		{"names that run together differently", keyed{here, who("AB", "C")}, keyed{here, who("A", "BC")}, false},
		{"a principal and no principal from one address", keyed{here, who("KKSAT", "ana")}, keyed{here, nil}, false},
		{"one address, two ports", keyed{req("198.51.100.7:1"), nil}, keyed{req("198.51.100.7:2"), nil}, true},
		{"two addresses", keyed{req("198.51.100.7:1"), nil}, keyed{req("198.51.100.8:1"), nil}, false},
		{"one IPv6 /64", keyed{req("[2001:db8:1:2::1]:1"), nil}, keyed{req("[2001:db8:1:2:ffff::9]:1"), nil}, true},
		{"two IPv6 /64s", keyed{req("[2001:db8:1:2::1]:1"), nil}, keyed{req("[2001:db8:1:3::1]:1"), nil}, false},
		// A subject that happens to spell an address cannot borrow that address's budget.
		{"subject equal to an address", keyed{here, who("", "198.51.100.7")}, keyed{here, nil}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if same := key(tt.a) == key(tt.b); same != tt.same {
				t.Errorf("same key %t, want %t", same, tt.same)
			}
		})
	}
}

func TestLimitsOf(t *testing.T) {
	l := limits{
		byDefault:    rateOf{20, 40},
		institutions: map[string]rateOf{"MB-DPAM": {50, 100}, "KKSAT": {10, 20}},
		subjects:     map[string]rateOf{"portal-svc": {200, 400}},
	}
	tests := []struct {
		name string
		p    *auth.Principal
		want rateOf
	}{
		{"no principal", nil, rateOf{20, 40}},
		{"an institution without a limit of its own", &auth.Principal{Institution: "ASP-ANTITRAF", Subject: "ana"}, rateOf{20, 40}},
		{"an institution with one", &auth.Principal{Institution: "KKSAT", Subject: "ana"}, rateOf{10, 20}},
		{"a subject with one, in an institution with one", &auth.Principal{Institution: "MB-DPAM", Subject: "portal-svc"}, rateOf{200, 400}},
		{"a subject with one, in another institution", &auth.Principal{Institution: "ASP-ANTITRAF", Subject: "portal-svc"}, rateOf{200, 400}},
	}
	for _, tt := range tests {
		if got := l.of(tt.p); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

// Each principal keeps the limit it was given, and an idle one is dropped when its own bucket is
// full again.
func TestLimiterPerPrincipalLimits(t *testing.T) {
	clock := NewFakeClock()
	l := newRateLimiter(10, clock.Now)
	slow, fast := keyOf(1), keyOf(2)
	for i := range 2 {
		if ok, _ := l.allow(slow, rateOf{1, 2}); !ok {
			t.Fatalf("slow request %d refused within its burst", i)
		}
	}
	if ok, _ := l.allow(slow, rateOf{1, 2}); ok {
		t.Error("slow principal allowed over its burst of 2")
	}
	for i := range 5 {
		if ok, _ := l.allow(fast, rateOf{5, 5}); !ok {
			t.Fatalf("fast request %d refused within its burst", i)
		}
	}
	if ok, wait := l.allow(fast, rateOf{5, 5}); ok || wait != 200*time.Millisecond {
		t.Errorf("fast principal over its burst: allowed %t, wait %v; want refused for 200ms", ok, wait)
	}
	// The fast bucket is full again after 1 s, the slow one after 2 s.
	clock.Advance(time.Second)
	l.allow(keyOf(3), rateOf{1, 1})
	if _, kept := l.byKey[slow]; !kept {
		t.Error("the slow principal was dropped before its bucket was full")
	}
	clock.Advance(time.Second)
	l.allow(keyOf(3), rateOf{1, 1})
	if n := l.size(); n != 1 {
		t.Errorf("after 2 s the table holds %d, want only the principal just seen", n)
	}
}

// HSTS needs a TLS connection, which Run does not serve yet: the edge is driven directly.
func TestStrictTransportSecurityOnlyOverTLS(t *testing.T) {
	mux := runtime.NewServeMux(runtime.WithErrorHandler(writeError), runtime.WithRoutingErrorHandler(routes{}.routingError))
	cfg := Defaults()
	es := edgeSettings{limits: limits{byDefault: rateOf{cfg.RateLimit, cfg.RateBurst}}}
	e := newEdge(cfg, es, nil, nil, mux, newObserver(slog.New(slog.NewTextHandler(io.Discard, nil)), prometheus.NewRegistry()), prometheus.NewRegistry())
	for _, overTLS := range []bool{false, true} {
		t.Run(fmt.Sprintf("tls=%t", overTLS), func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/v1/nothing", nil)
			if overTLS {
				r.TLS = &tls.ConnectionState{}
			}
			w := httptest.NewRecorder()
			e.ServeHTTP(w, r)
			got := w.Header().Values("Strict-Transport-Security")
			switch {
			case overTLS && (len(got) != 1 || got[0] != "max-age=63072000"):
				t.Errorf("Strict-Transport-Security %q over TLS, want max-age=63072000", got)
			case !overTLS && len(got) != 0:
				t.Errorf("Strict-Transport-Security %q over plain HTTP", got)
			}
			if w.Header().Get("X-Content-Type-Options") != "nosniff" || w.Header().Get("Content-Security-Policy") == "" {
				t.Errorf("the other security headers are missing: %v", w.Header())
			}
		})
	}
}
