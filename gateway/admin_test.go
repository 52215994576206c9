package gateway_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

// readiness is the /readyz body.
type readiness struct {
	Status string            `json:"status"`
	Checks map[string]string `json:"checks"`
}

func (e *env) readyz(t *testing.T) (int, readiness) {
	t.Helper()
	r := e.do(t, http.MethodGet, e.admin+"/readyz", "")
	var rd readiness
	if err := json.Unmarshal(r.body, &rd); err != nil {
		t.Fatalf("/readyz: %v; body %s", err, r.body)
	}
	return r.status, rd
}

func TestReadinessFollowsTheBackends(t *testing.T) {
	e := start(t, nil)
	if r := e.do(t, http.MethodGet, e.admin+"/healthz", ""); r.status != http.StatusOK {
		t.Errorf("/healthz: status %d", r.status)
	}

	code, rd := e.readyz(t)
	if code != http.StatusOK {
		t.Errorf("all backends up: status %d, want 200; %+v", code, rd)
	}
	for _, name := range []string{"caseregistry", "referral", "secretariat", "reporting"} {
		if rd.Checks[name] != "ok" {
			t.Errorf("check %s = %q, want ok", name, rd.Checks[name])
		}
	}

	e.stats.health.SetServingStatus("", healthpb.HealthCheckResponse_NOT_SERVING)
	code, rd = e.readyz(t)
	if code != http.StatusServiceUnavailable || !strings.Contains(rd.Checks["reporting"], "NOT_SERVING") {
		t.Errorf("reporting not serving: status %d, checks %v; want 503 naming reporting", code, rd.Checks)
	}
	e.stats.health.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)

	e.members.server.Stop()
	code, rd = e.readyz(t)
	if code != http.StatusServiceUnavailable || rd.Checks["secretariat"] == "ok" {
		t.Errorf("secretariat down: status %d, checks %v; want 503 naming secretariat", code, rd.Checks)
	}
	for _, name := range []string{"caseregistry", "referral", "reporting"} {
		if rd.Checks[name] != "ok" {
			t.Errorf("check %s = %q while only secretariat is down", name, rd.Checks[name])
		}
	}
	// A request for the backend that is down: the caller learns to retry, the log the cause,
	// and nobody outside the internal address.
	r := e.do(t, http.MethodGet, e.api+"/v1/members", "", "X-Request-Id: to-secretariat")
	wantError(t, r, http.StatusServiceUnavailable, int(codes.Unavailable))
	if strings.Contains(string(r.body), e.members.addr) {
		t.Errorf("the error shows the backend's address: %s", r.body)
	}
	var logged bool
	for _, rec := range e.logs.records(t, "http request") {
		if rec["request_id"] == "to-secretariat" {
			cause, _ := rec["error"].(string)
			logged = strings.Contains(cause, e.members.addr)
		}
	}
	if !logged {
		t.Error("the log line of the request does not give the cause")
	}
}

func TestMetricsAndProfiles(t *testing.T) {
	e := start(t, nil)
	e.do(t, http.MethodGet, e.api+"/v1/members", "")
	e.do(t, http.MethodGet, e.api+"/v1/cases/c-0001", "")
	e.do(t, http.MethodGet, e.api+"/v1/cases/c-0002", "")
	e.do(t, http.MethodGet, e.api+"/v1/private/c-0003", "")
	e.do(t, "BREW", e.api+"/v1/members", "")

	r := e.do(t, http.MethodGet, e.admin+"/metrics", "")
	if r.status != http.StatusOK {
		t.Fatalf("/metrics: status %d", r.status)
	}
	metrics := string(r.body)
	for _, want := range []string{
		`gateway_http_requests_total{code="200",method="GET",route="/v1/members"} 1`,
		`gateway_http_requests_total{code="200",method="GET",route="/v1/cases/{id}"} 2`,
		`gateway_http_requests_total{code="404",method="GET",route="unmatched"} 1`,
		`gateway_http_requests_total{code="405",method="OTHER",route="unmatched"} 1`,
		`gateway_http_request_duration_seconds_count{code="200",method="GET",route="/v1/cases/{id}"} 2`,
		`gateway_http_request_duration_seconds_bucket{code="200",method="GET",route="/v1/members",le="+Inf"} 1`,
		"go_goroutines ",
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(metrics, "c-0003") {
		t.Error("an unmatched path became a label value")
	}

	if r := e.do(t, http.MethodGet, e.admin+"/debug/pprof/", ""); r.status != http.StatusOK {
		t.Errorf("/debug/pprof/: status %d", r.status)
	}
}

// The calls to the backends are counted per gRPC method and code, with their latency, as the
// services count them on their side.
func TestBackendCallMetrics(t *testing.T) {
	e := start(t, nil)
	token := e.bearer(t, "KKSAT", "ana")
	e.do(t, http.MethodGet, e.api+"/v1/cases/c-0001", "", token)
	e.do(t, http.MethodGet, e.api+"/v1/cases/c-0002", "", token)
	e.cases.set("GetCase", fail(status.Error(codes.NotFound, "case c-0003 not found")))
	e.do(t, http.MethodGet, e.api+"/v1/cases/c-0003", "", token)
	e.do(t, http.MethodGet, e.api+"/v1/members", "", token)

	metrics := string(e.do(t, http.MethodGet, e.admin+"/metrics", "").body)
	const registry = `grpc_method="GetCase",grpc_service="nrm.caseregistry.v1.CaseRegistryService",grpc_type="unary"`
	for _, want := range []string{
		`grpc_client_started_total{` + registry + `} 3`,
		`grpc_client_handled_total{grpc_code="OK",` + registry + `} 2`,
		`grpc_client_handled_total{grpc_code="NotFound",` + registry + `} 1`,
		`grpc_client_handling_seconds_count{` + registry + `} 3`,
		`grpc_client_handled_total{grpc_code="OK",grpc_method="ListMembers",grpc_service="nrm.secretariat.v1.SecretariatService",grpc_type="unary"} 1`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func TestOpenAPIDocument(t *testing.T) {
	e := start(t, nil)
	r := e.do(t, http.MethodGet, e.api+"/openapi.json", "")
	if r.status != http.StatusOK {
		t.Fatalf("status %d", r.status)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	var doc struct {
		Swagger string                     `json:"swagger"`
		Paths   map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(r.body, &doc); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if doc.Swagger != "2.0" {
		t.Errorf("swagger %q, want 2.0", doc.Swagger)
	}
	for _, p := range []string{"/v1/cases", "/v1/cases/{id}", "/v1/members", "/v1/service-types", "/v1/statistics/cases"} {
		if _, ok := doc.Paths[p]; !ok {
			t.Errorf("the document lacks %s", p)
		}
	}

	etag := r.header.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	if r := e.do(t, http.MethodGet, e.api+"/openapi.json", "", "If-None-Match: "+etag); r.status != http.StatusNotModified {
		t.Errorf("revalidation: status %d, want 304", r.status)
	}
}
