package gateway_test

import (
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	caseregistryv1 "github.com/nrm-albania/nrm/proto/nrm/caseregistry/v1"
	"github.com/nrm-albania/nrm/services/platform/auth"
)

func TestHeadersReachTheBackend(t *testing.T) {
	e := start(t, nil)
	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	token := e.issuer.Token(t, "KKSAT", auth.RoleCaseworker)
	r := e.do(t, http.MethodPost, e.api+"/v1/cases", registerBody,
		"Idempotency-Key: 0b7c5a1e-retry",
		"X-Request-Id: portal-req-42",
		"Authorization: Bearer "+token,
		"Traceparent: 00-"+traceID+"-00f067aa0ba902b7-01",
	)
	if r.status != http.StatusOK {
		t.Fatalf("status %d; body %s", r.status, r.body)
	}
	md := e.cases.last(t).md
	for key, want := range map[string][]string{
		"idempotency-key": {"0b7c5a1e-retry"},
		"x-request-id":    {"portal-req-42"},
		"authorization":   {"Bearer " + token},
		// The permanent headers keep grpc-gateway's default forwarding.
		"grpcgateway-content-type": {"application/json"},
	} {
		if got := md.Get(key); !slices.Equal(got, want) {
			t.Errorf("metadata %s = %q, want %q", key, got, want)
		}
	}
	if got := md.Get("grpcgateway-authorization"); len(got) != 0 {
		t.Errorf("the credential is forwarded twice, also as grpcgateway-authorization")
	}
	if tp := md.Get("traceparent"); len(tp) != 1 || !strings.Contains(tp[0], traceID) {
		t.Errorf("traceparent %q, want the caller's trace %s", tp, traceID)
	}

	if got := r.header.Values("X-Request-Id"); !slices.Equal(got, []string{"portal-req-42"}) {
		t.Errorf("X-Request-Id %q, want the caller's", got)
	}
	if got := r.header.Values("Grpc-Metadata-X-Request-Id"); len(got) != 0 {
		t.Errorf("the backend's x-request-id comes back a second time as Grpc-Metadata-X-Request-Id: %q", got)
	}
	if got := r.header.Get("Grpc-Metadata-X-Backend"); got != "RegisterCase" {
		t.Errorf("Grpc-Metadata-X-Backend %q: other backend headers must keep the default forwarding", got)
	}
}

func TestRequestIDs(t *testing.T) {
	e := start(t, nil)
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	tests := []struct {
		name, sent string
		keep       bool
	}{
		{"absent", "", false},
		{"acceptable", "a1.B2_c3:d4-e5", true},
		{"with spaces", "drop table cases", false},
		{"too long", strings.Repeat("x", 129), false},
		{"markup", "<script>alert(1)</script>", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var headers []string
			if tt.sent != "" {
				headers = append(headers, "X-Request-Id: "+tt.sent)
			}
			r := e.do(t, http.MethodGet, e.api+"/v1/cases/c-0001", "", headers...)
			if r.status != http.StatusOK {
				t.Fatalf("status %d; body %s", r.status, r.body)
			}
			got := r.header.Get("X-Request-Id")
			switch {
			case tt.keep && got != tt.sent:
				t.Errorf("X-Request-Id %q, want the caller's %q", got, tt.sent)
			case !tt.keep && !uuid.MatchString(got):
				t.Errorf("X-Request-Id %q, want a fresh UUID", got)
			}
			if sent := e.cases.last(t).md.Get("x-request-id"); !slices.Equal(sent, []string{got}) {
				t.Errorf("backend got x-request-id %q, want exactly the returned %q", sent, got)
			}
		})
	}
}

func TestSecurityHeadersOnEveryResponse(t *testing.T) {
	e := start(t, nil)
	e.stats.set("GetCaseStatistics", fail(status.Error(codes.Unavailable, "projection rebuilding")))
	tests := []struct {
		name, method, path, body string
		status                   int
		cacheControl             string
	}{
		{"success", http.MethodGet, "/v1/members", "", http.StatusOK, "no-store"},
		{"backend error", http.MethodGet, "/v1/statistics/cases", "", http.StatusServiceUnavailable, "no-store"},
		{"bad body", http.MethodPost, "/v1/cases", "{", http.StatusBadRequest, "no-store"},
		{"unknown route", http.MethodGet, "/v1/nope", "", http.StatusNotFound, "no-store"},
		{"OpenAPI document", http.MethodGet, "/openapi.json", "", http.StatusOK, "no-cache"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(t, tt.method, e.api+tt.path, tt.body)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d; body %s", r.status, tt.status, r.body)
			}
			for name, want := range map[string]string{
				"X-Content-Type-Options":  "nosniff",
				"Referrer-Policy":         "no-referrer",
				"Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
				"Cache-Control":           tt.cacheControl,
				"Content-Type":            "application/json",
			} {
				if got := r.header.Get(name); got != want {
					t.Errorf("%s %q, want %q", name, got, want)
				}
			}
			if r.header.Get("X-Request-Id") == "" {
				t.Error("no X-Request-Id")
			}
		})
	}
}

