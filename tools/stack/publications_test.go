package stack_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/nrm-albania/nrm/tools/stack"
)

// The publications through REST on a year without cases: zero tables, exact counts refused to a
// caseworker, and the case-level file (no one to tell apart) as CSV.
func TestPublicationsThroughREST(t *testing.T) {
	s := startStack(t, func(*stack.Options) {})
	code, tables := call(t, "GET", s.GatewayURL+"/v1/publications/eurostat/2019", nil, secretariat(t, s))
	if code != http.StatusOK || tables["bySexAndAge"].(map[string]any)["totals"].(map[string]any)["total"] != "0" {
		t.Fatalf("eurostat: %d %v", code, tables)
	}
	code, body := call(t, "GET", s.GatewayURL+"/v1/publications/sdg-16-2-2/2025?exact=true", nil, bearerOf(t, s, "NRM_TOKEN_CASEWORKER_POLICE"))
	if code != http.StatusForbidden {
		t.Errorf("exact SDG for a caseworker: %d %v; want 403", code, body)
	}
	req, _ := http.NewRequest("GET", s.GatewayURL+"/v1/publications/case-level/2019", nil)
	req.Header.Set("Authorization", secretariat(t, s)["Authorization"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	csv, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") ||
		!strings.HasPrefix(string(csv), "year_of_identification,gender,") {
		t.Errorf("case-level file: %d %s %q", resp.StatusCode, resp.Header.Get("Content-Type"), csv)
	}
}
