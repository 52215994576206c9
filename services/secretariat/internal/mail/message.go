// Package mail writes the secretariat's notices as e-mail (RFC 5322 with MIME) and hands them
// to a mail server over SMTP. It uses the standard library alone: the messages are plain, and
// what the library leaves out (HTML, DKIM, pooling) the secretariat does not need.
package mail

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
	"time"
)

// MessageIDDomain is the right-hand side of every Message-ID the secretariat writes.
const MessageIDDomain = "nrm-secretariat"

// Attachment is a file sent with a message.
type Attachment struct {
	Name        string
	ContentType string
	Data        []byte
}

// Message is one notice to one recipient. One recipient per message keeps each delivery's fate
// its own (a refused address fails alone) and keeps the recipients from seeing each other.
type Message struct {
	// ID makes the Message-ID, <ID@nrm-secretariat>: the same notice to the same recipient has
	// the same Message-ID however often it is sent, so that a resend can be recognised.
	ID string
	// From and To are addresses, with or without a display name.
	From, To string
	// Subject and Text are the notice. Text is plain text, lines separated by "\n".
	Subject, Text string
	// Calendar, when set, is an iCalendar object (the calendar package) whose METHOD (REQUEST or
	// CANCEL) the message declares, so that mail clients offer to answer the invitation.
	Calendar []byte
	// Attachments are further files.
	Attachments []Attachment
}

