package gateway_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	caseregistryv1 "github.com/nrm-albania/nrm/proto/nrm/caseregistry/v1"
)

// violations returns the fields the BadRequest detail of an error body names, in order.
func violations(t *testing.T, got apiError) []string {
	t.Helper()
	var fields []string
	for _, d := range got.Details {
		var br struct {
			Type            string `json:"@type"`
			FieldViolations []struct {
				Field, Description string
			} `json:"fieldViolations"`
		}
		if err := json.Unmarshal(d, &br); err != nil {
			t.Fatalf("detail %s: %v", d, err)
		}
		if br.Type != "type.googleapis.com/google.rpc.BadRequest" {
			continue
		}
		for _, v := range br.FieldViolations {
			if v.Description == "" {
				t.Errorf("violation of %s without a description", v.Field)
			}
			fields = append(fields, v.Field)
		}
	}
	return fields
}

func TestUnknownQueryParametersAreRefused(t *testing.T) {
	e := start(t, nil)
	token := e.bearer(t, "KKSAT", "ana")
	tests := []struct {
		name, method, path, body string
		unknown                  []string // the parameters the 400 names; nil when the request passes
		rpc                      string
		wantReq                  proto.Message // what the backend gets when the request passes
	}{
		{
			name: "a misspelt filter", method: http.MethodGet, path: "/v1/cases?identifyingInstituion=ASP-ANTITRAF",
			unknown: []string{"identifyingInstituion"},
		},
		{
			name: "every unknown parameter is named", method: http.MethodGet, path: "/v1/cases?zeta=1&pageSize=5&alpha=2&alpha=3",
			unknown: []string{"alpha", "zeta"},
		},
		{
			name: "a field the path fills in", method: http.MethodGet, path: "/v1/cases/c-0001?id=c-0002",
			unknown: []string{"id"},
		},
		{
			name: "a field the body fills in", method: http.MethodPatch, path: "/v1/cases/c-0001?case.ownerInstitution=KKSAT&updateMask=profile.sex",
			body: `{"profile": {"sex": "SEX_MALE"}}`, unknown: []string{"case.ownerInstitution"},
		},
		{
			name: "any parameter on a route whose body is the whole request", method: http.MethodPost, path: "/v1/cases?dryRun=true",
			body: registerBody, unknown: []string{"dryRun"},
		},
		{
			name: "a parameter of the document", method: http.MethodGet, path: "/openapi.json?v=2",
			unknown: []string{"v"},
		},
		{
			name: "filters in JSON and proto spelling", method: http.MethodGet,
			path: "/v1/cases?identifyingInstitution=ASP-ANTITRAF&owner_institution=KKSAT&minor=true&pageSize=5",
			rpc:  "ListCases",
			wantReq: &caseregistryv1.ListCasesRequest{
				IdentifyingInstitution: "ASP-ANTITRAF", OwnerInstitution: "KKSAT", Minor: new(true), PageSize: 5,
			},
		},
		{
			name: "a field mask next to the body", method: http.MethodPatch, path: "/v1/cases/c-0001?updateMask=profile.sex&expected_version=3",
			body: `{"profile": {"sex": "SEX_MALE"}}`, rpc: "UpdateCase",
			wantReq: &caseregistryv1.UpdateCaseRequest{
				Id: "c-0001", Case: &caseregistryv1.Case{Profile: &caseregistryv1.Profile{Sex: caseregistryv1.Sex_SEX_MALE}},
				UpdateMask:      nil, // compared below by its paths
				ExpectedVersion: 3,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(e.cases.recorded())
			r := e.do(t, tt.method, e.api+tt.path, tt.body, token)
			if tt.unknown == nil {
				if r.status != http.StatusOK {
					t.Fatalf("status %d; body %s", r.status, r.body)
				}
				got := e.cases.last(t)
				if got.method != tt.rpc {
					t.Fatalf("backend method %s, want %s", got.method, tt.rpc)
				}
				req := proto.Clone(got.req)
				if u, ok := req.(*caseregistryv1.UpdateCaseRequest); ok {
					if paths := u.GetUpdateMask().GetPaths(); !slices.Equal(paths, []string{"profile.sex"}) {
						t.Errorf("update mask %v", paths)
					}
					u.UpdateMask = nil
				}
				if !proto.Equal(req, tt.wantReq) {
					t.Errorf("backend request\n got %v\nwant %v", req, tt.wantReq)
				}
				return
			}
			got := wantError(t, r, http.StatusBadRequest, int(codes.InvalidArgument))
			if fields := violations(t, got); !slices.Equal(fields, tt.unknown) {
				t.Errorf("violations name %q, want %q; body %s", fields, tt.unknown, r.body)
			}
			if !strings.Contains(got.Message, tt.unknown[0]) {
				t.Errorf("message %q does not name %s", got.Message, tt.unknown[0])
			}
			if n := len(e.cases.recorded()) - before; n != 0 {
				t.Errorf("the backend was called %d times", n)
			}
		})
	}
}

