package stack_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The correspondence register through REST: the secretariat registers a letter with a PDF, a
// retry with its key answers the same number, a member reads it and downloads the PDF as a file,
// with its type, and may not register one.
func TestALetterWithAPDFThroughREST(t *testing.T) {
	s := start(t)
	police := bearerOf(t, s, "NRM_TOKEN_CASEWORKER_POLICE")
	pdf := []byte("%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
	body := `{"direction": "LETTER_DIRECTION_IN", "counterpart": {"memberCode": "ASP-ANTITRAF"},
		"subject": "Monthly data on potential victims", "caseCodes": ["VT-2026-00042"],
		"attachments": [{"name": "data.pdf", "data": "` + base64.StdEncoding.EncodeToString(pdf) + `"}]}`

	code, out := call(t, "POST", s.GatewayURL+"/v1/letters", strings.NewReader(body), with(secretariat(t, s), "Idempotency-Key", "letter-2026-1"))
	l, _ := out["letter"].(map[string]any)
	number, _ := l["protocolNumber"].(string)
	if code != http.StatusOK || !regexp.MustCompile(`^MB-SEK-[0-9]{4}-0001$`).MatchString(number) {
		t.Fatalf("register: %d %v", code, out)
	}
	a := asSlice(l["attachments"])[0].(map[string]any)
	sum := sha256.Sum256(pdf)
	if a["contentType"] != "application/pdf" || a["sha256"] != hex.EncodeToString(sum[:]) || a["data"] != nil {
		t.Errorf("the attachment described as %v", a)
	}
	if code, again := call(t, "POST", s.GatewayURL+"/v1/letters", strings.NewReader(body), with(secretariat(t, s), "Idempotency-Key", "letter-2026-1")); code != http.StatusOK ||
		again["letter"].(map[string]any)["protocolNumber"] != number {
		t.Errorf("a retry: %d %v, want %s again", code, again, number)
	}
	if code, e := call(t, "POST", s.GatewayURL+"/v1/letters", strings.NewReader(body), police); code != http.StatusForbidden {
		t.Errorf("a member registering: %d %v, want 403", code, e)
	}

	if code, got := call(t, "GET", s.GatewayURL+"/v1/letters/"+number, nil, police); code != http.StatusOK || got["letter"].(map[string]any)["subject"] != "Monthly data on potential victims" {
		t.Errorf("a member reading: %d %v", code, got)
	}
	if code, list := call(t, "GET", s.GatewayURL+"/v1/letters?counterpart=ASP-ANTITRAF", nil, police); code != http.StatusOK ||
		!slices.ContainsFunc(asSlice(list["letters"]), func(l any) bool { return l.(map[string]any)["protocolNumber"] == number }) {
		t.Errorf("the register: %d %v", code, list)
	}

	req, err := http.NewRequest("GET", s.GatewayURL+"/v1/letters/"+number+"/attachments/0", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", police["Authorization"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/pdf" || !bytes.Equal(got, pdf) {
		t.Errorf("the download: %d %q, %d bytes %q", resp.StatusCode, resp.Header.Get("Content-Type"), len(got), got)
	}
	if code, e := call(t, "GET", s.GatewayURL+"/v1/letters/"+number+"/attachments/1", nil, police); code != http.StatusNotFound {
		t.Errorf("an attachment the letter does not have: %d %v, want 404", code, e)
	}
}
