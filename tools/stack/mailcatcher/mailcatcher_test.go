package mailcatcher

import (
	"io"
	"net/http"
	"net/smtp"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const message = "From: secretariat@nrm.local\r\n" +
	"To: perfaqesuesi@asp.gov.al\r\n" +
	"Subject: =?utf-8?q?Ftes=C3=AB:_mbledhja_e_dhjetorit?=\r\n" +
	"Date: Fri, 20 Nov 2026 09:30:00 +0100\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: text/plain; charset=utf-8\r\n" +
	"Content-Transfer-Encoding: quoted-printable\r\n" +
	"\r\n" +
	"Rendi i dit=C3=ABs: VT-2026-00017.\r\n"

func start(t *testing.T) *Catcher {
	t.Helper()
	c, err := Start(filepath.Join(t.TempDir(), "mail"), "127.0.0.1:0", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Stop)
	return c
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	return string(body)
}

func TestCatchesKeepsAndShows(t *testing.T) {
	c := start(t)
	for _, to := range []string{"perfaqesuesi@asp.gov.al", "zevendesi@asp.gov.al"} {
		if err := smtp.SendMail(c.SMTPAddr, nil, "secretariat@nrm.local", []string{to}, []byte(message)); err != nil {
			t.Fatalf("send to the catcher: %v", err)
		}
	}

	entries, err := os.ReadDir(c.Dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if len(names) != 2 || !slices.IsSorted(names) || !strings.HasSuffix(names[0], ".eml") || names[0] == names[1] {
		t.Fatalf("files %v, want two distinct .eml files", names)
	}
	kept, err := os.ReadFile(filepath.Join(c.Dir, names[1]))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(kept), "Return-Path: <secretariat@nrm.local>\r\nDelivered-To: zevendesi@asp.gov.al\r\n") ||
		!strings.HasSuffix(string(kept), message) {
		t.Errorf("the second file, arrived second, holds:\n%s", kept)
	}

	list := get(t, c.URL)
	for _, want := range []string{"Ftesë: mbledhja e dhjetorit", "secretariat@nrm.local", "perfaqesuesi@asp.gov.al", "/messages/" + names[0]} {
		if !strings.Contains(list, want) {
			t.Errorf("the list page lacks %q:\n%s", want, list)
		}
	}
	if text := get(t, c.URL+"messages/"+names[0]); !strings.Contains(text, "Subject: Ftesë: mbledhja e dhjetorit") || !strings.Contains(text, "Rendi i ditës: VT-2026-00017.") {
		t.Errorf("the message page is not readable text:\n%s", text)
	}
	if raw := get(t, c.URL+"messages/"+names[0]+"?raw=1"); !strings.HasSuffix(raw, message) {
		t.Errorf("the raw page is not the message as received:\n%s", raw)
	}
}

func TestServesNothingOutsideItsDirectory(t *testing.T) {
	c := start(t)
	if err := os.WriteFile(filepath.Join(filepath.Dir(c.Dir), "secret.eml"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"messages/..%2Fsecret.eml", "messages/%2E%2E%2Fsecret.eml", "messages/none.eml", "messages/x.txt"} {
		resp, err := http.Get(c.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET /%s: %s, want 404", path, resp.Status)
		}
	}
}
