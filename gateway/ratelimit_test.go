package gateway_test

import (
	"cmp"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/nrm-albania/nrm/gateway"
	"github.com/nrm-albania/nrm/services/platform/auth"
)

// step is one request of a rate-limit scenario and the status it must get. The limiter's clock
// stands still, so every step comes at the same instant unless wait moves it on.
type step struct {
	path    string // default /v1/cases/c-0001
	as      string // the caller whose valid token is sent: a key of the scenario's callers
	headers []string
	wait    time.Duration // how far the clock moves before the request
	status  int
}

func TestRateLimitPerPrincipal(t *testing.T) {
	ok, limited, refused := http.StatusOK, http.StatusTooManyRequests, http.StatusUnauthorized
	// Two tokens of one caller, as after a refresh: different text, one principal.
	ana := auth.Principal{Institution: "KKSAT", Subject: "ana", Roles: []auth.Role{auth.RoleCaseworker}}
	tests := []struct {
		name   string
		adjust func(*gateway.Config)
		steps  []step
	}{
		{
			name:  "the third rapid request with a token is refused",
			steps: []step{{as: "ana"}, {as: "ana"}, {as: "ana", status: limited}},
		},
		{
			name: "another principal has its own budget",
			steps: []step{
				{as: "ana"}, {as: "ana"}, {as: "ana", status: limited},
				{as: "ben"}, {as: "ben"}, {as: "ben", status: limited},
			},
		},
		{
			name:  "a new token of the same principal gets no new budget",
			steps: []step{{as: "ana"}, {as: "ana-refreshed"}, {as: "ana-refreshed", status: limited}},
		},
		{
			name: "made-up tokens are refused and spend the address's budget",
			steps: []step{
				{headers: []string{"Authorization: Bearer made-up-1"}, status: refused},
				{headers: []string{"Authorization: Bearer made-up-2"}, status: refused},
				{headers: []string{"Authorization: Bearer made-up-3"}, status: limited},
				// The address is spent for requests without a token too, not for a real principal.
				{status: limited},
				{as: "ana"},
			},
		},
		{
			name:  "the budget refills as time passes",
			steps: []step{{as: "ana"}, {as: "ana"}, {as: "ana", status: limited}, {as: "ana", wait: time.Second}, {as: "ana", status: limited}},
		},
		{
			name:   "an institution's own limit",
			adjust: func(c *gateway.Config) { c.RateLimitInstitutions = "MB-DPAM=1/4, KKSAT=1/1" },
			steps: []step{
				{as: "dpam"}, {as: "dpam"}, {as: "dpam"}, {as: "dpam"}, {as: "dpam", status: limited},
				{as: "ana"}, {as: "ana", status: limited},
				// Without one, the default.
				{as: "police"}, {as: "police"}, {as: "police", status: limited},
			},
		},
		{
			name: "a service account's own limit wins over its institution's",
			adjust: func(c *gateway.Config) {
				c.RateLimitInstitutions, c.RateLimitSubjects = "MB-DPAM=1/1", "portal-svc=1/3"
			},
			steps: []step{
				{as: "portal"}, {as: "portal"}, {as: "portal"}, {as: "portal", status: limited},
				{as: "dpam"}, {as: "dpam", status: limited},
			},
		},
		{
			name: "without a token the client address is the key",
			steps: []step{
				{}, {}, {status: limited},
				// The same address with a token is another principal.
				{as: "ana"},
			},
		},
		{
			name: "a client cannot pick its key with X-Forwarded-For",
			steps: []step{
				{headers: []string{"X-Forwarded-For: 192.0.2.1"}},
				{headers: []string{"X-Forwarded-For: 192.0.2.2"}},
				{headers: []string{"X-Forwarded-For: 192.0.2.3"}, status: limited},
			},
		},
		{
			name:   "behind a trusted proxy the forwarded client is the key",
			adjust: func(c *gateway.Config) { c.TrustedProxies = "127.0.0.1/32" },
			steps: []step{
				{headers: []string{"X-Forwarded-For: 192.0.2.1"}},
				{headers: []string{"X-Forwarded-For: 192.0.2.1"}},
				{headers: []string{"X-Forwarded-For: 192.0.2.2"}},
				// A spoofed entry left of what the proxy appended changes nothing.
				{headers: []string{"X-Forwarded-For: 203.0.113.9, 192.0.2.1"}, status: limited},
			},
		},
		{
			name: "the OpenAPI document is not limited",
			steps: []step{
				{path: "/openapi.json"}, {path: "/openapi.json"}, {path: "/openapi.json"},
				{path: "/openapi.json", headers: []string{"Authorization: Bearer made-up"}},
			},
		},
		{
			name: "unknown paths count too",
			steps: []step{
				{path: "/v1/nothing", as: "ana", status: http.StatusNotFound},
				{path: "/v1/nothing", as: "ana", status: http.StatusNotFound},
				{as: "ana", status: limited},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := start(t, func(c *gateway.Config) {
				c.RateLimit, c.RateBurst = 1, 2
				c.CORSAllowedOrigins = portal
				if tt.adjust != nil {
					tt.adjust(c)
				}
			})
			tokens := map[string]string{
				"ana":           e.issuer.TokenFor(t, ana, time.Hour),
				"ana-refreshed": e.issuer.TokenFor(t, ana, 2*time.Hour),
				"ben":           e.issuer.Token(t, "KKSAT", auth.RoleCaseworker),
				"dpam":          e.issuer.Token(t, "MB-DPAM", auth.RoleCaseworker),
				"police":        e.issuer.Token(t, "ASP-ANTITRAF", auth.RoleCaseworker),
				"portal":        e.issuer.TokenFor(t, auth.Principal{Institution: "MB-DPAM", Subject: "portal-svc", Roles: []auth.Role{auth.RoleService}}, time.Hour),
			}
			var rateLimited int
			for i, s := range tt.steps {
				path := cmp.Or(s.path, "/v1/cases/c-0001")
				want := cmp.Or(s.status, ok)
				headers := append([]string{"Origin: " + portal}, s.headers...)
				if s.as != "" {
					headers = append(headers, "Authorization: Bearer "+tokens[s.as])
				}
				e.clock.Advance(s.wait)
				before := len(e.cases.recorded())
				r := e.do(t, http.MethodGet, e.api+path, "", headers...)
				if r.status != want {
					t.Fatalf("step %d (%s as %q %v): status %d, want %d; body %s", i, path, s.as, s.headers, r.status, want, r.body)
				}
				if r.status != limited {
					if r.header.Get("Retry-After") != "" {
						t.Errorf("step %d: Retry-After on a %d", i, r.status)
					}
					continue
				}
				rateLimited++
				got := wantError(t, r, limited, int(codes.ResourceExhausted))
				if !strings.Contains(got.Message, "too many requests") {
					t.Errorf("step %d: message %q", i, got.Message)
				}
				if secs, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || secs < 1 {
					t.Errorf("step %d: Retry-After %q, want whole seconds, at least 1", i, r.header.Get("Retry-After"))
				}
				// The portal must be able to read the refusal and its Retry-After.
				if r.header.Get("Access-Control-Allow-Origin") != portal || !listHas(r.header.Get("Access-Control-Expose-Headers"), "Retry-After") {
					t.Errorf("step %d: a 429 the portal cannot read: %v", i, corsHeaders(r.header))
				}
				if n := len(e.cases.recorded()) - before; n != 0 {
					t.Errorf("step %d: a refused request reached the backend", i)
				}
			}

			metrics := string(e.do(t, http.MethodGet, e.admin+"/metrics", "").body)
			var counted int
			for line := range strings.Lines(metrics) {
				if strings.HasPrefix(line, "gateway_rate_limited_requests_total{") {
					n, err := strconv.Atoi(strings.TrimSpace(line[strings.LastIndexByte(line, ' '):]))
					if err != nil {
						t.Fatalf("metric line %q", line)
					}
					counted += n
				}
			}
			if counted != rateLimited {
				t.Errorf("gateway_rate_limited_requests_total adds up to %d, want %d", counted, rateLimited)
			}
		})
	}
}

