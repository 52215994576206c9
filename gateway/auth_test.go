package gateway_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/nrm-albania/nrm/services/platform/auth"
	"github.com/nrm-albania/nrm/services/platform/auth/authtest"
)

func TestAuthenticationAndPermissionErrors(t *testing.T) {
	e := start(t, nil)
	denied, err := status.New(codes.PermissionDenied, "the analyst role may not register cases").WithDetails(&errdetails.ErrorInfo{
		Reason: "ROLE_NOT_ALLOWED", Domain: "nrm.gov.al", Metadata: map[string]string{"method": "RegisterCase"},
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		method    string
		path      string
		body      string
		rpc       string
		err       error
		headers   []string
		status    int
		challenge string // the exact WWW-Authenticate; empty when there must be none
		details   int
	}{
		{
			name: "no token", method: http.MethodGet, path: "/v1/cases/c-0001", rpc: "GetCase",
			err:    status.Error(codes.Unauthenticated, "a bearer token or a client certificate is required"),
			status: http.StatusUnauthorized, challenge: `Bearer realm="nrm"`,
		},
		{
			// A token the edge accepts may still be refused by the service (revoked, say).
			name: "token refused by the service", method: http.MethodGet, path: "/v1/cases/c-0001", rpc: "GetCase",
			err:     status.Error(codes.Unauthenticated, "token revoked"),
			headers: []string{e.bearer(t, "KKSAT", "ana")},
			status:  http.StatusUnauthorized, challenge: `Bearer realm="nrm", error="invalid_token"`,
		},
		{
			name: "token refused by the service on a write", method: http.MethodPost, path: "/v1/cases", body: registerBody, rpc: "RegisterCase",
			err:     status.Error(codes.Unauthenticated, "token revoked"),
			headers: []string{e.bearer(t, "KKSAT", "ana")},
			status:  http.StatusUnauthorized, challenge: `Bearer realm="nrm", error="invalid_token"`,
		},
		{
			name: "forbidden", method: http.MethodPost, path: "/v1/cases", body: registerBody, rpc: "RegisterCase",
			err:     denied.Err(),
			headers: []string{e.bearer(t, "KKSAT", "analyst")},
			status:  http.StatusForbidden, details: 1,
		},
		{
			name: "forbidden without a token", method: http.MethodGet, path: "/v1/cases/c-0001", rpc: "GetCase",
			err:    status.Error(codes.PermissionDenied, "institution KKSAT may not act for ASP-ANTITRAF"),
			status: http.StatusForbidden,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.cases.set(tt.rpc, fail(tt.err))
			r := e.do(t, tt.method, e.api+tt.path, tt.body, tt.headers...)
			st := status.Convert(tt.err)
			got := wantError(t, r, tt.status, int(st.Code()))
			if got.Message != st.Message() {
				t.Errorf("message %q, want the service's %q", got.Message, st.Message())
			}
			if len(got.Details) != tt.details {
				t.Errorf("%d details, want %d; body %s", len(got.Details), tt.details, r.body)
			}
			challenges := r.header.Values("WWW-Authenticate")
			switch {
			case tt.challenge == "" && len(challenges) != 0:
				t.Errorf("WWW-Authenticate %q on a %d", challenges, r.status)
			case tt.challenge != "" && !slices.Equal(challenges, []string{tt.challenge}):
				t.Errorf("WWW-Authenticate %q, want exactly %q", challenges, tt.challenge)
			}
		})
	}
}

// A token the services would refuse is refused at the edge, with the body a service gives, and
// never reaches a backend.
func TestEdgeRefusesUnverifiableTokens(t *testing.T) {
	e := start(t, nil)
	other := authtest.NewIssuer(t)
	valid := e.issuer.Token(t, "KKSAT", auth.RoleCaseworker)
	head, payload, _ := strings.Cut(valid, ".")
	payload, _, _ = strings.Cut(payload, ".")
	tests := []struct {
		name   string
		header string // the whole Authorization value
		reason string
	}{
		{"made up", "Bearer token-a", "TOKEN_MALFORMED"},
		{"empty", "", "TOKEN_MALFORMED"},
		{"not a bearer credential", "Basic a2tzYXQ6c2VjcmV0", "TOKEN_MALFORMED"},
		{"tampered signature", "Bearer " + head + "." + payload + ".c2lnbmF0dXJl", "TOKEN_SIGNATURE"},
		{"another issuer's key", "Bearer " + other.Token(t, "KKSAT", auth.RoleCaseworker), "TOKEN_UNKNOWN_KEY"},
		{"expired", "Bearer " + e.issuer.TokenFor(t, auth.Principal{Institution: "KKSAT", Subject: "ana", Roles: []auth.Role{auth.RoleCaseworker}}, -time.Hour), "TOKEN_EXPIRED"},
		{"wrong audience", "Bearer " + e.issuer.Sign(t, map[string]any{
			"iss": e.issuer.Issuer, "aud": "someone-else", "sub": "ana", "exp": time.Now().Add(time.Hour).Unix(),
			auth.ClaimInstitution: "KKSAT", auth.ClaimRoles: []string{"caseworker"},
		}), "TOKEN_AUDIENCE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(t, http.MethodGet, e.api+"/v1/cases/c-0001", "", "Authorization: "+tt.header)
			assertRefusedToken(t, r, tt.reason)
		})
	}
	t.Run("two Authorization headers", func(t *testing.T) {
		r := e.sendBytes(t, "GET /v1/cases/c-0001 HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n"+
			"Authorization: Bearer "+valid+"\r\nAuthorization: Bearer "+valid+"\r\n\r\n")
		assertRefusedToken(t, r, "CREDENTIALS_AMBIGUOUS")
	})
	if calls := e.cases.recorded(); len(calls) != 0 {
		t.Errorf("refused tokens reached the backend %d times", len(calls))
	}
	if strings.Contains(e.logs.String(), payload) {
		t.Error("a token is in the log")
	}
	// A valid token passes.
	if r := e.do(t, http.MethodGet, e.api+"/v1/cases/c-0001", "", "Authorization: Bearer "+valid); r.status != http.StatusOK {
		t.Errorf("a valid token: status %d; body %s", r.status, r.body)
	}
}