// Render returns the message as it goes on the wire, dated date.
//
// The body is multipart/mixed: first a multipart/alternative holding the text and, for an
// invitation, the text/calendar part (where Outlook and Gmail look for an invitation to
// answer), then the invitation again as an invite.ics attachment (for clients that only
// offer to open a file), then the attachments. Every part is quoted-printable or base64, so
// no line of a part can look like a boundary, and the boundaries are derived from the ID, so
// rendering is deterministic: a resend differs only by its date.
func (m Message) Render(date time.Time) ([]byte, error) {
	from, to, method, err := m.check()
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	h := header{w: &b}
	h.add("From", from.String())
	h.add("To", to.String())
	// A long subject is several encoded words; fold between them to keep lines short.
	h.add("Subject", strings.ReplaceAll(mime.QEncoding.Encode("utf-8", m.Subject), "?= =?", "?=\r\n =?"))
	h.add("Date", date.Format(time.RFC1123Z))
	h.add("Message-ID", MessageID(m.ID))
	h.add("MIME-Version", "1.0")
	mixed := multipart.NewWriter(&b)
	if err := mixed.SetBoundary(boundary(m.ID, "mixed")); err != nil {
		return nil, err
	}
	h.add("Content-Type", mime.FormatMediaType("multipart/mixed", map[string]string{"boundary": mixed.Boundary()}))
	b.WriteString("\r\n")

	altBoundary := boundary(m.ID, "alternative")
	body, err := mixed.CreatePart(textproto.MIMEHeader{
		"Content-Type": {mime.FormatMediaType("multipart/alternative", map[string]string{"boundary": altBoundary})},
	})
	if err != nil {
		return nil, err
	}
	alt := multipart.NewWriter(body)
	if err := alt.SetBoundary(altBoundary); err != nil {
		return nil, err
	}
	if err := quotedPrintable(alt, "text/plain; charset=utf-8", []byte(m.Text)); err != nil {
		return nil, err
	}
	if m.Calendar != nil {
		calType := mime.FormatMediaType("text/calendar", map[string]string{"charset": "utf-8", "method": method})
		if err := quotedPrintable(alt, calType, m.Calendar); err != nil {
			return nil, err
		}
	}
	if err := alt.Close(); err != nil {
		return nil, err
	}
	if m.Calendar != nil {
		if err := attach(mixed, Attachment{Name: "invite.ics", ContentType: "application/ics", Data: m.Calendar}); err != nil {
			return nil, err
		}
	}
	for _, a := range m.Attachments {
		if err := attach(mixed, a); err != nil {
			return nil, err
		}
	}
	if err := mixed.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// MessageID is the Message-ID header of the message with id. A msg-id's left part is a
// dot-atom, so every byte of id outside a safe set (the "@" of an address, say) is written as
// "=" and its hex code; the encoding is one-to-one, so distinct ids give distinct Message-IDs.
func MessageID(id string) string {
	var b strings.Builder
	b.WriteByte('<')
	for i := range len(id) {
		c := id[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', strings.IndexByte("-_/+", c) >= 0:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "=%02X", c)
		}
	}
	b.WriteString("@" + MessageIDDomain + ">")
	return b.String()
}

// check validates the message and returns its parsed addresses and calendar method.
func (m Message) check() (from, to *mail.Address, method string, err error) {
	var errs []error
	if strings.TrimSpace(m.ID) == "" {
		errs = append(errs, errors.New("no ID"))
	}
	if from, err = mail.ParseAddress(m.From); err != nil {
		errs = append(errs, fmt.Errorf("from %q: %w", m.From, err))
	}
	if to, err = mail.ParseAddress(m.To); err != nil {
		errs = append(errs, fmt.Errorf("to %q: %w", m.To, err))
	}
	if strings.ContainsAny(m.Subject, "\r\n") {
		errs = append(errs, errors.New("the subject has a line break"))
	}
	if m.Calendar != nil {
		if method, err = CalendarMethod(m.Calendar); err != nil {
			errs = append(errs, err)
		}
	}
	for i, a := range m.Attachments {
		if err := a.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("attachment %d: %w", i+1, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, nil, "", fmt.Errorf("message %q: %w", m.ID, err)
	}
	return from, to, method, nil
}

// Validate reports whether the attachment can be sent: a file name without a path, a content
// type.
func (a Attachment) Validate() error {
	if strings.TrimSpace(a.Name) == "" || strings.ContainsAny(a.Name, "/\\\r\n") {
		return fmt.Errorf("%q is not a file name", a.Name)
	}
	if _, _, err := mime.ParseMediaType(a.ContentType); err != nil {
		return fmt.Errorf("%s: content type %q: %w", a.Name, a.ContentType, err)
	}
	return nil
}

// CalendarMethod reads the METHOD of an iCalendar object, REQUEST or CANCEL, which the
// text/calendar part repeats as its method parameter.
func CalendarMethod(cal []byte) (string, error) {
	sc := bufio.NewScanner(bytes.NewReader(cal))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(strings.TrimRight(sc.Text(), "\r"), "METHOD:"); ok {
			switch v {
			case "REQUEST", "CANCEL":
				return v, nil
			}
			return "", fmt.Errorf("calendar method %q is not REQUEST or CANCEL", v)
		}
	}
	return "", errors.New("the calendar has no METHOD")
}

// boundary is a multipart boundary derived from the message id. It starts with "=_", which
// neither quoted-printable ("=" is "=3D" there) nor base64 can produce.
func boundary(id, kind string) string {
	sum := sha256.Sum256([]byte(id))
	return "=_nrm_" + kind + "_" + hex.EncodeToString(sum[:12])
}

func quotedPrintable(w *multipart.Writer, contentType string, data []byte) error {
	p, err := w.CreatePart(textproto.MIMEHeader{
		"Content-Type":              {contentType},
		"Content-Transfer-Encoding": {"quoted-printable"},
	})
	if err != nil {
		return err
	}
	qp := quotedprintable.NewWriter(p) // text mode: line breaks become CRLF
	if _, err := qp.Write(data); err != nil {
		return err
	}
	return qp.Close()
}

func attach(w *multipart.Writer, a Attachment) error {
	p, err := w.CreatePart(textproto.MIMEHeader{
		"Content-Type":              {a.ContentType},
		"Content-Disposition":       {mime.FormatMediaType("attachment", map[string]string{"filename": a.Name})},
		"Content-Transfer-Encoding": {"base64"},
	})
	if err != nil {
		return err
	}
	return writeBase64(p, a.Data)
}

// writeBase64 writes data in lines of 76 characters, the limit RFC 2045 sets.
func writeBase64(w io.Writer, data []byte) error {
	enc := base64.StdEncoding.EncodeToString(data)
	for len(enc) > 0 {
		n := min(76, len(enc))
		if _, err := io.WriteString(w, enc[:n]+"\r\n"); err != nil {
			return err
		}
		enc = enc[n:]
	}
	return nil
}

// header writes header fields in the order given (textproto.MIMEHeader would sort them).
type header struct{ w *bytes.Buffer }

func (h header) add(name, value string) { h.w.WriteString(name + ": " + value + "\r\n") }