func TestRateLimitMetricsAndLog(t *testing.T) {
	e := start(t, func(c *gateway.Config) { c.RateLimit, c.RateBurst = 1, 1 })
	token := e.bearer(t, "KKSAT", "ana")
	e.do(t, http.MethodGet, e.api+"/v1/cases/c-0001", "", token)
	r := e.do(t, http.MethodGet, e.api+"/v1/cases/c-0001", "", token, "X-Request-Id: limited-1")
	if r.status != http.StatusTooManyRequests {
		t.Fatalf("status %d, want 429; body %s", r.status, r.body)
	}
	e.do(t, http.MethodGet, e.api+"/v1/cases/c-0001", "") // by address
	metrics := string(e.do(t, http.MethodGet, e.admin+"/metrics", "").body)
	for _, want := range []string{
		`gateway_rate_limited_requests_total{principal="token"} 1`,
		`gateway_http_requests_total{code="429",method="GET",route="unmatched"} 1`,
		"gateway_rate_limit_principals 2",
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	var logged bool
	for _, rec := range e.logs.records(t, "http request") {
		if rec["request_id"] == "limited-1" {
			cause, _ := rec["error"].(string)
			logged = rec["status"] == 429.0 && strings.Contains(cause, "rate limit")
		}
	}
	if !logged {
		t.Error("no log line tells why the request was refused")
	}
	if strings.Contains(e.logs.String(), strings.TrimPrefix(token, "Authorization: Bearer ")) {
		t.Error("the token is in the log")
	}
}

func TestRateLimitDisabled(t *testing.T) {
	e := start(t, func(c *gateway.Config) { c.RateLimit, c.RateBurst = 0, 0 })
	token := e.bearer(t, "KKSAT", "ana")
	for i := range 50 {
		if r := e.do(t, http.MethodGet, e.api+"/v1/cases/c-0001", "", token); r.status != http.StatusOK {
			t.Fatalf("request %d: status %d with the limit disabled", i, r.status)
		}
	}
	if strings.Contains(string(e.do(t, http.MethodGet, e.admin+"/metrics", "").body), "gateway_rate_limit_principals") {
		t.Error("a disabled limiter still tracks principals")
	}
}
