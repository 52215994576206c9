package mail

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"testing"
	"time"
)

// part is one leaf of a parsed message.
type part struct {
	contentType string
	params      map[string]string
	disposition string
	filename    string
	body        []byte
}

// parse reads a rendered message back with the standard library, as a receiving client would.
func parse(t *testing.T, raw []byte) (*mail.Message, []part) {
	t.Helper()
	for i, line := range strings.Split(string(raw), "\r\n") {
		if len(line) > 998 || strings.Contains(line, "\n") {
			t.Fatalf("line %d is not a CRLF line of at most 998 octets: %q", i+1, line)
		}
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("the message does not parse: %v", err)
	}
	return msg, leaves(t, msg.Header.Get("Content-Type"), msg.Body)
}

func leaves(t *testing.T, contentType string, body io.Reader) []part {
	t.Helper()
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		t.Fatalf("content type %q: %v", contentType, err)
	}
	if !strings.HasPrefix(mt, "multipart/") {
		t.Fatalf("a %s where a multipart was expected", mt)
	}
	var out []part
	r := multipart.NewReader(body, params["boundary"])
	for {
		p, err := r.NextRawPart() // raw: the test decodes, to check the declared encodings
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		ct := p.Header.Get("Content-Type")
		if strings.HasPrefix(ct, "multipart/") {
			out = append(out, leaves(t, ct, p)...)
			continue
		}
		var dec io.Reader = p
		switch enc := p.Header.Get("Content-Transfer-Encoding"); enc {
		case "quoted-printable":
			dec = quotedprintable.NewReader(p)
		case "base64":
			dec = base64.NewDecoder(base64.StdEncoding, p)
		default:
			t.Fatalf("part %s has transfer encoding %q", ct, enc)
		}
		data, err := io.ReadAll(dec)
		if err != nil {
			t.Fatal(err)
		}
		lp := part{body: data}
		lp.contentType, lp.params, _ = mime.ParseMediaType(ct)
		if d := p.Header.Get("Content-Disposition"); d != "" {
			var dp map[string]string
			lp.disposition, dp, _ = mime.ParseMediaType(d)
			lp.filename = dp["filename"]
		}
		out = append(out, lp)
	}
}

const invitation = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:m1\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"

func notice() Message {
	return Message{
		ID:      "invitation/2026-12/1/perfaqesuesi@asp.gov.al",
		From:    "Sekretaria e Autoritetit <secretariat@nrm.local>",
		To:      "perfaqesuesi@asp.gov.al",
		Subject: "Ftesë: mbledhja e rregullt e dhjetorit, çështjet VT-2026-00017 dhe VT-2026-00018",
		Text:    "Të nderuar,\nju ftojmë në mbledhjen e 3 dhjetorit.\n\n" + strings.Repeat("Rendi i ditës ë ç. ", 20) + "\n",
	}
}

