package requestid_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/nrm-albania/nrm/services/platform/requestid"
)

func TestSanitizeKeepsValidIDs(t *testing.T) {
	for _, id := range []string{
		"a",
		"0f8fad5b-d9cb-469f-a165-7a5f7b8b3e5a",
		"gateway:req.42_x",
		strings.Repeat("x", 128),
	} {
		if got := requestid.Sanitize(id); got != id {
			t.Errorf("Sanitize(%q) = %q, want it kept", id, got)
		}
	}
}

func TestSanitizeReplacesInvalidIDs(t *testing.T) {
	tests := map[string]string{
		"empty":        "",
		"too long":     strings.Repeat("x", 129),
		"space":        "a b",
		"newline":      "abc\nforged log line",
		"trailing \\n": "abc\n",
		"tab":          "a\tb",
		"nul":          "a\x00b",
		"escape":       "a\x1b[31mred",
		"json breaker": `a","level":"ERROR`,
		"non-ascii":    "ë",
		"slash":        "a/b",
	}
	for name, id := range tests {
		t.Run(name, func(t *testing.T) {
			got := requestid.Sanitize(id)
			if got == id {
				t.Fatalf("Sanitize(%q) kept it", id)
			}
			if _, err := uuid.Parse(got); err != nil {
				t.Errorf("replacement %q is not a fresh UUID: %v", got, err)
			}
		})
	}
}

func TestNewIsUniqueAndValid(t *testing.T) {
	a, b := requestid.New(), requestid.New()
	if a == b {
		t.Errorf("New returned %q twice", a)
	}
	if requestid.Sanitize(a) != a {
		t.Errorf("New() = %q does not pass Sanitize", a)
	}
}

func TestContextCarriesTheID(t *testing.T) {
	ctx := context.Background()
	if got := requestid.From(ctx); got != "" {
		t.Errorf("From(empty context) = %q", got)
	}
	ctx = requestid.With(ctx, "r-1")
	if got := requestid.From(ctx); got != "r-1" {
		t.Errorf("From = %q, want r-1", got)
	}
	if got := requestid.From(requestid.With(ctx, "r-2")); got != "r-2" {
		t.Errorf("inner With not seen: %q", got)
	}
}

func TestMetadataKey(t *testing.T) {
	if requestid.MetadataKey != "x-request-id" {
		t.Errorf("MetadataKey %q", requestid.MetadataKey)
	}
}
