package stack_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nrm-albania/nrm/services/platform/auth"
	"github.com/nrm-albania/nrm/services/platform/testenv"
	"github.com/nrm-albania/nrm/tools/stack"
)

// A correctly signed token for an institution the Authority does not know registers nothing,
// reads nothing and never reaches the statistics; one the secretariat registers gets in, and
// is shut out again by a deactivation, with no restart.
func TestOnlyInstitutionsTheSecretariatKnowsMayCallThroughREST(t *testing.T) {
	s := start(t)
	stranger := mint(t, s, auth.Principal{Institution: "ZZ-UNKNOWN", Subject: "someone", Roles: []auth.Role{auth.RoleCaseworker, auth.RoleMember}})

	code, body := call(t, "POST", s.GatewayURL+"/v1/cases", bytes.NewReader(anonymous(t)), stranger)
	if code != http.StatusForbidden || !slices.Contains(errorReasons(body), "INSTITUTION_UNKNOWN") {
		t.Fatalf("registration by an unknown institution: %d %v, want 403 INSTITUTION_UNKNOWN", code, body)
	}
	if code, body := call(t, "GET", s.GatewayURL+"/v1/cases", nil, stranger); code != http.StatusForbidden {
		t.Fatalf("list by an unknown institution: %d %v, want 403", code, body)
	}
	if n := total(t, s); n != 0 {
		t.Fatalf("statistics count %v cases after refused registrations", n)
	}

	// The secretariat registers the prosecution office; its token then gets in.
	prosecutor := mint(t, s, auth.Principal{Institution: "PROKURORIA-TIRANE", Subject: "prosecutor-1", Roles: []auth.Role{auth.RoleMember}})
	if code, _ := call(t, "GET", s.GatewayURL+"/v1/members", nil, prosecutor); code != http.StatusForbidden {
		t.Fatalf("members before registration: %d, want 403", code)
	}
	reg := `{"code":"PROKURORIA-TIRANE","name":"Tirana District Prosecution Office","kind":"INSTITUTION_KIND_INVITEE"}`
	code, body = call(t, "POST", s.GatewayURL+"/v1/institutions", strings.NewReader(reg), secretariat(t, s))
	if code != http.StatusOK || body["institution"].(map[string]any)["active"] != true {
		t.Fatalf("register: %d %v", code, body)
	}
	testenv.Eventually(t, 20*time.Second, "the registered institution is admitted", func() bool {
		code, _ := call(t, "GET", s.GatewayURL+"/v1/members", nil, prosecutor)
		return code == http.StatusOK
	})
	// A retry of the same registration answers it again; another name under the code is a conflict.
	if code, body := call(t, "POST", s.GatewayURL+"/v1/institutions", strings.NewReader(reg), secretariat(t, s)); code != http.StatusOK {
		t.Fatalf("repeated registration: %d %v", code, body)
	}
	other := strings.Replace(reg, "Tirana District", "Durrës District", 1)
	if code, body := call(t, "POST", s.GatewayURL+"/v1/institutions", strings.NewReader(other), secretariat(t, s)); code != http.StatusConflict {
		t.Fatalf("registration under a taken code: %d %v, want 409", code, body)
	}
	// Only the Authority's stewards register.
	if code, _ := call(t, "POST", s.GatewayURL+"/v1/institutions", strings.NewReader(reg), bearerOf(t, s, "NRM_TOKEN_CASEWORKER_POLICE")); code != http.StatusForbidden {
		t.Fatalf("registration by a caseworker: %d, want 403", code)
	}

	code, body = call(t, "POST", s.GatewayURL+"/v1/institutions/PROKURORIA-TIRANE:deactivate",
		strings.NewReader(`{"reason":"office merged"}`), secretariat(t, s))
	if code != http.StatusOK {
		t.Fatalf("deactivate: %d %v", code, body)
	}
	testenv.Eventually(t, 20*time.Second, "the deactivation applies", func() bool {
		code, body := call(t, "GET", s.GatewayURL+"/v1/members", nil, prosecutor)
		return code == http.StatusForbidden && slices.Contains(errorReasons(body), "INSTITUTION_INACTIVE")
	})
	// The secretariat cannot lock itself out.
	code, body = call(t, "POST", s.GatewayURL+"/v1/institutions/MB-SEKRETARIATI:deactivate",
		strings.NewReader(`{"reason":"by mistake"}`), secretariat(t, s))
	if code != http.StatusBadRequest || !slices.Contains(errorReasons(body), "OWN_INSTITUTION") {
		t.Fatalf("self-deactivation: %d %v, want 400 OWN_INSTITUTION", code, body)
	}
	code, body = call(t, "GET", s.GatewayURL+"/v1/institutions", nil, secretariat(t, s))
	if code != http.StatusOK || len(asSlice(body["institutions"])) != 16 {
		t.Fatalf("institutions: %d %v, want the 13 members, the secretariat, the services and the office", code, body)
	}
}

