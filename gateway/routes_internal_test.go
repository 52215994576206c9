package gateway

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	grpcprom "github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"
	"go.opentelemetry.io/otel/trace/noop"
)

// Every route the protos declare is found by the mux under the key the route table gives it: a
// request with an unknown parameter is refused on each, before any backend is called (the
// backends here are addresses nobody listens on).
func TestEveryRouteChecksItsQuery(t *testing.T) {
	cfg := Defaults()
	cfg.CaseRegistryAddr, cfg.ReferralAddr, cfg.SecretariatAddr, cfg.ReportingAddr = "127.0.0.1:1", "127.0.0.1:1", "127.0.0.1:1", "127.0.0.1:1"
	bs, err := dialBackends(cfg, noop.NewTracerProvider(), grpcprom.NewClientMetrics())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bs.close() })
	mux, err := newMux(context.Background(), bs)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := bs.routes()
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) < 20 {
		t.Fatalf("only %d routes read from the descriptors", len(rs))
	}
	for key, rt := range rs {
		path := pathVariable.ReplaceAllString(rt.template, "x-1")
		t.Run(key, func(t *testing.T) {
			r := httptest.NewRequest(rt.method, path+"?notAParameter=1", strings.NewReader("{}"))
			w := httptest.NewRecorder()
			mux.ServeHTTP(w, r)
			if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "notAParameter") {
				t.Errorf("status %d, want 400 naming the parameter; body %s", w.Code, w.Body)
			}
		})
	}
}

func TestReadsQuery(t *testing.T) {
	rs, err := routesOf("nrm.caseregistry.v1.CaseRegistryService", "nrm.audit.v1.AuditService")
	if err != nil {
		t.Fatal(err)
	}
	list, update := rs[routeKey(http.MethodGet, "/v1/cases")], rs[routeKey(http.MethodPatch, "/v1/cases/{id}")]
	if list == nil || update == nil {
		t.Fatalf("routes missing from %v", rs)
	}
	tests := []struct {
		rt   *route
		key  string
		want bool
	}{
		{list, "pageSize", true},
		{list, "page_size", true},
		{list, "identifyingInstitution", true},
		{list, "identifyingInstituion", false},
		{list, "", false},
		{list, "pageSize.x", false},          // a value has no fields
		{list, "PageSize", false},            // names are matched exactly
		{update, "updateMask", true},         // a well-known type is one value
		{update, "update_mask.paths", false}, // and is not spelt field by field
		{update, "expectedVersion", true},
		{update, "case", false}, // the body
		{update, "id", false},   // the path
		{update, "case.id", false},
		{update, "case.profile.sex", false},
		{update, "confirmed_different_person", true},
	}
	for _, tt := range tests {
		if got := tt.rt.readsQuery(tt.key); got != tt.want {
			t.Errorf("%s %s reads %q: %t, want %t", tt.rt.method, tt.rt.template, tt.key, got, tt.want)
		}
	}
	if got := strings.Join(update.queryParams(), ","); got != "updateMask,expectedVersion,confirmedDifferentPerson,differentPersonReason" {
		t.Errorf("update accepts %s", got)
	}
}
