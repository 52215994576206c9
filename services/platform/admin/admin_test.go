package admin_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/nrm-albania/nrm/services/platform/admin"
)

func TestHealthzIsOK(t *testing.T) {
	failing := map[string]admin.Check{"mongodb": fails("down")}
	rec := serve(t, admin.Handler(prometheus.NewRegistry(), failing, draining(true)), "GET", "/healthz")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d, want 200: liveness must not depend on checks or draining", rec.Code)
	}
	assertJSONHeaders(t, rec)
	var body map[string]string
	decode(t, rec, &body)
	if body["status"] != "ok" {
		t.Errorf("body %v", body)
	}
}

func TestReadyz(t *testing.T) {
	tests := []struct {
		name       string
		checks     map[string]admin.Check
		draining   bool
		wantCode   int
		wantStatus string
		wantChecks map[string]string
	}{
		{
			name:       "no checks",
			wantCode:   http.StatusOK,
			wantStatus: "ready",
			wantChecks: map[string]string{},
		},
		{
			name:       "all checks ok",
			checks:     map[string]admin.Check{"mongodb": ok, "nats": ok},
			wantCode:   http.StatusOK,
			wantStatus: "ready",
			wantChecks: map[string]string{"mongodb": "ok", "nats": "ok"},
		},
		{
			name:       "one check fails",
			checks:     map[string]admin.Check{"mongodb": fails("server selection timeout"), "nats": ok},
			wantCode:   http.StatusServiceUnavailable,
			wantStatus: "not ready",
			wantChecks: map[string]string{"mongodb": "server selection timeout", "nats": "ok"},
		},
		{
			name:       "every check fails",
			checks:     map[string]admin.Check{"mongodb": fails("m down"), "nats": fails("nats is CONNECTING")},
			wantCode:   http.StatusServiceUnavailable,
			wantStatus: "not ready",
			wantChecks: map[string]string{"mongodb": "m down", "nats": "nats is CONNECTING"},
		},
		{
			name:       "draining",
			checks:     map[string]admin.Check{"mongodb": ok},
			draining:   true,
			wantCode:   http.StatusServiceUnavailable,
			wantStatus: "not ready",
			wantChecks: map[string]string{"mongodb": "ok", "shutdown": "draining"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := admin.Handler(prometheus.NewRegistry(), tt.checks, draining(tt.draining))
			rec := serve(t, h, "GET", "/readyz")
			if rec.Code != tt.wantCode {
				t.Errorf("status %d, want %d", rec.Code, tt.wantCode)
			}
			assertJSONHeaders(t, rec)
			var body struct {
				Status string            `json:"status"`
				Checks map[string]string `json:"checks"`
			}
			decode(t, rec, &body)
			if body.Status != tt.wantStatus {
				t.Errorf("status %q, want %q", body.Status, tt.wantStatus)
			}
			if !maps.Equal(body.Checks, tt.wantChecks) {
				t.Errorf("checks %v, want %v", body.Checks, tt.wantChecks)
			}
		})
	}
}

func TestReadyzGivesChecksATwoSecondDeadline(t *testing.T) {
	var (
		mu       sync.Mutex
		called   time.Time
		deadline time.Time
		hasDL    bool
	)
	blocks := func(ctx context.Context) error {
		mu.Lock()
		called = time.Now() // the deadline was set before this
		deadline, hasDL = ctx.Deadline()
		mu.Unlock()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Minute): // only if the deadline is not enforced
			return errors.New("check was never cancelled")
		}
	}
	h := admin.Handler(prometheus.NewRegistry(), map[string]admin.Check{"mongodb": blocks, "nats": ok}, draining(false))
	rec := serve(t, h, "GET", "/readyz")
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("status %d, want 503", rec.Code)
	}
	var body struct{ Checks map[string]string }
	decode(t, rec, &body)
	if body.Checks["mongodb"] != context.DeadlineExceeded.Error() {
		t.Errorf("mongodb check %q, want %q", body.Checks["mongodb"], context.DeadlineExceeded)
	}
	if body.Checks["nats"] != "ok" {
		t.Errorf("nats check %q: a slow check must not fail the others", body.Checks["nats"])
	}
	mu.Lock()
	defer mu.Unlock()
	if !hasDL {
		t.Fatal("check context has no deadline")
	}
	if d := deadline.Sub(called); d > 2*time.Second {
		t.Errorf("check deadline %s after the check started, want at most 2s", d)
	}
}

