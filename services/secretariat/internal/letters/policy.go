package letters

import (
	"bytes"
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/nrm-albania/nrm/services/platform/config"
)

// Policy says which attachments a letter may carry: how many, how large, of which types.
type Policy struct {
	MaxBytes int
	MaxCount int
	// Types are the media types accepted, without parameters ("text/plain").
	Types []string
	types string
}

// DefaultTypes are the types accepted unless configured: documents and scans. Anything a
// browser or a reader would run (HTML, SVG, office files with macros) stays out.
const DefaultTypes = "application/pdf,image/png,image/jpeg,text/plain"

// Bind registers the policy's settings.
func (p *Policy) Bind(set *config.Set) {
	set.Int(&p.MaxBytes, "letter-attachment-max-bytes", 5<<20, "largest attachment of a letter, in bytes")
	set.Int(&p.MaxCount, "letter-attachment-max-count", 10, "most attachments one letter carries")
	set.String(&p.types, "letter-attachment-types", DefaultTypes,
		"media types an attachment may be, by its content: application/pdf, image/png, image/jpeg, image/gif, image/webp, text/plain (comma-separated)")
	set.Check(func() error { return config.CheckRange("letter-attachment-max-bytes", p.MaxBytes, 1, 64<<20) })
	set.Check(func() error { return config.CheckRange("letter-attachment-max-count", p.MaxCount, 0, 100) })
	set.Check(func() error {
		p.Types = nil
		for t := range strings.SplitSeq(p.types, ",") {
			t = strings.TrimSpace(t)
			if !slices.Contains(detectable, t) {
				return fmt.Errorf("%s: %q is not one of the types content can be recognised as (%s)",
					config.EnvName("letter-attachment-types"), t, strings.Join(detectable, ", "))
			}
			if !slices.Contains(p.Types, t) {
				p.Types = append(p.Types, t)
			}
		}
		return nil
	})
}

// detectable are the types Detect can tell from content, and so the only ones worth allowing.
var detectable = []string{"application/pdf", "image/png", "image/jpeg", "image/gif", "image/webp", "text/plain"}

// Detect returns the content type of data judged by its content alone, never by a name or a
// type the sender declares, and "" when it is none of the detectable types. A PDF is recognised
// by its magic number at the very start, here rather than by the sniffer, so that what counts as
// a PDF does not depend on net/http's table; text must be UTF-8, which the sniffer does not check.
func Detect(data []byte) string {
	if bytes.HasPrefix(data, []byte("%PDF-")) {
		return "application/pdf"
	}
	t := http.DetectContentType(data)
	media, _, err := mime.ParseMediaType(t)
	switch {
	case err != nil:
		return ""
	case media == "text/plain":
		if !utf8.Valid(data) {
			return ""
		}
		return "text/plain; charset=utf-8"
	case slices.Contains(detectable, media):
		return media
	}
	return ""
}

// Check returns the content type of an attachment, or why it is refused: its size or its type.
func (p Policy) Check(data []byte) (string, error) {
	if len(data) == 0 {
		return "", fmt.Errorf("is empty")
	}
	if len(data) > p.MaxBytes {
		return "", fmt.Errorf("is %d bytes; an attachment may be at most %d", len(data), p.MaxBytes)
	}
	t := Detect(data)
	if t == "" {
		return "", fmt.Errorf("is not of an accepted type by its content (accepted: %s)", strings.Join(p.Types, ", "))
	}
	if media, _, _ := mime.ParseMediaType(t); !slices.Contains(p.Types, media) {
		return "", fmt.Errorf("is %s by its content, which is not accepted (accepted: %s)", media, strings.Join(p.Types, ", "))
	}
	return t, nil
}

// SameType reports whether a declared content type names the media type of the detected one.
func SameType(declared, detected string) bool {
	d, _, err := mime.ParseMediaType(declared)
	t, _, _ := mime.ParseMediaType(detected)
	return err == nil && d == t
}
