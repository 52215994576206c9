package piicrypto_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"slices"
	"strings"
	"testing"

	"github.com/nrm-albania/nrm/services/platform/piicrypto"
)

func TestNormaliseName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Ëndrit  Çela", "endrit cela"},
		{"endrit cela", "endrit cela"},
		{"ËNDRIT ÇELA", "endrit cela"},
		{"  Ëndrit\tÇela\n", "endrit cela"},
		{"Ëndrit\u00a0Çela", "endrit cela"},        // no-break space
		{"Ëndrit\u202fÇela", "endrit cela"},        // narrow no-break space
		{"Ëndrit\u3000Çela", "endrit cela"},        // ideographic space
		{"Ｅｎｄｒｉｔ　Ｃｅｌａ", "endrit cela"},             // full-width letters and space
		{"E\u0308ndrit C\u0327ela", "endrit cela"}, // decomposed input
		{"O'Brien", "obrien"},
		{"O’Brien", "obrien"},       // right single quotation mark
		{"Oʼbrien", "obrien"},       // modifier letter apostrophe
		{"O´Brien", "obrien"},       // acute accent: must not become a space
		{"O`Brien", "obrien"},       // grave accent
		{"Ｏ＇Ｂｒｉｅｎ", "obrien"},       // full-width apostrophe
		{"Anna-Maria", "annamaria"}, // hyphen-minus
		{"Anna‐Maria", "annamaria"}, // U+2010 hyphen
		{"Anna–Maria", "annamaria"}, // en dash
		{"Anna\u00adMaria", "annamaria"},
		{"Anna\u200bMaria", "annamaria"}, // zero-width space is invisible, not a space
		{"Anna Maria", "anna maria"},
		{"Anna - Maria", "anna maria"},
		{"Gjergj Kastrioti (Skënderbeu)", "gjergj kastrioti skenderbeu"},
		{"Straße", "strasse"},
		{"STRASSE", "strasse"},
		{"Đorđević", "dordevic"},
		{"Łukasz Wałęsa", "lukasz walesa"},
		{"Işık", "isik"},
		{"İsmail", "ismail"},
		{"Søren Ærø", "soren aero"},
		{"ﬁlip", "filip"}, // ligature
		{"Nguyễn Thị Minh", "nguyen thi minh"},
		{"Мария", "мария"}, // Cyrillic kept (not transliterated), folded
		{"МАРИЯ", "мария"},
		{"Ἀλέξανδρος", "αλεξανδροσ"}, // Greek: accents gone, final sigma folded to σ
		{"محمّد", "محمد"},            // Arabic: shadda (a mark) dropped
		{"王 小明", "王 小明"},
		{"Anna2", "anna2"},
		{"ᏣᎳᎩ", "ᏣᎳᎩ"}, // Cherokee folds to upper case
		{"ꮳꮃꭹ", "ᏣᎳᎩ"},
		{"", ""},
		{"   ", ""},
		{"-'´.", ""},
		{"\xff\xfeAna", "ana"}, // invalid UTF-8 dropped
		{"A\u0301\u0301\u0301", "a"},
	}
	for _, tt := range tests {
		if got := piicrypto.NormaliseName(tt.in); got != tt.want {
			t.Errorf("NormaliseName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestNormaliseDocument(t *testing.T) {
	tests := []struct{ in, want string }{
		{"ab 123-456", "AB123456"},
		{"AB123456", "AB123456"},
		{" ab-123 456 ", "AB123456"},
		{"Ｊ１２３４５６７８Ａ", "J12345678A"}, // full-width
		{"J 1234 5678 A", "J12345678A"},
		{"12/345.67", "1234567"},
		{"passport", "PASSPORT"},
		{"AL-Passport", "ALPASSPORT"},
		{"", ""},
		{" - ", ""},
	}
	for _, tt := range tests {
		if got := piicrypto.NormaliseDocument(tt.in); got != tt.want {
			t.Errorf("NormaliseDocument(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestNameDOBIndex(t *testing.T) {
	k := mustIndexKey(t, "index")
	base := piicrypto.NameDOBIndex(k, "Ëndrit", "Çela", "2004-02-29")
	if !strings.HasPrefix(base, "v1:") || len(base) != len("v1:")+43 {
		t.Fatalf("index %q: want v1: and 43 base64url characters", base)
	}
	same := []struct{ given, family, dob string }{
		{"endrit", "cela", "2004-02-29"},
		{"ENDRIT", "ÇELA", "2004-02-29"},
		{" Ëndrit ", "Çela\u00a0", " 2004-02-29 "},
		{"Ｅｎｄｒｉｔ", "Ｃｅｌａ", "2004-02-29"},
		{"End-rit", "Çe'la", "2004-02-29"},
		{"End rit", "Çela", "2004-02-29"}, // spaces inside a name are ignored, like hyphens
	}
	for _, s := range same {
		if got := piicrypto.NameDOBIndex(k, s.given, s.family, s.dob); got != base {
			t.Errorf("NameDOBIndex(%q, %q, %q) = %q, want %q", s.given, s.family, s.dob, got, base)
		}
	}
	differ := []struct{ given, family, dob string }{
		{"Çela", "Ëndrit", "2004-02-29"},  // swapped: see NameDOBIndexes
		{"Ëndrit", "Çela", "2004-03-01"},  // another date of birth
		{"Ëndrit", "Çela", "2005-02-28"},  // another year
		{"Ëndri", "tÇela", "2004-02-29"},  // the boundary between the names counts
		{"Ëndrit", "Cela2", "2004-02-29"}, // digits count
		{"Andrit", "Çela", "2004-02-29"},
	}
	for _, s := range differ {
		if got := piicrypto.NameDOBIndex(k, s.given, s.family, s.dob); got == base || got == "" {
			t.Errorf("NameDOBIndex(%q, %q, %q) = %q: want another index", s.given, s.family, s.dob, got)
		}
	}
	if other := piicrypto.NameDOBIndex(mustIndexKey(t, "other"), "Ëndrit", "Çela", "2004-02-29"); other == base {
		t.Error("two index keys give the same index")
	}
}

func TestNameDOBIndexNone(t *testing.T) {
	k := mustIndexKey(t, "index")
	tests := []struct{ name, given, family, dob string }{
		{"no given name", "", "Çela", "2004-02-29"},
		{"no family name", "Ëndrit", "", "2004-02-29"},
		{"punctuation only", "-", "Çela", "2004-02-29"},
		{"no names", "", "", "2004-02-29"},
		{"no date", "Ëndrit", "Çela", ""},
		{"not a date", "Ëndrit", "Çela", "29/02/2004"},
		{"no such day", "Ëndrit", "Çela", "2005-02-29"},
		{"month 13", "Ëndrit", "Çela", "2004-13-01"},
		{"year only", "Ëndrit", "Çela", "2004"},
		{"unpadded", "Ëndrit", "Çela", "2004-2-9"},
		{"date and time", "Ëndrit", "Çela", "2004-02-29T00:00:00Z"},
	}
	for _, tt := range tests {
		if got := piicrypto.NameDOBIndex(k, tt.given, tt.family, tt.dob); got != "" {
			t.Errorf("%s: NameDOBIndex = %q, want none", tt.name, got)
		}
		if got := piicrypto.NameDOBIndexes(k, tt.given, tt.family, tt.dob); got != nil {
			t.Errorf("%s: NameDOBIndexes = %q, want nil", tt.name, got)
		}
	}
}

func TestNameDOBIndexesMatchSwappedNames(t *testing.T) {
	k := mustIndexKey(t, "index")
	stored := piicrypto.NameDOBIndex(k, "Çela", "Ëndrit", "2004-02-29") // recorded the other way round
	query := piicrypto.NameDOBIndexes(k, "Ëndrit", "Çela", "2004-02-29")
	if len(query) != 2 {
		t.Fatalf("NameDOBIndexes = %q, want two", query)
	}
	if query[0] != piicrypto.NameDOBIndex(k, "Ëndrit", "Çela", "2004-02-29") {
		t.Error("the first index is not NameDOBIndex of the names as given")
	}
	if !slices.Contains(query, stored) {
		t.Error("swapped names do not match")
	}
	if slices.Contains(piicrypto.NameDOBIndexes(k, "Ëndrit", "Çela", "2004-03-01"), stored) {
		t.Error("swapped names with another date of birth match")
	}
	if got := piicrypto.NameDOBIndexes(k, "Ana", "ANA", "2001-01-01"); len(got) != 1 {
		t.Errorf("equal names give %d indexes, want 1", len(got))
	}
}

func TestDocumentIndex(t *testing.T) {
	k := mustIndexKey(t, "index")
	base := piicrypto.DocumentIndex(k, "AL-PASSPORT", "BA1234567")
	if !strings.HasPrefix(base, "v1:") || len(base) != len("v1:")+43 {
		t.Fatalf("index %q: want v1: and 43 base64url characters", base)
	}
	for _, n := range []string{"ba1234567", "BA 123 4567", "BA-1234567", "ＢＡ１２３４５６７"} {
		if got := piicrypto.DocumentIndex(k, "al-passport", n); got != base {
			t.Errorf("DocumentIndex(%q) = %q, want %q", n, got, base)
		}
	}
	if got := piicrypto.DocumentIndex(k, "AL-ID", "BA1234567"); got == base {
		t.Error("another document type gives the same index")
	}
	if got := piicrypto.DocumentIndex(k, "AL-PASSPORT", "BA1234568"); got == base {
		t.Error("another number gives the same index")
	}
	if got := piicrypto.DocumentIndex(mustIndexKey(t, "other"), "AL-PASSPORT", "BA1234567"); got == base {
		t.Error("two index keys give the same index")
	}
	for _, tt := range [][2]string{{"", "BA1234567"}, {"AL-PASSPORT", ""}, {"AL-PASSPORT", " - "}, {"", ""}} {
		if got := piicrypto.DocumentIndex(k, tt[0], tt[1]); got != "" {
			t.Errorf("DocumentIndex(%q, %q) = %q, want none", tt[0], tt[1], got)
		}
	}
	// The kinds of index are separated: a document never collides with a name.
	if piicrypto.DocumentIndex(k, "ANA", "CELA") == piicrypto.NameDOBIndex(k, "ana", "cela", "2000-01-01") {
		t.Error("document and name indexes collide")
	}
}

// referenceIndex follows the documentation of the indexes literally, written apart from them,
// as whoever re-implements or re-indexes would: a change to the encoding, which would orphan
// every stored index, fails here.
func referenceIndex(key []byte, parts ...string) string {
	var msg []byte
	for _, p := range parts {
		msg = binary.BigEndian.AppendUint32(msg, uint32(len(p)))
		msg = append(msg, p...)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write(msg)
	return "v1:" + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

func TestIndexEncoding(t *testing.T) {
	key := testKey("index")
	k := mustIndexKey(t, "index")
	if got, want := piicrypto.NameDOBIndex(k, "Anna-Maria", "O'Brien", "1999-12-31"),
		referenceIndex(key, "nrm.piicrypto.index.name-dob.v1", "annamaria", "obrien", "1999-12-31"); got != want {
		t.Errorf("NameDOBIndex = %q, reference %q", got, want)
	}
	if got, want := piicrypto.DocumentIndex(k, "al-passport", "ba 123 4567"),
		referenceIndex(key, "nrm.piicrypto.index.document.v1", "ALPASSPORT", "BA1234567"); got != want {
		t.Errorf("DocumentIndex = %q, reference %q", got, want)
	}
	// Pinned values: these are stored in databases; they must never change under v1.
	pinned := map[string]string{
		piicrypto.NameDOBIndex(k, "Ëndrit", "Çela", "2004-02-29"): "v1:chEeOQclKrGqNmReefehh9HqEV06M2G0fPXGIEaHeFQ",
		piicrypto.DocumentIndex(k, "AL-PASSPORT", "BA1234567"):    "v1:mJZIk3-J8Ju2eoQ4IO6bS3l_TnCnzwrup-fC8cic6iU",
	}
	for got, want := range pinned {
		if got != want {
			t.Errorf("index %q, pinned %q", got, want)
		}
	}
}

func TestParseIndexKey(t *testing.T) {
	key := testKey("index")
	for _, spec := range []string{b64(key), " " + b64(key) + "\n", base64.RawURLEncoding.EncodeToString(key)} {
		if _, err := piicrypto.ParseIndexKey(spec); err != nil {
			t.Errorf("ParseIndexKey: %v", err)
		}
	}
	tests := []struct{ name, spec, want string }{
		{"empty", "", "no index key configured"},
		{"with an id", "i1:" + b64(key), "without an id"},
		{"a master key list", keySpec("k1", "k2"), "without an id"},
		{"bad base64", "!" + b64(key)[1:], "not valid base64"},
		{"short", b64(key[:16]), "16 bytes, want 32"},
	}
	for _, tt := range tests {
		_, err := piicrypto.ParseIndexKey(tt.spec)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.want)
			continue
		}
		assertNoKey(t, tt.name, err.Error(), key, testKey("k1"), testKey("k2"))
	}
}

func TestCheckSeparate(t *testing.T) {
	mk := mustMasterKeys(t, "k2", "k1")
	if err := piicrypto.CheckSeparate(mk, mustIndexKey(t, "index")); err != nil {
		t.Errorf("separate keys: %v", err)
	}
	err := piicrypto.CheckSeparate(mk, mustIndexKey(t, "k1"))
	if err == nil || !strings.Contains(err.Error(), `master key "k1"`) {
		t.Errorf("index key = master key k1: %v", err)
	}
}

func TestIndexWithoutKeyPanics(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "IndexKey not configured") {
			t.Errorf("recovered %v", r)
		}
	}()
	piicrypto.DocumentIndex(nil, "AL-PASSPORT", "BA1234567")
}
