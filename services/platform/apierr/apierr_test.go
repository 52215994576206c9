package apierr_test

import (
	"errors"
	"slices"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/nrm-albania/nrm/services/platform/apierr"
)

func TestViolationsErrIsNilWhenEmpty(t *testing.T) {
	var v apierr.Violations
	if err := v.Err(); err != nil {
		t.Fatalf("Err() = %v, want nil", err)
	}
}

func TestViolationsErr(t *testing.T) {
	tests := []struct {
		name       string
		violations [][2]string // field, description
		wantMsg    string
	}{
		{
			name:       "one",
			violations: [][2]string{{"name", "must be set"}},
			wantMsg:    "invalid request: name: must be set",
		},
		{
			name:       "two",
			violations: [][2]string{{"profile.citizenships[1]", "unknown country XX"}, {"age", "must be positive"}},
			wantMsg:    "invalid request: profile.citizenships[1]: unknown country XX (and 1 more problems)",
		},
		{
			name:       "three",
			violations: [][2]string{{"a", "bad"}, {"b", "bad"}, {"c", "bad"}},
			wantMsg:    "invalid request: a: bad (and 2 more problems)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v apierr.Violations
			for _, fv := range tt.violations {
				v.Add(fv[0], "%s", fv[1])
			}
			st := statusOf(t, v.Err(), codes.InvalidArgument)
			if st.Message() != tt.wantMsg {
				t.Errorf("message %q, want %q", st.Message(), tt.wantMsg)
			}
			br := detail[*errdetails.BadRequest](t, st)
			if len(br.GetFieldViolations()) != len(tt.violations) {
				t.Fatalf("%d field violations, want %d", len(br.GetFieldViolations()), len(tt.violations))
			}
			for i, fv := range br.GetFieldViolations() {
				if fv.GetField() != tt.violations[i][0] || fv.GetDescription() != tt.violations[i][1] {
					t.Errorf("violation %d = %q: %q, want %q: %q", i, fv.GetField(), fv.GetDescription(), tt.violations[i][0], tt.violations[i][1])
				}
			}
		})
	}
}

