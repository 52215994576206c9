package gateway_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/nrm-albania/nrm/gateway"
)

// step is one request of a rate-limit scenario and the status it must get.
type step struct {
	path    string // default /v1/cases/c-0001
	headers []string
	status  int
}

func TestRateLimitPerPrincipal(t *testing.T) {
	const (
		tokenA = "Authorization: Bearer token-a"
		tokenB = "Authorization: Bearer token-b"
	)
	ok, limited := http.StatusOK, http.StatusTooManyRequests
	tests := []struct {
		name    string
		proxies string
		steps   []step
	}{
		{
			name:  "the third rapid request with a token is refused",
			steps: []step{{headers: []string{tokenA}, status: ok}, {headers: []string{tokenA}, status: ok}, {headers: []string{tokenA}, status: limited}},
		},
		{
			name: "another token has its own budget",
			steps: []step{
				{headers: []string{tokenA}, status: ok}, {headers: []string{tokenA}, status: ok}, {headers: []string{tokenA}, status: limited},
				{headers: []string{tokenB}, status: ok}, {headers: []string{tokenB}, status: ok}, {headers: []string{tokenB}, status: limited},
			},
		},
		{
			name: "without a token the client address is the key",
			steps: []step{
				{status: ok}, {status: ok}, {status: limited},
				// The same address with a token is another principal.
				{headers: []string{tokenA}, status: ok},
			},
		},
		{
			name: "a client cannot pick its key with X-Forwarded-For",
			steps: []step{
				{headers: []string{"X-Forwarded-For: 192.0.2.1"}, status: ok},
				{headers: []string{"X-Forwarded-For: 192.0.2.2"}, status: ok},
				{headers: []string{"X-Forwarded-For: 192.0.2.3"}, status: limited},
			},
		},
		{
			name:    "behind a trusted proxy the forwarded client is the key",
			proxies: "127.0.0.1/32",
			steps: []step{
				{headers: []string{"X-Forwarded-For: 192.0.2.1"}, status: ok},
				{headers: []string{"X-Forwarded-For: 192.0.2.1"}, status: ok},
				{headers: []string{"X-Forwarded-For: 192.0.2.2"}, status: ok},
				// A spoofed entry left of what the proxy appended changes nothing.
				{headers: []string{"X-Forwarded-For: 203.0.113.9, 192.0.2.1"}, status: limited},
			},
		},
		{
			name: "the OpenAPI document is not limited",
			steps: []step{
				{path: "/openapi.json", status: ok}, {path: "/openapi.json", status: ok},
				{path: "/openapi.json", status: ok}, {path: "/openapi.json", status: ok},
			},
		},
		{
			name: "unknown paths count too",
			steps: []step{
				{path: "/v1/nothing", headers: []string{tokenA}, status: http.StatusNotFound},
				{path: "/v1/nothing", headers: []string{tokenA}, status: http.StatusNotFound},
				{headers: []string{tokenA}, status: limited},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := start(t, func(c *gateway.Config) {
				c.RateLimit, c.RateBurst, c.TrustedProxies = 1, 2, tt.proxies
				c.CORSAllowedOrigins = portal
			})
			began := time.Now()
			var refused int
			for i, s := range tt.steps {
				path := s.path
				if path == "" {
					path = "/v1/cases/c-0001"
				}
				before := len(e.cases.recorded())
				r := e.do(t, http.MethodGet, e.api+path, "", append([]string{"Origin: " + portal}, s.headers...)...)
				if r.status != s.status {
					if s.status == limited && time.Since(began) >= time.Second {
						// One request a second refills the budget: a machine this slow
						// cannot show the limit.
						t.Skipf("step %d came %v after the first; too slow for a 1/s limit", i, time.Since(began))
					}
					t.Fatalf("step %d (%s %v): status %d, want %d; body %s", i, path, s.headers, r.status, s.status, r.body)
				}
				if r.status != limited {
					if r.header.Get("Retry-After") != "" {
						t.Errorf("step %d: Retry-After on a %d", i, r.status)
					}
					continue
				}
				refused++
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
			if counted != refused {
				t.Errorf("gateway_rate_limited_requests_total adds up to %d, want %d", counted, refused)
			}
		})
	}
}

func TestRateLimitMetricsAndLog(t *testing.T) {
	e := start(t, func(c *gateway.Config) { c.RateLimit, c.RateBurst = 1, 1 })
	e.do(t, http.MethodGet, e.api+"/v1/cases/c-0001", "", "Authorization: Bearer t")
	r := e.do(t, http.MethodGet, e.api+"/v1/cases/c-0001", "", "Authorization: Bearer t", "X-Request-Id: limited-1")
	if r.status != http.StatusTooManyRequests {
		t.Skipf("status %d: too slow for a 1/s limit", r.status)
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
	if strings.Contains(e.logs.String(), "Bearer t") {
		t.Error("the token is in the log")
	}
}

func TestRateLimitDisabled(t *testing.T) {
	e := start(t, func(c *gateway.Config) { c.RateLimit, c.RateBurst = 0, 0 })
	for i := range 50 {
		if r := e.do(t, http.MethodGet, e.api+"/v1/cases/c-0001", "", "Authorization: Bearer t"); r.status != http.StatusOK {
			t.Fatalf("request %d: status %d with the limit disabled", i, r.status)
		}
	}
	if strings.Contains(string(e.do(t, http.MethodGet, e.admin+"/metrics", "").body), "gateway_rate_limit_principals") {
		t.Error("a disabled limiter still tracks principals")
	}
}