func TestReadyzChecksSeeTheRequestCancellation(t *testing.T) {
	h := admin.Handler(prometheus.NewRegistry(), map[string]admin.Check{"mongodb": func(ctx context.Context) error {
		<-ctx.Done()
		return ctx.Err()
	}}, draining(false))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := httptest.NewRequestWithContext(ctx, "GET", "/readyz", nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var body struct{ Checks map[string]string }
	decode(t, rec, &body)
	if body.Checks["mongodb"] != context.Canceled.Error() {
		t.Errorf("mongodb check %q, want %q", body.Checks["mongodb"], context.Canceled)
	}
}

func TestReadyzRunsChecksConcurrently(t *testing.T) {
	// Each check waits for the other to have started: run one after the other, the first would
	// wait until its deadline and fail.
	var started sync.WaitGroup
	started.Add(2)
	both := make(chan struct{})
	go func() { started.Wait(); close(both) }()
	meet := func(ctx context.Context) error {
		started.Done()
		select {
		case <-both:
			return nil
		case <-ctx.Done():
			return errors.New("the other check did not run meanwhile")
		}
	}
	h := admin.Handler(prometheus.NewRegistry(), map[string]admin.Check{"mongodb": meet, "nats": meet}, draining(false))
	rec := serve(t, h, "GET", "/readyz")
	if rec.Code != http.StatusOK {
		t.Errorf("status %d, want 200: %s", rec.Code, rec.Body)
	}
}

func TestMetricsServesTheRegistry(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "nrm_test_events_total", Help: "Test events."})
	reg.MustRegister(c)
	c.Add(3)
	rec := serve(t, admin.Handler(reg, nil, draining(false)), "GET", "/metrics")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	body := rec.Body.String()
	if !strings.Contains(body, "nrm_test_events_total 3") {
		t.Errorf("metrics do not include the counter:\n%s", body)
	}
	if strings.Contains(body, "go_goroutines") {
		t.Error("metrics include the default registry's collectors; want only the given registry")
	}
}

func TestPprofIsServed(t *testing.T) {
	rec := serve(t, admin.Handler(prometheus.NewRegistry(), nil, draining(false)), "GET", "/debug/pprof/")
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "goroutine") {
		t.Errorf("status %d, body %.200s", rec.Code, rec.Body)
	}
}

func TestProbesAcceptOnlyGET(t *testing.T) {
	h := admin.Handler(prometheus.NewRegistry(), nil, draining(false))
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		if rec := serve(t, h, "POST", path); rec.Code != http.StatusMethodNotAllowed {
			t.Errorf("POST %s: status %d, want 405", path, rec.Code)
		}
	}
}

func TestUnknownPathIsNotFound(t *testing.T) {
	rec := serve(t, admin.Handler(prometheus.NewRegistry(), nil, draining(false)), "GET", "/nope")
	if rec.Code != http.StatusNotFound {
		t.Errorf("status %d, want 404", rec.Code)
	}
}

func ok(context.Context) error { return nil }

func fails(msg string) admin.Check {
	return func(context.Context) error { return errors.New(msg) }
}

func draining(v bool) func() bool { return func() bool { return v } }

func serve(t *testing.T, h http.Handler, method, path string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	return rec
}

func assertJSONHeaders(t *testing.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	if cc := rec.Header().Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q", cc)
	}
}

func decode(t *testing.T, rec *httptest.ResponseRecorder, v any) {
	t.Helper()
	b, _ := io.ReadAll(rec.Body)
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("body %q is not JSON: %v", b, err)
	}
}
