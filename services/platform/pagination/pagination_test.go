package pagination_test

import (
	"encoding/base64"
	"strconv"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/nrm-albania/nrm/services/platform/apierr"
	"github.com/nrm-albania/nrm/services/platform/pagination"
)

func TestSize(t *testing.T) {
	tests := []struct {
		requested int32
		want      int
		ok        bool
	}{
		{-1, 0, false},
		{0, pagination.DefaultPageSize, true},
		{1, 1, true},
		{50, 50, true},
		{100, 100, true},
		{101, 0, false},
		{1 << 30, 0, false},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(int(tt.requested)), func(t *testing.T) {
			got, err := pagination.Size(tt.requested)
			if !tt.ok {
				assertInvalidField(t, err, "page_size")
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("Size(%d) = %d, want %d", tt.requested, got, tt.want)
			}
		})
	}
}

func TestPageSizeBounds(t *testing.T) {
	if pagination.DefaultPageSize != 50 || pagination.MaxPageSize != 100 {
		t.Errorf("bounds %d/%d, want 50/100", pagination.DefaultPageSize, pagination.MaxPageSize)
	}
}

func TestTokenRoundTrip(t *testing.T) {
	for _, after := range []string{
		"a",
		"2024-03-01T10:00:00Z|0f8fad5b-d9cb-469f-a165-7a5f7b8b3e5a",
		"with \"quotes\" and unicode ë, ç",
		"slashes/and+plus=equals",
	} {
		t.Run(after, func(t *testing.T) {
			tok := pagination.Token(after)
			if _, err := base64.RawURLEncoding.DecodeString(tok); err != nil {
				t.Errorf("token %q is not URL-safe base64: %v", tok, err)
			}
			got, err := pagination.After(tok)
			if err != nil {
				t.Fatal(err)
			}
			if got != after {
				t.Errorf("After(Token(%q)) = %q", after, got)
			}
		})
	}
}

func TestEmptyTokenIsTheFirstPage(t *testing.T) {
	got, err := pagination.After("")
	if err != nil || got != "" {
		t.Fatalf(`After("") = %q, %v; want "", nil`, got, err)
	}
}

func TestForeignTokensAreInvalidArgument(t *testing.T) {
	b64 := base64.RawURLEncoding.EncodeToString
	tests := map[string]string{
		"not base64":              "!!!not-a-token!!!",
		"padded base64":           base64.URLEncoding.EncodeToString([]byte(`{"a":"xy"}`)), // ends in ==
		"base64 of garbage":       b64([]byte("garbage")),
		"json of another shape":   b64([]byte(`[1,2,3]`)),
		"empty after":             b64([]byte(`{"a":""}`)),
		"no after":                b64([]byte(`{}`)),
		"after of the wrong type": b64([]byte(`{"a":5}`)),
		"token of the empty key":  pagination.Token(""),
	}
	for name, tok := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := pagination.After(tok)
			if got != "" {
				t.Errorf("After returned %q with the error", got)
			}
			assertInvalidField(t, err, "page_token")
		})
	}
}

// assertInvalidField checks that err is InvalidArgument with one violation on field.
func assertInvalidField(t *testing.T, err error, field string) {
	t.Helper()
	st, ok := status.FromError(err)
	if err == nil || !ok || st.Code() != codes.InvalidArgument {
		t.Fatalf("error %v, want InvalidArgument", err)
	}
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			if len(br.GetFieldViolations()) == 1 && br.GetFieldViolations()[0].GetField() == field {
				return
			}
		}
	}
	t.Errorf("details %v, want a violation on %s", st.Details(), field)
}

// Parse reads both halves of a list request, and names the field at fault.
func TestParse(t *testing.T) {
	cases := []struct {
		name  string
		size  int32
		token string
		want  int
		after string
		field string
	}{
		{"first page, default size", 0, "", pagination.DefaultPageSize, "", ""},
		{"a later page", 10, pagination.Token("VT-2026-00042"), 10, "VT-2026-00042", ""},
		{"a bad size", -1, pagination.Token("x"), 0, "", "page_size"},
		{"a bad token", 10, "garbage", 0, "", "page_token"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			size, after, err := pagination.Parse(c.size, c.token)
			if c.field != "" {
				if got := apierr.ViolatedFields(err); len(got) != 1 || got[0] != c.field {
					t.Fatalf("Parse = %v, want a violation of %s", err, c.field)
				}
				return
			}
			if err != nil || size != c.want || after != c.after {
				t.Fatalf("Parse = %d, %q, %v; want %d, %q", size, after, err, c.want, c.after)
			}
		})
	}
}