func TestOneLogLinePerRequestWithoutPersonalData(t *testing.T) {
	e := start(t, nil)
	e.do(t, http.MethodPost, e.api+"/v1/cases", registerBody, "X-Request-Id: log-1")
	e.do(t, http.MethodGet, e.api+"/v1/cases/c-0001", "", "X-Request-Id: log-2")
	e.do(t, http.MethodGet, e.api+"/v1/statistics/cases?from=2026-01-01&to=2026-12-31", "", "X-Request-Id: log-3")
	e.do(t, http.MethodGet, e.api+"/v1/unknown/path", "", "X-Request-Id: log-4")

	want := map[string]struct {
		method, route string
		status        float64
	}{
		"log-1": {"POST", "/v1/cases", 200},
		"log-2": {"GET", "/v1/cases/{id}", 200},
		"log-3": {"GET", "/v1/statistics/cases", 200},
		"log-4": {"GET", "/v1/unknown/path", 404},
	}
	seen := map[string]int{}
	for _, rec := range e.logs.records(t, "http request") {
		id, _ := rec["request_id"].(string)
		w, ok := want[id]
		if !ok {
			t.Errorf("log line for an unexpected request: %v", rec)
			continue
		}
		seen[id]++
		if rec["method"] != w.method || rec["route"] != w.route || rec["status"] != w.status {
			t.Errorf("%s: logged %v %v %v, want %s %s %v", id, rec["method"], rec["route"], rec["status"], w.method, w.route, w.status)
		}
		if b, _ := rec["bytes"].(float64); b <= 0 {
			t.Errorf("%s: bytes %v, want the response size", id, rec["bytes"])
		}
		if _, ok := rec["duration_ms"].(float64); !ok {
			t.Errorf("%s: no duration_ms", id)
		}
		if _, ok := rec["trace_id"].(string); !ok {
			t.Errorf("%s: no trace_id", id)
		}
	}
	for id := range want {
		if seen[id] != 1 {
			t.Errorf("%s: %d log lines, want 1", id, seen[id])
		}
	}
	// Neither body values, nor query values, nor ids in a matched path are logged.
	log := e.logs.String()
	for _, secret := range []string{"ASP-ANTITRAF", "SEX_FEMALE", "2026-10-02", "2026-12-31", "c-0001"} {
		if strings.Contains(log, secret) {
			t.Errorf("the log contains %q", secret)
		}
	}
}

// Optimistic concurrency over REST: If-Match reaches the registry, the case's etag comes back
// as ETag, and a PATCH without update_mask gets one made of the fields in the body.
func TestIfMatchAndETag(t *testing.T) {
	e := start(t, nil)
	r := e.do(t, http.MethodPatch, e.api+"/v1/cases/c-0001", `{"profile":{"educationLevel":"EDUCATION_LEVEL_TERTIARY"}}`,
		`If-Match: "6"`)
	if r.status != http.StatusOK {
		t.Fatalf("status %d; body %s", r.status, r.body)
	}
	got := e.cases.last(t)
	if v := got.md.Get("if-match"); !slices.Equal(v, []string{`"6"`}) {
		t.Errorf("if-match metadata %q", v)
	}
	req, ok := got.req.(*caseregistryv1.UpdateCaseRequest)
	if !ok {
		t.Fatalf("request %T", got.req)
	}
	// The path names the case in id; case.id is left for gRPC clients built before id existed.
	if req.GetId() != "c-0001" || req.GetCase().GetId() != "" || !slices.Equal(req.GetUpdateMask().GetPaths(), []string{"profile.education_level"}) {
		t.Errorf("request %v", req)
	}
	if tag := r.header.Get("ETag"); tag != `"7"` {
		t.Errorf("ETag %q", tag)
	}
	if v := r.header.Values("Grpc-Metadata-Etag"); len(v) != 0 {
		t.Errorf("the etag also comes back as Grpc-Metadata-Etag: %q", v)
	}
}