func TestFieldViolationsNameJSONPaths(t *testing.T) {
	e := start(t, nil)
	token := e.bearer(t, "KKSAT", "ana")
	invalid := func(fields ...string) error {
		br := &errdetails.BadRequest{}
		for _, f := range fields {
			br.FieldViolations = append(br.FieldViolations, &errdetails.BadRequest_FieldViolation{Field: f, Description: "is wrong"})
		}
		st, err := status.New(codes.InvalidArgument, "invalid request").WithDetails(br)
		if err != nil {
			t.Fatal(err)
		}
		return st.Err()
	}
	tests := []struct {
		name, method, path, body, rpc string
		sent, want                    []string
	}{
		{
			name: "register", method: http.MethodPost, path: "/v1/cases", body: registerBody, rpc: "RegisterCase",
			sent: []string{"profile.age_at_identification", "identification.identifying_institution", "profile.citizenships[1]", "trafficking"},
			want: []string{"profile.ageAtIdentification", "identification.identifyingInstitution", "profile.citizenships[1]", "trafficking"},
		},
		{
			// A service may name a field of the request or of the case the body carries.
			name: "update", method: http.MethodPatch, path: "/v1/cases/c-0001?updateMask=profile", body: `{"profile": {"sex": "SEX_MALE"}}`, rpc: "UpdateCase",
			sent: []string{"update_mask", "case.profile.age_at_identification", "profile.primary_language", "expected_version"},
			want: []string{"updateMask", "case.profile.ageAtIdentification", "profile.primaryLanguage", "expectedVersion"},
		},
		{
			// What does not follow the message is passed on as the service wrote it.
			name: "not a field path", method: http.MethodPost, path: "/v1/cases", body: registerBody, rpc: "RegisterCase",
			sent: []string{"profile.no_such_field", "If-Match"},
			want: []string{"profile.no_such_field", "If-Match"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.cases.set(tt.rpc, fail(invalid(tt.sent...)))
			r := e.do(t, tt.method, e.api+tt.path, tt.body, token)
			got := wantError(t, r, http.StatusBadRequest, int(codes.InvalidArgument))
			if fields := violations(t, got); !slices.Equal(fields, tt.want) {
				t.Errorf("violations name %q, want %q", fields, tt.want)
			}
			// Unset fields of the details are left out, not written empty or null.
			for _, unset := range []string{`"reason"`, `"localizedMessage"`, "null"} {
				if strings.Contains(string(r.body), unset) {
					t.Errorf("the body has %s: %s", unset, r.body)
				}
			}
		})
	}
}

func TestEmptyListsAreWritten(t *testing.T) {
	e := start(t, nil)
	token := e.bearer(t, "KKSAT", "ana")
	r := e.do(t, http.MethodGet, e.api+"/v1/cases", "", token)
	if r.status != http.StatusOK {
		t.Fatalf("status %d; body %s", r.status, r.body)
	}
	// No other field: an empty next page token is left out like every unset scalar.
	if string(r.body) != `{"cases":[]}` {
		t.Errorf("an empty page is %s, want {\"cases\":[]}", r.body)
	}

	c := sampleCase()
	c.Profile.Citizenships = nil
	e.cases.set("ListCases", respond(&caseregistryv1.ListCasesResponse{Cases: []*caseregistryv1.Case{c}, NextPageToken: "n"}))
	r = e.do(t, http.MethodGet, e.api+"/v1/cases", "", token)
	body := decode(t, r.body)
	for _, path := range []string{"cases.0.profile.citizenships", "cases.0.consents", "cases.0.mergedCaseIds"} {
		if v, ok := lookup(body, path); !ok || !slices.Equal(v.([]any), []any{}) {
			t.Errorf("%s = %v (present %t), want []; body %s", path, v, ok, r.body)
		}
	}
	for _, path := range []string{"cases.0.closedAt", "cases.0.profile.primaryLanguage", "cases.0.identity"} {
		if v, ok := lookup(body, path); ok {
			t.Errorf("%s = %v, want it left out as unset; body %s", path, v, r.body)
		}
	}
	if v, _ := lookup(body, "nextPageToken"); v != "n" {
		t.Errorf("nextPageToken = %v; body %s", v, r.body)
	}
	// The fields keep their order (the proto's), so the lists come where they belong.
	if i, j := strings.Index(string(r.body), `"cases"`), strings.Index(string(r.body), `"nextPageToken"`); i < 0 || j < i {
		t.Errorf("fields out of order: %s", r.body)
	}
}

func TestMethodNotAllowedNamesTheAllowedMethods(t *testing.T) {
	e := start(t, nil)
	tests := []struct {
		method, path, allow string
	}{
		{http.MethodDelete, "/v1/cases", "GET, POST"},
		{http.MethodPut, "/v1/cases/c-1", "GET, PATCH"},
		// grpc-gateway reads c-1:close as a case id too, so GET and PATCH answer there as well.
		{http.MethodDelete, "/v1/cases/c-1:close", "GET, PATCH, POST"},
		{http.MethodGet, "/v1/audit:verify", "POST"},
		{http.MethodPost, "/v1/members", "GET"},
		{http.MethodPost, "/openapi.json", "GET"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			r := e.do(t, tt.method, e.api+tt.path, "")
			wantError(t, r, http.StatusMethodNotAllowed, int(codes.Unimplemented))
			if got := r.header.Values("Allow"); !slices.Equal(got, []string{tt.allow}) {
				t.Errorf("Allow %q, want %q", got, tt.allow)
			}
		})
	}
}
