// Package admin serves the operators' HTTP port: liveness, readiness that reflects the real
// state of the dependencies, Prometheus metrics and pprof.
package admin

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/pprof"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Check reports whether one dependency is usable. It must return quickly; it is given a short
// deadline.
type Check func(ctx context.Context) error

// Handler returns the admin mux. Checks are keyed by dependency name ("mongodb", "nats").
// Readiness is also false while draining, which the caller signals with the draining flag.
func Handler(gatherer prometheus.Gatherer, checks map[string]Check, draining func() bool) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ready, results := runChecks(r.Context(), checks)
		if draining() {
			ready = false
			results["shutdown"] = "draining"
		}
		code := http.StatusOK
		st := "ready"
		if !ready {
			code, st = http.StatusServiceUnavailable, "not ready"
		}
		writeJSON(w, code, map[string]any{"status": st, "checks": results})
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(gatherer, promhttp.HandlerOpts{}))
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// runChecks runs every check concurrently with a two-second deadline.
func runChecks(ctx context.Context, checks map[string]Check) (bool, map[string]string) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	names := make([]string, 0, len(checks))
	for n := range checks {
		names = append(names, n)
	}
	sort.Strings(names)
	res := make([]error, len(names))
	var wg sync.WaitGroup
	for i, n := range names {
		wg.Go(func() { res[i] = checks[n](ctx) })
	}
	wg.Wait()
	ready := true
	out := make(map[string]string, len(names))
	for i, n := range names {
		if res[i] != nil {
			ready = false
			out[n] = res[i].Error()
		} else {
			out[n] = "ok"
		}
	}
	return ready, out
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// Readiness asks the admin port at addr (host:port) for its readiness checks: each check's
// name with "ok" or what is wrong. Launchers and tests use it to wait for one check.
func Readiness(ctx context.Context, addr string) (map[string]string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/readyz", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var body struct {
		Checks map[string]string `json:"checks"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, fmt.Errorf("readiness of %s: %w", addr, err)
	}
	return body.Checks, nil
}
