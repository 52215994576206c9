package stack_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nrm-albania/nrm/services/platform/testenv"
)

// A referral made and accepted through REST reaches the referral figures: the reporting service
// follows the referral stream, and /v1/statistics/referrals counts it accepted, answered once,
// the service delivered under it too.
func TestAReferralReachesTheReferralFiguresThroughREST(t *testing.T) {
	s := start(t)
	police := bearerOf(t, s, "NRM_TOKEN_CASEWORKER_POLICE")
	shelter := bearerOf(t, s, "NRM_TOKEN_CASEWORKER_SHELTER")
	code, reg := call(t, "POST", s.GatewayURL+"/v1/cases", strings.NewReader(string(adultCase(t))), police)
	if code != http.StatusOK {
		t.Fatalf("register: %d %v", code, reg)
	}
	caseID := reg["case"].(map[string]any)["id"].(string)
	consent := `{"consent": {"scope": "CONSENT_SCOPE_REFERRAL", "decision": "CONSENT_DECISION_GIVEN", "date": "2026-10-03", "givenBy": "CONSENT_GIVER_PERSON"}}`
	if code, out := call(t, "POST", s.GatewayURL+"/v1/cases/"+caseID+":recordConsent", strings.NewReader(consent), police); code != http.StatusOK {
		t.Fatalf("recordConsent: %d %v", code, out)
	}
	refer := `{"serviceType": "SERVICE_TYPE_SHELTER", "providerCode": "KKSAT", "urgency": "REFERRAL_URGENCY_STANDARD", "reason": "A safe place."}`
	code, made := call(t, "POST", s.GatewayURL+"/v1/cases/"+caseID+"/referrals", strings.NewReader(refer), police)
	if code != http.StatusOK {
		t.Fatalf("create: %d %v", code, made)
	}
	refURL := s.GatewayURL + "/v1/referrals/" + made["referral"].(map[string]any)["id"].(string)
	if code, got := call(t, "POST", refURL+":accept", strings.NewReader(`{}`), shelter); code != http.StatusOK {
		t.Fatalf("accept: %d %v", code, got)
	}
	today := time.Now().Format("2006-01-02")
	service := `{"service": {"serviceType": "SERVICE_TYPE_SHELTER", "startDate": "` + today + `"}}`
	if code, got := call(t, "POST", refURL+"/services", strings.NewReader(service), shelter); code != http.StatusOK {
		t.Fatalf("service delivered: %d %v", code, got)
	}

	// int64 figures are strings in proto JSON, absent when zero.
	var figures map[string]any
	testenv.Eventually(t, 30*time.Second, "the referral accepted, its service delivered", func() bool {
		code, figures = call(t, "GET", s.GatewayURL+"/v1/statistics/referrals", nil, secretariat(t, s))
		return code == http.StatusOK && figures["answered"] == "1" && figures["servicesDelivered"] == "1"
	})
	if figures["total"] != "1" || !counted(figures["byState"], "REFERRAL_STATE_ACCEPTED", "1") ||
		!counted(figures["byProvider"], "KKSAT", "1") || !counted(figures["servicesDeliveredByType"], "SERVICE_TYPE_SHELTER", "1") {
		t.Errorf("referral figures: %v", figures)
	}
	code, figures = call(t, "GET", s.GatewayURL+"/v1/statistics/referrals?from=2000-01-01&to=2000-12-31", nil, secretariat(t, s))
	if code != http.StatusOK || figures["total"] != nil {
		t.Errorf("a year with no referral: %d %v", code, figures)
	}
	if code, got := call(t, "GET", s.GatewayURL+"/v1/statistics/meetings?from=yesterday", nil, secretariat(t, s)); code != http.StatusBadRequest {
		t.Errorf("meetings from yesterday: %d %v", code, got)
	}
}

// A case registered through REST reaches the cross-tabulations: sex by trafficking status.
func TestACaseReachesTheCrossTabThroughREST(t *testing.T) {
	s := start(t)
	police := bearerOf(t, s, "NRM_TOKEN_CASEWORKER_POLICE")
	if code, reg := call(t, "POST", s.GatewayURL+"/v1/cases", strings.NewReader(string(adultCase(t))), police); code != http.StatusOK {
		t.Fatalf("register: %d %v", code, reg)
	}
	url := s.GatewayURL + "/v1/statistics/cases:crosstab?rows=sex&columns=status"
	var tab map[string]any
	testenv.Eventually(t, 30*time.Second, "the case cross-tabulated", func() bool {
		var code int
		code, tab = call(t, "GET", url, nil, secretariat(t, s))
		return code == http.StatusOK && tab["total"] == "1"
	})
	cells, _ := tab["cells"].([]any)
	if len(cells) != 1 || tab["rows"] != "sex" || tab["columns"] != "status" {
		t.Fatalf("sex by status: %v", tab)
	}
	if c := cells[0].(map[string]any); c["row"] == "" || c["column"] == "" || c["count"] != "1" {
		t.Errorf("the one cell: %v", c)
	}
	if code, got := call(t, "GET", s.GatewayURL+"/v1/statistics/cases:crosstab?rows=sex&columns=sex", nil, secretariat(t, s)); code != http.StatusBadRequest {
		t.Errorf("sex by sex: %d %v", code, got)
	}
}

// counted reports whether a breakdown in proto JSON counts n under key.
func counted(list any, key, n string) bool {
	l, _ := list.([]any)
	for _, c := range l {
		if c, _ := c.(map[string]any); c["key"] == key {
			return c["count"] == n
		}
	}
	return false
}
