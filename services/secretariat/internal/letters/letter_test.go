package letters

import (
	"strings"
	"testing"

	"github.com/nrm-albania/nrm/services/platform/config"
)

func TestProtocolNumbersParseOnlyAsWritten(t *testing.T) {
	for _, tt := range []struct {
		s    string
		year int
		n    int64
		ok   bool
	}{
		{"MB-SEK-2026-0001", 2026, 1, true},
		{"MB-SEK-2026-9999", 2026, 9999, true},
		{"MB-SEK-2026-10000", 2026, 10000, true},
		{"MB-SEK-2026-00042", 0, 0, false}, // not as Number writes 42
		{"MB-SEK-2026-0000", 0, 0, false},
		{"MB-SEK-1999-0001", 0, 0, false},
		{"MB-SEK-2026-1", 0, 0, false},
		{"VT-2026-00042", 0, 0, false},
		{"mb-sek-2026-0001", 0, 0, false},
	} {
		year, n, ok := ParseNumber(tt.s)
		if year != tt.year || n != tt.n || ok != tt.ok {
			t.Errorf("ParseNumber(%q) = %d, %d, %v; want %d, %d, %v", tt.s, year, n, ok, tt.year, tt.n, tt.ok)
		}
	}
}

func TestPositionsOrderTheRegisterAndRoundTrip(t *testing.T) {
	if Position(2025, MaxPerYear) >= Position(2026, 1) {
		t.Error("the last letter of 2025 is not before the first of 2026")
	}
	if year, n, ok := AtPosition(Position(2026, 42)); year != 2026 || n != 42 || !ok {
		t.Errorf("AtPosition(Position(2026, 42)) = %d, %d, %v", year, n, ok)
	}
	for _, p := range []int64{1, 42, Position(2026, 0), Position(1999, 5)} {
		if _, _, ok := AtPosition(p); ok {
			t.Errorf("AtPosition(%d) is a place in the register", p)
		}
	}
}

func TestAttachmentsAreJudgedByTheirContent(t *testing.T) {
	var p Policy
	if err := config.Apply("secretariat", map[string]string{"NRM_LETTER_ATTACHMENT_MAX_BYTES": "64"}, p.Bind); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, data, want, refusal string
	}{
		{"a PDF", "%PDF-1.4\n%%EOF", "application/pdf", ""},
		{"a PNG", "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image/png", ""},
		{"a JPEG", "\xff\xd8\xff\xe0\x00\x10JFIF\x00", "image/jpeg", ""},
		{"UTF-8 text", "Tiranë, 3 dhjetor", "text/plain; charset=utf-8", ""},
		{"text that is not UTF-8", "Tiran\xeb", "", "not of an accepted type"},
		{"a PDF's magic after other bytes", " %PDF-1.4", "text/plain; charset=utf-8", ""},
		{"HTML", "<html><script>alert(1)</script>", "", "not of an accepted type"},
		{"a GIF, detected but not accepted", "GIF89a\x01\x00\x01\x00", "", "image/gif by its content"},
		{"too large", "%PDF-" + strings.Repeat("x", 60), "", "at most 64"},
		{"empty", "", "", "empty"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := p.Check([]byte(tt.data))
			switch {
			case tt.refusal == "" && (err != nil || got != tt.want):
				t.Errorf("Check = %q, %v; want %q", got, err, tt.want)
			case tt.refusal != "" && (err == nil || !strings.Contains(err.Error(), tt.refusal)):
				t.Errorf("Check = %q, %v; want a refusal saying %q", got, err, tt.refusal)
			}
		})
	}
}

func TestTheAcceptedTypesAreOnlyDetectableOnes(t *testing.T) {
	for _, tt := range []struct {
		types string
		ok    bool
	}{
		{"application/pdf, image/gif", true},
		{"text/html", false},
		{"application/msword", false},
	} {
		var p Policy
		err := config.Apply("secretariat", map[string]string{"NRM_LETTER_ATTACHMENT_TYPES": tt.types}, p.Bind)
		if (err == nil) != tt.ok {
			t.Errorf("NRM_LETTER_ATTACHMENT_TYPES=%q: %v", tt.types, err)
		}
	}
}
