package mailcatcher

import (
	"bytes"
	"encoding/base64"
	"html/template"
	"io"
	"io/fs"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/http"
	"net/mail"
	"os"
	"slices"
	"strings"
	"time"
)

// summary is a message as the list shows it.
type summary struct {
	Name, From, To, Subject string
	Date                    time.Time
}

var page = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>NRM mail catcher</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{padding:.3em .8em;border-bottom:1px solid #ddd;text-align:left}</style>
</head><body>
<h1>Mail caught by <code>make run</code></h1>
<p>{{len .}} message(s), newest first. Each is also an .eml file in the data directory's <code>mail/</code>.</p>
<table><tr><th>Date</th><th>From</th><th>To</th><th>Subject</th></tr>
{{range .}}<tr><td>{{.Date.Format "2006-01-02 15:04:05 MST"}}</td><td>{{.From}}</td><td>{{.To}}</td>
<td><a href="/messages/{{.Name}}">{{.Subject}}</a> (<a href="/messages/{{.Name}}?raw=1">raw</a>)</td></tr>
{{end}}</table></body></html>
`))

// handler serves the list of messages at / and each at /messages/{name}: readable text (the
// headers, then every text part decoded), or as received with ?raw=1. Files are read through
// root, so that no name reaches outside the directory.
func handler(root *os.Root) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		list, err := summaries(root)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = page.Execute(w, list)
	})
	mux.HandleFunc("GET /messages/{name}", func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("name")
		if !strings.HasSuffix(name, ".eml") {
			http.NotFound(w, r)
			return
		}
		raw, err := root.ReadFile(name)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if r.URL.Query().Get("raw") == "" {
			raw = readable(raw)
		}
		_, _ = w.Write(raw)
	})
	return mux
}

// summaries lists the kept messages, newest first.
func summaries(root *os.Root) ([]summary, error) {
	names, err := fs.Glob(root.FS(), "*.eml")
	if err != nil {
		return nil, err
	}
	slices.Reverse(names) // the names sort by arrival
	out := make([]summary, 0, len(names))
	for _, name := range names {
		s := summary{Name: name, Subject: "(unreadable)"}
		if f, err := root.Open(name); err == nil {
			if m, err := mail.ReadMessage(f); err == nil {
				s.From, s.To, s.Subject = decode(m.Header.Get("From")), decode(m.Header.Get("To")), decode(m.Header.Get("Subject"))
				s.Date, _ = m.Header.Date()
			}
			f.Close()
		}
		out = append(out, s)
	}
	return out, nil
}

var words = new(mime.WordDecoder)

func decode(header string) string {
	if s, err := words.DecodeHeader(header); err == nil {
		return s
	}
	return header
}

// readable is a message for a person: its main headers decoded, then its text parts (plain
// text, calendar) decoded, attachments named only.
func readable(raw []byte) []byte {
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return raw
	}
	var b bytes.Buffer
	for _, h := range []string{"Date", "From", "To", "Subject", "Message-ID"} {
		b.WriteString(h + ": " + decode(m.Header.Get(h)) + "\n")
	}
	b.WriteString("\n")
	parts(&b, m.Header.Get("Content-Type"), m.Header.Get("Content-Transfer-Encoding"), "", m.Body)
	return b.Bytes()
}

func parts(b *bytes.Buffer, contentType, encoding, disposition string, body io.Reader) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		mt = "text/plain"
	}
	if strings.HasPrefix(mt, "multipart/") {
		r := multipart.NewReader(body, params["boundary"])
		for {
			p, err := r.NextRawPart()
			if err != nil {
				return
			}
			parts(b, p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p.Header.Get("Content-Disposition"), p)
		}
	}
	if _, dp, err := mime.ParseMediaType(disposition); err == nil && dp["filename"] != "" {
		b.WriteString("--- attachment " + dp["filename"] + " (" + mt + ")\n\n")
		return
	}
	if !strings.HasPrefix(mt, "text/") {
		b.WriteString("--- part " + mt + "\n\n")
		return
	}
	switch strings.ToLower(encoding) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body)
	}
	b.WriteString("--- " + mt + "\n")
	_, _ = io.Copy(b, body)
	b.WriteString("\n\n")
}