// A stolen token is revoked by its id, and a person who left by subject; both apply at once in
// every service, before the credentials expire.
func TestRevokedCredentialsAreRefusedEverywhere(t *testing.T) {
	s := start(t)
	p := auth.Principal{Institution: "KKSAT", Subject: "shelter-worker-9", Roles: []auth.Role{auth.RoleCaseworker, auth.RoleMember}}
	stolen, other := mint(t, s, p), mint(t, s, p)
	for _, h := range []map[string]string{stolen, other} {
		if code, body := call(t, "GET", s.GatewayURL+"/v1/cases", nil, h); code != http.StatusOK {
			t.Fatalf("before revocation: %d %v", code, body)
		}
	}

	operator := mint(t, s, auth.Principal{Institution: "MB-DPAM", Subject: "on-call", Roles: []auth.Role{auth.RoleOperator}})
	revoke := `{"tokenId":"` + tokenID(t, stolen) + `","reason":"laptop stolen"}`
	if code, body := call(t, "POST", s.GatewayURL+"/v1/revocations:revokeToken", strings.NewReader(revoke), operator); code != http.StatusOK {
		t.Fatalf("revoke token: %d %v", code, body)
	}
	testenv.Eventually(t, 20*time.Second, "the revoked token is refused by the registry and the secretariat", func() bool {
		c1, b1 := call(t, "GET", s.GatewayURL+"/v1/cases", nil, stolen)
		c2, _ := call(t, "GET", s.GatewayURL+"/v1/members", nil, stolen)
		return c1 == http.StatusUnauthorized && c2 == http.StatusUnauthorized && slices.Contains(errorReasons(b1), "CREDENTIALS_REVOKED")
	})
	if code, body := call(t, "GET", s.GatewayURL+"/v1/cases", nil, other); code != http.StatusOK {
		t.Fatalf("another token of the subject after a token revocation: %d %v", code, body)
	}

	code, body := call(t, "POST", s.GatewayURL+"/v1/revocations:revokeSubject",
		strings.NewReader(`{"institution":"KKSAT","subject":"shelter-worker-9","reason":"left the shelter"}`), secretariat(t, s))
	if code != http.StatusOK {
		t.Fatalf("revoke subject: %d %v", code, body)
	}
	testenv.Eventually(t, 20*time.Second, "every earlier credential of the subject is refused", func() bool {
		code, _ := call(t, "GET", s.GatewayURL+"/v1/cases", nil, other)
		return code == http.StatusUnauthorized
	})
	// A credential issued after the revocation is accepted: the identity provider issues new ones
	// once the incident is closed. Token times are whole seconds, so wait for the next one.
	revokedAt, err := time.Parse(time.RFC3339Nano, body["revocation"].(map[string]any)["revokeTime"].(string))
	if err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 5*time.Second, "the clock passes the revocation", func() bool { return time.Now().After(revokedAt) })
	if code, body := call(t, "GET", s.GatewayURL+"/v1/cases", nil, mint(t, s, p)); code != http.StatusOK {
		t.Fatalf("a token issued after the subject's revocation: %d %v", code, body)
	}

	code, body = call(t, "GET", s.GatewayURL+"/v1/revocations", nil, operator)
	if code != http.StatusOK || len(asSlice(body["revocations"])) != 2 {
		t.Fatalf("revocations: %d %v, want the token and the subject", code, body)
	}
	if code, _ := call(t, "POST", s.GatewayURL+"/v1/revocations:revokeToken", strings.NewReader(revoke), bearerOf(t, s, "NRM_TOKEN_ANALYST")); code != http.StatusForbidden {
		t.Fatalf("revocation by an analyst: %d, want 403", code)
	}
}

// mint is the header of a call with a fresh development token for p.
func mint(t *testing.T, s *stack.Stack, p auth.Principal) map[string]string {
	t.Helper()
	tok, err := s.Issuer.Mint(p, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{"Authorization": "Bearer " + tok}
}

// tokenID is the jti of the bearer token in h.
func tokenID(t *testing.T, h map[string]string) string {
	t.Helper()
	parts := strings.Split(strings.TrimPrefix(h["Authorization"], "Bearer "), ".")
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims struct {
		JTI string `json:"jti"`
	}
	if err := json.Unmarshal(raw, &claims); err != nil || claims.JTI == "" {
		t.Fatalf("no jti in the token: %v", err)
	}
	return claims.JTI
}
