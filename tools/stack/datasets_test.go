package stack_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nrm-albania/nrm/services/platform/testenv"
	"github.com/nrm-albania/nrm/tools/stack"
)

// The data reported by members through REST: the forms, a locked month reopened by the
// secretariat, validation, the cross-check against the registry's own count, completeness.
func TestDataReportedByMembersThroughREST(t *testing.T) {
	s := startStack(t, func(*stack.Options) {})
	sec := bearerOf(t, s, "NRM_TOKEN_SECRETARIAT")
	shelters := bearerOf(t, s, "NRM_TOKEN_MEMBER_KKSAT")
	police := bearerOf(t, s, "NRM_TOKEN_MEMBER_ASP_ANTITRAF")
	analyst := bearerOf(t, s, "NRM_TOKEN_ANALYST")
	url := s.GatewayURL + "/v1/data-sets"

	if code, out := call(t, "GET", url, nil, analyst); code != http.StatusOK || len(asSlice(out["dataSets"])) != 13 {
		t.Fatalf("list: %d %v, want the 13 members' forms", code, out)
	}
	code, out, h := callWithHeaders(t, "GET", url+"/KKSAT", nil, shelters)
	if code != http.StatusOK || h.Get("ETag") != `"1"` {
		t.Fatalf("KKSAT's form: %d %v etag %q", code, out, h.Get("ETag"))
	}

	// The secretariat adds an element; a member may not.
	form := `{"elements": [
	  {"code": "ADMISSIONS", "name": "Admissions", "parts": [{"code": "SEX_FEMALE", "name": "Female"}, {"code": "SEX_MALE", "name": "Male"}]},
	  {"code": "RESIDENTS_MONTH_END", "name": "Residents at the end of the month"},
	  {"code": "EXITS", "name": "Exits"},
	  {"code": "FAMILY_REUNIFICATIONS", "name": "Family reunifications"}]}`
	if code, _ := call(t, "PUT", url+"/KKSAT", strings.NewReader(form), with(shelters, "If-Match", `"1"`)); code != http.StatusForbidden {
		t.Fatalf("a member changing its form: %d, want 403", code)
	}
	if code, out := call(t, "PUT", url+"/KKSAT", strings.NewReader(form), with(sec, "If-Match", `"1"`)); code != http.StatusOK ||
		out["dataSet"].(map[string]any)["version"] != "2" {
		t.Fatalf("the secretariat changing KKSAT's form: %d %v", code, out)
	}

	// A case the police identified in January 2024, for the cross-check.
	body := withFields(t, example(t), map[string]any{
		"identification": map[string]any{
			"identifyingInstitution": "ASP-ANTITRAF", "identificationDate": "2024-01-15", "channel": "IDENTIFICATION_CHANNEL_POLICE_OPERATION",
		},
		"trafficking": map[string]any{"exploitationTypes": []string{"EXPLOITATION_TYPE_SEXUAL"}},
		"identity":    map[string]any{"givenName": "Test", "familyName": "Person", "dateOfBirth": "2006-06-01"},
	})
	if code, out := call(t, "POST", s.GatewayURL+"/v1/cases", strings.NewReader(string(body)), bearerOf(t, s, "NRM_TOKEN_CASEWORKER_POLICE")); code != http.StatusOK {
		t.Fatalf("register: %d %v", code, out)
	}
	testenv.Eventually(t, 30*time.Second, "the case counted in January 2024", func() bool {
		_, st := call(t, "GET", s.GatewayURL+"/v1/statistics/cases?from=2024-01-01&to=2024-01-31", nil, analyst)
		return st["total"] == "1"
	})

	// January 2024 locked long ago: refused until the secretariat reopens it, with a reason.
	sub := url + "/KKSAT/submissions/2024-01"
	shelterData := `{"values": [
	  {"element": "ADMISSIONS", "value": 3, "parts": [{"part": "SEX_FEMALE", "value": 2}, {"part": "SEX_MALE", "value": 1}]},
	  {"element": "RESIDENTS_MONTH_END", "value": 8}, {"element": "EXITS", "value": 1}, {"element": "FAMILY_REUNIFICATIONS", "value": 0}]}`
	if code, e := call(t, "PUT", sub, strings.NewReader(shelterData), shelters); code != http.StatusBadRequest || !containsReason(e, "PERIOD_LOCKED") {
		t.Fatalf("a locked month: %d %v, want PERIOD_LOCKED", code, e)
	}
	if code, e := call(t, "PUT", sub, strings.NewReader(shelterData), police); code != http.StatusForbidden || !containsReason(e, "NOT_YOUR_INSTITUTION") {
		t.Fatalf("the police submitting the shelters' data: %d %v, want NOT_YOUR_INSTITUTION", code, e)
	}
	if code, _ := call(t, "POST", sub+":reopen", strings.NewReader(`{}`), sec); code != http.StatusBadRequest {
		t.Fatalf("a reopening without a reason: %d, want 400", code)
	}
	for _, member := range []string{"KKSAT", "ASP-ANTITRAF"} {
		if code, out := call(t, "POST", url+"/"+member+"/submissions/2024-01:reopen", strings.NewReader(`{"reason": "first figures of the new system"}`), sec); code != http.StatusOK {
			t.Fatalf("reopen %s: %d %v", member, code, out)
		}
	}
	bad := strings.Replace(shelterData, `"value": 3`, `"value": 4`, 1)
	if code, e := call(t, "PUT", sub, strings.NewReader(bad), shelters); code != http.StatusBadRequest {
		t.Fatalf("parts not adding up: %d %v, want 400", code, e)
	}
	if code, out := call(t, "PUT", sub, strings.NewReader(shelterData), shelters); code != http.StatusOK ||
		out["submission"].(map[string]any)["timeliness"] != "TIMELINESS_LATE" {
		t.Fatalf("the shelters' submission after the reopening: %d %v", code, out)
	}

	// The police report 3 identified; the registry counts 1: accepted, with a warning naming both.
	code, out = call(t, "PUT", url+"/ASP-ANTITRAF/submissions/2024-01", strings.NewReader(`{"values": [
	  {"element": "PV_IDENTIFIED", "value": 3}, {"element": "CRIMINAL_PROCEEDINGS", "value": 1}]}`), police)
	if code != http.StatusOK {
		t.Fatalf("the police's submission: %d %v", code, out)
	}
	w := asSlice(out["submission"].(map[string]any)["warnings"])
	if len(w) != 1 || w[0].(map[string]any)["reported"] != "3" || w[0].(map[string]any)["registry"] != "1" {
		t.Errorf("warnings %v, want PV_IDENTIFIED reported 3, registry 1", w)
	}

	code, c := call(t, "GET", url+"/completeness/2024-01", nil, analyst)
	if code != http.StatusOK || c["submitted"] != float64(2) || c["notSubmitted"] != float64(11) || c["locked"] != true {
		t.Errorf("completeness: %d %v, want 2 submitted, 11 not, locked", code, c)
	}
}
