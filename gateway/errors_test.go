package gateway_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/anypb"
)

func TestBackendErrorsBecomeHTTPErrors(t *testing.T) {
	e := start(t, nil)

	invalid, err := status.New(codes.InvalidArgument, "the case is incomplete").WithDetails(&errdetails.BadRequest{
		FieldViolations: []*errdetails.BadRequest_FieldViolation{
			{Field: "profile.citizenships", Description: "at least one citizenship is required"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	// A detail type the gateway cannot know (a service's own message) must not cost the caller
	// the real error.
	withUnknown := status.New(codes.NotFound, "case c-9 not found").Proto()
	withUnknown.Details = append(withUnknown.Details, &anypb.Any{TypeUrl: "type.googleapis.com/nrm.caseregistry.v1.Secret", Value: []byte{8, 1}})

	tests := []struct {
		name          string
		err           error
		status        int
		wantViolation string // field named in a BadRequest detail
		message       string // when not the backend's own
	}{
		{"invalid argument with field violations", invalid.Err(), http.StatusBadRequest, "profile.citizenships", ""},
		{"not found", status.Error(codes.NotFound, "case c-9 not found"), http.StatusNotFound, "", ""},
		{"not found with an unknown detail", status.FromProto(withUnknown).Err(), http.StatusNotFound, "", ""},
		{"failed precondition", status.Error(codes.FailedPrecondition, "idempotency key reused with another request"), http.StatusBadRequest, "", ""},
		{"already exists", status.Error(codes.AlreadyExists, "case already registered"), http.StatusConflict, "", ""},
		{"aborted", status.Error(codes.Aborted, "concurrent change; retry"), http.StatusConflict, "", ""},
		{"unavailable", status.Error(codes.Unavailable, "mongodb at 10.0.3.7:27017 unreachable"), http.StatusServiceUnavailable, "",
			"the service is temporarily unavailable; retry later"},
		{"unauthenticated", status.Error(codes.Unauthenticated, "missing bearer token"), http.StatusUnauthorized, "", ""},
		{"permission denied", status.Error(codes.PermissionDenied, "not a member of the case"), http.StatusForbidden, "", ""},
		{"internal", status.Error(codes.Internal, "internal error; quote request id x"), http.StatusInternalServerError, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.cases.set("GetCase", fail(tt.err))
			r := e.do(t, http.MethodGet, e.api+"/v1/cases/c-9", "")
			st := status.Convert(tt.err)
			got := wantError(t, r, tt.status, int(st.Code()))
			want := tt.message
			if want == "" {
				want = st.Message()
			}
			if got.Message != want {
				t.Errorf("message %q, want %q", got.Message, want)
			}
			if tt.wantViolation == "" {
				if len(got.Details) != 0 {
					t.Errorf("details %s, want none", r.body)
				}
				return
			}
			if len(got.Details) != 1 {
				t.Fatalf("%d details, want 1; body %s", len(got.Details), r.body)
			}
			var br struct {
				Type            string `json:"@type"`
				FieldViolations []struct {
					Field       string `json:"field"`
					Description string `json:"description"`
				} `json:"fieldViolations"`
			}
			if err := json.Unmarshal(got.Details[0], &br); err != nil {
				t.Fatal(err)
			}
			if br.Type != "type.googleapis.com/google.rpc.BadRequest" {
				t.Errorf("detail type %q, want google.rpc.BadRequest", br.Type)
			}
			if len(br.FieldViolations) != 1 || br.FieldViolations[0].Field != tt.wantViolation || br.FieldViolations[0].Description == "" {
				t.Errorf("field violations %+v, want one on %s", br.FieldViolations, tt.wantViolation)
			}
		})
	}
}

func TestRequestsOutsideTheAPI(t *testing.T) {
	e := start(t, nil)
	tests := []struct {
		name, method, path, contentType string
		status                          int
		code                            codes.Code
	}{
		{"unknown route", http.MethodGet, "/v1/nothing-here", "", http.StatusNotFound, codes.NotFound},
		{"unknown version", http.MethodGet, "/v2/cases/c-1", "", http.StatusNotFound, codes.NotFound},
		{"root", http.MethodGet, "/", "", http.StatusNotFound, codes.NotFound},
		{"wrong method on a collection", http.MethodDelete, "/v1/cases", "", http.StatusMethodNotAllowed, codes.Unimplemented},
		{"wrong method on an item", http.MethodPut, "/v1/cases/c-1", "", http.StatusMethodNotAllowed, codes.Unimplemented},
		{"wrong method on the document", http.MethodPost, "/openapi.json", "", http.StatusMethodNotAllowed, codes.Unimplemented},
		// grpc-gateway would serve this form POST with the GET route of the same path.
		{"form POST to a GET route", http.MethodPost, "/v1/members", "application/x-www-form-urlencoded", http.StatusMethodNotAllowed, codes.Unimplemented},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var headers []string
			if tt.contentType != "" {
				headers = append(headers, "Content-Type: "+tt.contentType)
			}
			r := e.do(t, tt.method, e.api+tt.path, "", headers...)
			wantError(t, r, tt.status, int(tt.code))
		})
	}
	for _, b := range []*backend{e.cases, e.referral, e.members, e.stats} {
		if calls := b.recorded(); len(calls) != 0 {
			t.Errorf("a backend was called: %v", calls[0].method)
		}
	}
}
