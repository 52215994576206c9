package server

import (
	"reflect"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// violations returns the fields named by err's BadRequest detail, failing unless err is an
// InvalidArgument that carries one.
func violations(t *testing.T, err error) []string {
	t.Helper()
	st, _ := status.FromError(err)
	if st.Code() != codes.InvalidArgument {
		t.Fatalf("got %v; want InvalidArgument", err)
	}
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			var fields []string
			for _, v := range br.GetFieldViolations() {
				fields = append(fields, v.GetField())
			}
			return fields
		}
	}
	t.Fatalf("%v carries no BadRequest detail", err)
	return nil
}

func TestValidatePeriod(t *testing.T) {
	for _, tc := range []struct {
		from, to string
		invalid  []string // fields named in violations; nil when valid
	}{
		{"", "", nil},
		{"2025-01-01", "", nil},
		{"", "2025-12-31", nil},
		{"2025-01-01", "2025-12-31", nil},
		{"2025-03-09", "2025-03-09", nil},
		{"2025-13-01", "", []string{"from"}},
		{"", "2025-02-30", []string{"to"}},
		{"2025-1-1", "yesterday", []string{"from", "to"}},
		{"2025-03-10", "2025-03-09", []string{"to"}},
	} {
		err := validatePeriod(tc.from, tc.to)
		if tc.invalid == nil {
			if err != nil {
				t.Errorf("validatePeriod(%q, %q) = %v; want nil", tc.from, tc.to, err)
			}
			continue
		}
		if got := violations(t, err); !reflect.DeepEqual(got, tc.invalid) {
			t.Errorf("validatePeriod(%q, %q) names %v; want %v", tc.from, tc.to, got, tc.invalid)
		}
	}
}
