package stack_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nrm-albania/nrm/services/platform/auth"
	"github.com/nrm-albania/nrm/services/platform/testenv"
	"github.com/nrm-albania/nrm/tools/stack"
)

// adultCase is the example registration with the person an adult.
func adultCase(t *testing.T) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(example(t), &m); err != nil {
		t.Fatal(err)
	}
	m["profile"].(map[string]any)["ageAtIdentification"] = 25
	m["identity"].(map[string]any)["dateOfBirth"] = "2001-05-14"
	return []byte(mustJSON(t, m))
}

// The referral story through REST: the police register a case and refer it to a KKSAT shelter
// once the person consents; the shelter sees the referral, reads the reason with a purpose,
// accepts it and completes it; the case lists it. The referral service asks the case registry on
// the caller's behalf.
func TestAReferralFromRegistrationToCompletionThroughREST(t *testing.T) {
	s := startStack(t, func(o *stack.Options) { o.ReferralAccessGrace = 2 * time.Second })
	police := bearerOf(t, s, "NRM_TOKEN_CASEWORKER_POLICE")
	shelter := bearerOf(t, s, "NRM_TOKEN_CASEWORKER_SHELTER")
	code, reg := call(t, "POST", s.GatewayURL+"/v1/cases", strings.NewReader(string(adultCase(t))), police)
	if code != http.StatusOK {
		t.Fatalf("register: %d %v", code, reg)
	}
	caseID := reg["case"].(map[string]any)["id"].(string)
	refer := `{"serviceType": "SERVICE_TYPE_SHELTER", "providerCode": "KKSAT", "urgency": "REFERRAL_URGENCY_STANDARD",
		"reason": "Needs a safe place tonight; speaks Albanian and Greek."}`
	url := s.GatewayURL + "/v1/cases/" + caseID + "/referrals"

	code, e := call(t, "POST", url, strings.NewReader(refer), police)
	if code != http.StatusBadRequest || !containsReason(e, "CONSENT_REQUIRED") {
		t.Fatalf("a referral without consent: %d %v", code, e)
	}
	consent := `{"consent": {"scope": "CONSENT_SCOPE_REFERRAL", "decision": "CONSENT_DECISION_GIVEN", "date": "2026-10-03", "givenBy": "CONSENT_GIVER_PERSON"}}`
	if code, out := call(t, "POST", s.GatewayURL+"/v1/cases/"+caseID+":recordConsent", strings.NewReader(consent), police); code != http.StatusOK {
		t.Fatalf("recordConsent: %d %v", code, out)
	}
	code, made := call(t, "POST", url, strings.NewReader(refer), with(police, "Idempotency-Key", "referral-1"))
	r, _ := made["referral"].(map[string]any)
	if code != http.StatusOK || r["state"] != "REFERRAL_STATE_PENDING" || r["caseCode"] == "" || r["senderInstitution"] != "ASP-ANTITRAF" {
		t.Fatalf("create: %d %v", code, made)
	}
	id := r["id"].(string)
	if code, again := call(t, "POST", url, strings.NewReader(refer), with(police, "Idempotency-Key", "referral-1")); code != http.StatusOK ||
		again["referral"].(map[string]any)["id"] != id {
		t.Fatalf("a retried creation: %d %v", code, again)
	}

	refURL := s.GatewayURL + "/v1/referrals/" + id
	if code, got := call(t, "GET", refURL, nil, shelter); code != http.StatusOK || got["referral"].(map[string]any)["reasonWithheld"] != true {
		t.Errorf("the recipient without a purpose: %d %v", code, got)
	}
	if code, got := call(t, "GET", refURL, nil, with(shelter, "X-NRM-Purpose", "referral")); code != http.StatusOK ||
		!strings.HasPrefix(got["referral"].(map[string]any)["reason"].(string), "Needs a safe place") {
		t.Errorf("the recipient with a purpose: %d %v", code, got)
	}
	outsider := mint(t, s, auth.Principal{Institution: "MAS", Subject: "teacher", Roles: []auth.Role{auth.RoleCaseworker}})
	if code, got := call(t, "GET", refURL, nil, outsider); code != http.StatusForbidden {
		t.Errorf("an institution not involved: %d %v", code, got)
	}

	// The shelter's inbox shows it, pending.
	if code, inbox := call(t, "GET", s.GatewayURL+"/v1/referrals?recipient=KKSAT&pending=true", nil, shelter); code != http.StatusOK ||
		len(asSlice(inbox["referrals"])) != 1 || asSlice(inbox["referrals"])[0].(map[string]any)["id"] != id {
		t.Errorf("the shelter's inbox: %d %v", code, inbox)
	}
	identityView := func() any {
		_, got := call(t, "GET", s.GatewayURL+"/v1/cases/"+caseID, nil, with(shelter, "X-NRM-Purpose", "assistance"))
		c, _ := got["case"].(map[string]any)
		return c["identityView"]
	}
	if v := identityView(); v != "IDENTITY_VIEW_WITHHELD" {
		t.Errorf("the recipient before accepting sees the identity as %v", v)
	}
	if code, got := call(t, "POST", refURL+":accept", strings.NewReader(`{}`), police); code != http.StatusForbidden {
		t.Errorf("the sender accepting: %d %v", code, got)
	}
	if code, got := call(t, "POST", refURL+":accept", strings.NewReader(`{}`), shelter); code != http.StatusOK ||
		got["referral"].(map[string]any)["state"] != "REFERRAL_STATE_ACCEPTED" {
		t.Fatalf("accept: %d %v", code, got)
	}
	// The registry learns of the acceptance from the referral's event.
	testenv.Eventually(t, 30*time.Second, "the recipient sees the identity", func() bool { return identityView() == "IDENTITY_VIEW_VISIBLE" })
	service := `{"service": {"serviceType": "SERVICE_TYPE_SHELTER", "startDate": "2026-10-04", "note": "room 4"}}`
	if code, got := call(t, "POST", refURL+"/services", strings.NewReader(service), shelter); code != http.StatusOK ||
		len(asSlice(got["referral"].(map[string]any)["services"])) != 1 {
		t.Fatalf("record a service delivered: %d %v", code, got)
	}
	if code, got := call(t, "POST", refURL+":complete", strings.NewReader(`{"outcome": "REFERRAL_OUTCOME_DELIVERED"}`), shelter); code != http.StatusOK ||
		got["referral"].(map[string]any)["state"] != "REFERRAL_STATE_COMPLETED" {
		t.Fatalf("complete: %d %v", code, got)
	}
	// The recipient's access ends once the grace after completion has passed (2 s here).
	testenv.Eventually(t, 30*time.Second, "the recipient's access ended", func() bool { return identityView() == "IDENTITY_VIEW_WITHHELD" })
	if code, got := call(t, "POST", refURL+":cancel", strings.NewReader(`{}`), police); code != http.StatusBadRequest || !containsReason(got, "INVALID_TRANSITION") {
		t.Errorf("cancelling a completed referral: %d %v", code, got)
	}
	code, list := call(t, "GET", url, nil, police)
	if refs := asSlice(list["referrals"]); code != http.StatusOK || len(refs) != 1 || refs[0].(map[string]any)["id"] != id {
		t.Errorf("the case's referrals: %d %v", code, list)
	}

	// The person withdraws consent: the case's open referrals are withdrawn (from the registry's
	// case.updated event), and no new one can be made.
	code, open := call(t, "POST", url, strings.NewReader(refer), police)
	if code != http.StatusOK {
		t.Fatalf("a second referral: %d %v", code, open)
	}
	openURL := s.GatewayURL + "/v1/referrals/" + open["referral"].(map[string]any)["id"].(string)
	withdraw := strings.Replace(consent, "CONSENT_DECISION_GIVEN", "CONSENT_DECISION_WITHDRAWN", 1)
	if code, out := call(t, "POST", s.GatewayURL+"/v1/cases/"+caseID+":recordConsent", strings.NewReader(withdraw), police); code != http.StatusOK {
		t.Fatalf("withdraw consent: %d %v", code, out)
	}
	testenv.Eventually(t, 30*time.Second, "the open referral withdrawn", func() bool {
		_, got := call(t, "GET", openURL, nil, police)
		r, _ := got["referral"].(map[string]any)
		return r["state"] == "REFERRAL_STATE_WITHDRAWN"
	})
	if code, e := call(t, "POST", url, strings.NewReader(refer), police); code != http.StatusBadRequest || !containsReason(e, "CONSENT_REQUIRED") {
		t.Errorf("a referral after consent was withdrawn: %d %v", code, e)
	}

	// A child (the example's 17-year-old): the child-protection decision stands in for consent.
	childCase := withFields(t, example(t), map[string]any{"confirmedDifferentPerson": true, "differentPersonReason": "a sibling, not the same person"})
	code, child := call(t, "POST", s.GatewayURL+"/v1/cases", strings.NewReader(string(childCase)), police)
	if code != http.StatusOK {
		t.Fatalf("register a child: %d %v", code, child)
	}
	childURL := s.GatewayURL + "/v1/cases/" + child["case"].(map[string]any)["id"].(string) + "/referrals"
	if code, e := call(t, "POST", childURL, strings.NewReader(refer), police); code != http.StatusBadRequest {
		t.Errorf("a child's referral without the decision: %d %v", code, e)
	}
	withDecision := strings.Replace(refer, `"urgency"`, `"childProtectionDecision": "ASHDMF 2026/117", "urgency"`, 1)
	if code, got := call(t, "POST", childURL, strings.NewReader(withDecision), police); code != http.StatusOK ||
		got["referral"].(map[string]any)["child"] != true {
		t.Errorf("a child's referral with the decision: %d %v", code, got)
	}
}

func containsReason(e map[string]any, reason string) bool {
	for _, r := range errorReasons(e) {
		if r == reason {
			return true
		}
	}
	return false
}