func TestRenderParsesBack(t *testing.T) {
	date := time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC)
	pdf := Attachment{Name: "procesverbali-nëntor.pdf", ContentType: "application/pdf", Data: bytes.Repeat([]byte{0, 1, 2, 0xff}, 100)}
	tests := []struct {
		name  string
		edit  func(*Message)
		parts []string // content type[:filename] of each leaf, in order
	}{
		{"text only", func(*Message) {}, []string{"text/plain"}},
		{"an invitation", func(m *Message) { m.Calendar = []byte(invitation) },
			[]string{"text/plain", "text/calendar", "application/ics:invite.ics"}},
		{"a cancellation with an attachment", func(m *Message) {
			m.Calendar = []byte(strings.Replace(invitation, "REQUEST", "CANCEL", 1))
			m.Attachments = []Attachment{pdf}
		}, []string{"text/plain", "text/calendar", "application/ics:invite.ics", "application/pdf:" + pdf.Name}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := notice()
			tt.edit(&m)
			raw, err := m.Render(date)
			if err != nil {
				t.Fatal(err)
			}
			msg, parts := parse(t, raw)
			h := msg.Header
			if subject, err := new(mime.WordDecoder).DecodeHeader(h.Get("Subject")); err != nil || subject != m.Subject {
				t.Errorf("subject %q (%v), want %q", subject, err, m.Subject)
			}
			if from, err := h.AddressList("From"); err != nil || from[0].Name != "Sekretaria e Autoritetit" || from[0].Address != "secretariat@nrm.local" {
				t.Errorf("from %v (%v)", from, err)
			}
			if to, err := h.AddressList("To"); err != nil || len(to) != 1 || to[0].Address != m.To {
				t.Errorf("to %v (%v), want %s alone", to, err, m.To)
			}
			if d, err := h.Date(); err != nil || !d.Equal(date) {
				t.Errorf("date %v (%v), want %v", d, err, date)
			}
			if id := h.Get("Message-ID"); id != "<invitation/2026-12/1/perfaqesuesi=40asp=2Egov=2Eal@nrm-secretariat>" {
				t.Errorf("Message-ID %s", id)
			}
			var got []string
			for _, p := range parts {
				d := p.contentType
				if p.disposition == "attachment" {
					d += ":" + p.filename
				}
				got = append(got, d)
			}
			if strings.Join(got, " ") != strings.Join(tt.parts, " ") {
				t.Fatalf("parts %v, want %v", got, tt.parts)
			}
			if text := string(parts[0].body); text != strings.ReplaceAll(m.Text, "\n", "\r\n") || parts[0].params["charset"] != "utf-8" {
				t.Errorf("text %q (charset %q), want %q", text, parts[0].params["charset"], m.Text)
			}
			if m.Calendar != nil {
				cal := parts[1]
				if want, _ := CalendarMethod(m.Calendar); cal.params["method"] != want {
					t.Errorf("text/calendar method %q, want %q", cal.params["method"], want)
				}
				if !bytes.Equal(cal.body, m.Calendar) || !bytes.Equal(parts[2].body, m.Calendar) {
					t.Errorf("the calendar did not survive: %q", cal.body)
				}
			}
			if len(m.Attachments) > 0 && !bytes.Equal(parts[3].body, pdf.Data) {
				t.Errorf("the attachment did not survive")
			}
			again, _ := m.Render(date)
			if !bytes.Equal(raw, again) {
				t.Errorf("two renderings differ")
			}
		})
	}
}

func TestMessageIDsAreDistinctAndValid(t *testing.T) {
	ids := []string{"a/b@c.d", "a/b=40c.d", "a/b@c=2Ed", "a b", "a/b.c"}
	seen := map[string]string{}
	for _, id := range ids {
		mid := MessageID(id)
		if other, ok := seen[mid]; ok {
			t.Errorf("%q and %q share Message-ID %s", id, other, mid)
		}
		seen[mid] = id
		h := mail.Header{"Message-Id": {mid}}
		if _, err := h.AddressList("Message-Id"); err != nil { // a msg-id parses as an angle address
			t.Errorf("Message-ID %s of %q is not well formed: %v", mid, id, err)
		}
	}
}

func TestInvalidMessagesAreRefused(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Message)
		want string
	}{
		{"no ID", func(m *Message) { m.ID = "" }, "no ID"},
		{"a bad sender", func(m *Message) { m.From = "secretariat" }, "from"},
		{"a bad recipient", func(m *Message) { m.To = "a@b, c@d" }, "to"},
		{"no recipient", func(m *Message) { m.To = "" }, "to"},
		{"a subject that injects a header", func(m *Message) { m.Subject = "hi\r\nBcc: x@y.z" }, "line break"},
		{"a calendar without a method", func(m *Message) { m.Calendar = []byte("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n") }, "no METHOD"},
		{"a calendar with a reply", func(m *Message) { m.Calendar = []byte(strings.Replace(invitation, "REQUEST", "REPLY", 1)) }, "REPLY"},
		{"an attachment without a name", func(m *Message) { m.Attachments = []Attachment{{ContentType: "text/plain"}} }, "attachment 1"},
		{"an attachment with a path", func(m *Message) { m.Attachments = []Attachment{{Name: "../x", ContentType: "text/plain"}} }, "file name"},
		{"an attachment without a type", func(m *Message) { m.Attachments = []Attachment{{Name: "x.pdf"}} }, "content type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := notice()
			tt.edit(&m)
			raw, err := m.Render(time.Now())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one saying %q", err, tt.want)
			}
			if raw != nil {
				t.Error("a message came with the error")
			}
		})
	}
}