func TestViolatedFields(t *testing.T) {
	var two apierr.Violations
	two.Add("profile.sex", "is required")
	two.Add("identity.date_of_birth", "is after the identification date")
	tests := []struct {
		name string
		err  error
		want []string
	}{
		{"two violations, in order", two.Err(), []string{"profile.sex", "identity.date_of_birth"}},
		{"one", apierr.InvalidField("id", "is not a case id"), []string{"id"}},
		{"another detail", apierr.NotFound("case", "c-1"), nil},
		{"no detail", status.Error(codes.InvalidArgument, "bad"), nil},
		{"not a status", errors.New("plain"), nil},
		{"nil", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := apierr.ViolatedFields(tt.err); !slices.Equal(got, tt.want) {
				t.Errorf("ViolatedFields = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestAddFormatsTheDescription(t *testing.T) {
	var v apierr.Violations
	v.Add("page_size", "must be at most %d, got %d", 100, 101)
	if got := v[0].GetDescription(); got != "must be at most 100, got 101" {
		t.Errorf("description %q", got)
	}
}

func TestInvalidField(t *testing.T) {
	st := statusOf(t, apierr.InvalidField("page_token", "is %s", "stale"), codes.InvalidArgument)
	if st.Message() != "invalid request: page_token: is stale" {
		t.Errorf("message %q", st.Message())
	}
	br := detail[*errdetails.BadRequest](t, st)
	if len(br.GetFieldViolations()) != 1 || br.GetFieldViolations()[0].GetField() != "page_token" {
		t.Errorf("violations %v, want one on page_token", br.GetFieldViolations())
	}
}

func TestNotFoundCarriesResourceInfo(t *testing.T) {
	st := statusOf(t, apierr.NotFound("case", "cases/42"), codes.NotFound)
	if st.Message() != `case "cases/42" not found` {
		t.Errorf("message %q", st.Message())
	}
	ri := detail[*errdetails.ResourceInfo](t, st)
	if ri.GetResourceType() != "case" || ri.GetResourceName() != "cases/42" {
		t.Errorf("resource info %v", ri)
	}
}

func TestFailedPreconditionCarriesErrorInfo(t *testing.T) {
	md := map[string]string{"state": "CLOSED"}
	st := statusOf(t, apierr.FailedPrecondition("CASE_CLOSED", "the case is closed", md), codes.FailedPrecondition)
	if st.Message() != "the case is closed" {
		t.Errorf("message %q", st.Message())
	}
	ei := detail[*errdetails.ErrorInfo](t, st)
	if ei.GetReason() != "CASE_CLOSED" || ei.GetDomain() != apierr.Domain || ei.GetMetadata()["state"] != "CLOSED" {
		t.Errorf("error info %v", ei)
	}
	if apierr.Domain != "nrm.gov.al" {
		t.Errorf("Domain %q", apierr.Domain)
	}
}

func TestAbortedCarriesErrorInfo(t *testing.T) {
	md := map[string]string{"current_version": "7"}
	st := statusOf(t, apierr.Aborted("VERSION_CONFLICT", "the case changed", md), codes.Aborted)
	ei := detail[*errdetails.ErrorInfo](t, st)
	if ei.GetReason() != "VERSION_CONFLICT" || ei.GetMetadata()["current_version"] != "7" {
		t.Errorf("error info %v", ei)
	}
}

func TestPermissionDeniedCarriesErrorInfo(t *testing.T) {
	st := statusOf(t, apierr.PermissionDenied("NOT_INVOLVED", "not involved", nil), codes.PermissionDenied)
	if ei := detail[*errdetails.ErrorInfo](t, st); ei.GetReason() != "NOT_INVOLVED" {
		t.Errorf("error info %v", ei)
	}
}

func TestUnavailable(t *testing.T) {
	st := statusOf(t, apierr.Unavailable("database down"), codes.Unavailable)
	if st.Message() != "database down" || len(st.Details()) != 0 {
		t.Errorf("status %v", st)
	}
}

func TestErrorsSurviveTheWire(t *testing.T) {
	// The gateway sees the status after a round trip through its proto form.
	var v apierr.Violations
	v.Add("a", "bad")
	v.Add("b", "bad")
	st := statusOf(t, v.Err(), codes.InvalidArgument)
	b, err := proto.Marshal(st.Proto())
	if err != nil {
		t.Fatal(err)
	}
	again := status.New(codes.OK, "").Proto()
	if err := proto.Unmarshal(b, again); err != nil {
		t.Fatal(err)
	}
	br := detail[*errdetails.BadRequest](t, status.FromProto(again))
	if len(br.GetFieldViolations()) != 2 {
		t.Errorf("%d violations after a round trip", len(br.GetFieldViolations()))
	}
}

// statusOf checks that err is a status with code want and returns it.
func statusOf(t *testing.T, err error, want codes.Code) *status.Status {
	t.Helper()
	if err == nil {
		t.Fatal("nil error")
	}
	st, ok := status.FromError(err)
	if !ok {
		t.Fatalf("%v is not a gRPC status", err)
	}
	if st.Code() != want {
		t.Fatalf("code %s, want %s", st.Code(), want)
	}
	return st
}

// detail returns the only detail of st, which must be a T.
func detail[T proto.Message](t *testing.T, st *status.Status) T {
	t.Helper()
	ds := st.Details()
	if len(ds) != 1 {
		t.Fatalf("%d details, want 1: %v", len(ds), ds)
	}
	d, ok := ds[0].(T)
	if !ok {
		var zero T
		t.Fatalf("detail is %T, want %T", ds[0], zero)
	}
	return d
}

func TestFieldViolations(t *testing.T) {
	var v apierr.Violations
	v.Add("a", "first")
	v.Add("b.c", "second")
	got := apierr.FieldViolations(v.Err())
	if len(got) != 2 || got[0].GetField() != "a" || got[1].GetField() != "b.c" || got[1].GetDescription() != "second" {
		t.Errorf("FieldViolations = %v", got)
	}
	for _, err := range []error{nil, errors.New("plain"), apierr.NotFound("case", "x")} {
		if got := apierr.FieldViolations(err); len(got) != 0 {
			t.Errorf("FieldViolations(%v) = %v, want none", err, got)
		}
	}
}