// assertRefusedToken checks the answer a service gives a token it refuses: 401, Unauthenticated
// with an ErrorInfo naming the reason, and a Bearer challenge with invalid_token.
func assertRefusedToken(t *testing.T, r response, reason string) {
	t.Helper()
	got := wantError(t, r, http.StatusUnauthorized, int(codes.Unauthenticated))
	if len(got.Details) != 1 {
		t.Fatalf("details %s, want one ErrorInfo", r.body)
	}
	var info struct {
		Type   string `json:"@type"`
		Reason string `json:"reason"`
		Domain string `json:"domain"`
	}
	if err := json.Unmarshal(got.Details[0], &info); err != nil || info.Reason != reason || info.Domain != "nrm.gov.al" ||
		info.Type != "type.googleapis.com/google.rpc.ErrorInfo" {
		t.Errorf("detail %s, want an ErrorInfo with reason %s", got.Details[0], reason)
	}
	if c := r.header.Get("WWW-Authenticate"); c != `Bearer realm="nrm", error="invalid_token"` {
		t.Errorf("WWW-Authenticate %q", c)
	}
}

func TestCredentialsAndPurposeReachTheBackendUnchanged(t *testing.T) {
	e := start(t, nil)
	// A purpose code with a reference: the punctuation of the reference syntax passes as sent.
	const purpose = "referral;ref=REF-2026/0042:a_b.c"
	token := e.issuer.Token(t, "KKSAT", auth.RoleCaseworker)
	tests := []struct {
		name    string
		headers []string
		want    map[string][]string // metadata keys and their exact values; nil value = absent
	}{
		{
			name:    "token and purpose",
			headers: []string{"Authorization: Bearer " + token, "X-NRM-Purpose: " + purpose},
			want: map[string][]string{
				"authorization": {"Bearer " + token},
				"x-nrm-purpose": {purpose},
			},
		},
		{
			name:    "header names in any case",
			headers: []string{"authorization: bearer " + token, "x-nrm-purpose: audit"},
			want:    map[string][]string{"authorization": {"bearer " + token}, "x-nrm-purpose": {"audit"}},
		},
		{
			// grpc-gateway's legacy matcher turned Grpc-Metadata-<key> into metadata <key>,
			// which would let a client slip a second credential or purpose past the gateway.
			name: "metadata smuggled in Grpc-Metadata- headers",
			headers: []string{
				"Authorization: Bearer " + token, "Grpc-Metadata-Authorization: Bearer forged",
				"Grpc-Metadata-X-Nrm-Purpose: case-management",
			},
			want: map[string][]string{"authorization": {"Bearer " + token}, "x-nrm-purpose": nil},
		},
		{
			// The gateway adds no credential of its own: a request without one reaches the
			// service without one, and the service refuses it.
			name: "neither",
			want: map[string][]string{"authorization": nil, "x-nrm-purpose": nil},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(t, http.MethodGet, e.api+"/v1/cases/c-0001", "", tt.headers...)
			if r.status != http.StatusOK {
				t.Fatalf("status %d; body %s", r.status, r.body)
			}
			md := e.cases.last(t).md
			for key, want := range tt.want {
				if got := md.Get(key); !slices.Equal(got, want) {
					t.Errorf("metadata %s = %q, want %q", key, got, want)
				}
			}
			for key := range md {
				if strings.HasPrefix(key, "grpcgateway-") && (strings.Contains(key, "authorization") || strings.Contains(key, "purpose")) {
					t.Errorf("forwarded a second time as %s: %q", key, md[key])
				}
			}
		})
	}
}

func TestHeadersGRPCCannotCarryAreRefused(t *testing.T) {
	e := start(t, nil)
	tests := []struct {
		name, header string
	}{
		// Albanian in the purpose's reference: valid HTTP, but not valid gRPC metadata.
		{"X-Nrm-Purpose", "X-NRM-Purpose: referral;ref=strehë-1"},
		{"Authorization", "Authorization: Bearer tökén"},
		{"Idempotency-Key", "Idempotency-Key: key\twith a tab"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(t, http.MethodGet, e.api+"/v1/cases/c-0001", "", tt.header)
			got := wantError(t, r, http.StatusBadRequest, int(codes.InvalidArgument))
			if !strings.Contains(got.Message, tt.name) {
				t.Errorf("message %q does not name the header %s", got.Message, tt.name)
			}
			if len(got.Details) != 1 {
				t.Fatalf("details %s, want one BadRequest", r.body)
			}
			var br struct {
				FieldViolations []struct{ Field string } `json:"fieldViolations"`
			}
			if err := json.Unmarshal(got.Details[0], &br); err != nil || len(br.FieldViolations) != 1 || br.FieldViolations[0].Field != tt.name {
				t.Errorf("detail %s, want a field violation on %s", got.Details[0], tt.name)
			}
		})
	}
	if calls := e.cases.recorded(); len(calls) != 0 {
		t.Errorf("the backend was called %d times", len(calls))
	}
}
