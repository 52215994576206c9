package piicrypto_test

import (
	"bytes"
	"crypto/rand"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/nrm-albania/nrm/services/platform/piicrypto"
)

// FuzzOpen: whatever bytes the database returns as a sealed field, Open neither panics nor
// accepts them, short of the values this process really sealed.
func FuzzOpen(f *testing.F) {
	mk := mustMasterKeys(f, "k1")
	dk, _ := mustDataKey(f, mk, "case-1")
	type genuine struct {
		field string
		s     []byte
	}
	var sealed []genuine
	for _, v := range []struct{ field, value string }{
		{"identity.given_name", "Ëndrit"},
		{"identity.family_name", ""},
		{"identity.notes", strings.Repeat("shënim ", 20)},
	} {
		s, err := dk.Seal(v.field, []byte(v.value))
		if err != nil {
			f.Fatal(err)
		}
		sealed = append(sealed, genuine{v.field, s})
		f.Add([]byte(s), v.field)
		f.Add([]byte(s[:len(s)-1]), v.field)
		f.Add(append([]byte{0x02}, s[1:]...), v.field)
	}
	f.Add([]byte{}, "f")
	f.Add([]byte{0x01}, "f")
	f.Add(bytes.Repeat([]byte{0x01}, 61), "f")
	f.Fuzz(func(t *testing.T, data []byte, field string) {
		got, err := dk.Open(field, data)
		for _, g := range sealed {
			if field == g.field && bytes.Equal(data, g.s) {
				if err != nil {
					t.Fatalf("a genuine value did not open: %v", err)
				}
				return
			}
		}
		if err == nil {
			t.Fatalf("forged value opened as %q", got)
		}
		if got != nil {
			t.Fatalf("Open returned %q with error %v", got, err)
		}
	})
}

// FuzzUnwrap: whatever the database returns as a wrapped key, Unwrap neither panics nor
// accepts it, short of the key this process really wrapped.
func FuzzUnwrap(f *testing.F) {
	// Random master keys: the fuzzing engine runs this function in several processes and
	// passes inputs between them, so a key wrapped in one must not count as forged in another.
	k1, k2 := make([]byte, 32), make([]byte, 32)
	_, _ = rand.Read(k1)
	_, _ = rand.Read(k2)
	mk, err := piicrypto.ParseMasterKeys("k2:" + b64(k2) + ",k1:" + b64(k1))
	if err != nil {
		f.Fatal(err)
	}
	_, w := mustDataKey(f, mk, "case-1")
	f.Add(w.KeyID, w.Nonce, w.Ciphertext, "case-1")
	f.Add("k1", w.Nonce, w.Ciphertext, "case-1")
	f.Add(w.KeyID, w.Nonce, w.Ciphertext[:47], "case-1")
	f.Add("", []byte{}, []byte{}, "")
	f.Fuzz(func(t *testing.T, kid string, nonce, ct []byte, record string) {
		genuine := kid == w.KeyID && bytes.Equal(nonce, w.Nonce) && bytes.Equal(ct, w.Ciphertext) && record == "case-1"
		_, err := piicrypto.Unwrap(mk, piicrypto.WrappedKey{KeyID: kid, Nonce: nonce, Ciphertext: ct}, record)
		if genuine != (err == nil) {
			t.Fatalf("genuine %v, Unwrap error %v", genuine, err)
		}
	})
}

// FuzzNormalise: normalisation is idempotent (a normalised name stored and normalised again,
// as a re-indexing job would, gives the same index), its output is valid UTF-8 with single
// inner spaces, and the indexes never panic.
func FuzzNormalise(f *testing.F) {
	for _, s := range []string{
		"Ëndrit  Çela", "O'Brien", "Anna-Maria", "Ｅｎｄｒｉｔ", "Straße", "İsmail", "Đorđe",
		"A\u0301\u0302", "\u00a0x\u3000y ", "ǅ", "ᾈ", "ΐ", "\xff\xfe", "ﬃ", "㍱", "ꭰ", "ſ", "ẞ",
		"\u0345", "Ⅻ", "ǰ", "ŉ", "゛か", "O´Brien",
	} {
		f.Add(s)
	}
	k := mustIndexKey(f, "index")
	f.Fuzz(func(t *testing.T, s string) {
		n := piicrypto.NormaliseName(s)
		if again := piicrypto.NormaliseName(n); again != n {
			t.Fatalf("NormaliseName not idempotent: %q → %q → %q", s, n, again)
		}
		if !utf8.ValidString(n) || strings.HasPrefix(n, " ") || strings.HasSuffix(n, " ") || strings.Contains(n, "  ") {
			t.Fatalf("NormaliseName(%q) = %q: invalid UTF-8 or stray spaces", s, n)
		}
		d := piicrypto.NormaliseDocument(s)
		if again := piicrypto.NormaliseDocument(d); again != d {
			t.Fatalf("NormaliseDocument not idempotent: %q → %q → %q", s, d, again)
		}
		if !utf8.ValidString(d) || strings.ContainsAny(d, " -") {
			t.Fatalf("NormaliseDocument(%q) = %q", s, d)
		}
		if a, b := piicrypto.NameDOBIndex(k, s, s, "2000-01-01"), piicrypto.NameDOBIndex(k, n, n, "2000-01-01"); a != b {
			t.Fatalf("the index of %q differs from that of its normal form %q", s, n)
		}
		piicrypto.NameDOBIndexes(k, s, "x", s)
		piicrypto.DocumentIndex(k, s, s)
	})
}

// FuzzParseMasterKeys: any setting parses or fails without a panic, and a parsed setting has
// its first key as primary.
func FuzzParseMasterKeys(f *testing.F) {
	f.Add(keySpec("k2", "k1"))
	f.Add(keySpec("k1") + ",")
	f.Add("k1:" + b64(testKey("k1"))[:20])
	f.Add(b64(testKey("k1")))
	f.Fuzz(func(t *testing.T, spec string) {
		mk, err := piicrypto.ParseMasterKeys(spec)
		if err != nil {
			return
		}
		if ids := mk.IDs(); len(ids) == 0 || ids[0] != mk.Primary() {
			t.Fatalf("ids %q, primary %q", ids, mk.Primary())
		}
	})
}
