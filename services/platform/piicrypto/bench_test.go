package piicrypto_test

import (
	"bytes"
	"testing"

	"github.com/nrm-albania/nrm/services/platform/piicrypto"
)

// BenchmarkSealOpen seals and opens one field: a name, and a page of free-text notes.
func BenchmarkSealOpen(b *testing.B) {
	dk, _ := mustDataKey(b, mustMasterKeys(b, "k1"), "case-1")
	for _, bc := range []struct {
		name  string
		value []byte
	}{
		{"name", []byte("Ëndrit Çela")},
		{"notes-4KiB", bytes.Repeat([]byte("Shënim. "), 512)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(bc.value)))
			b.ReportAllocs()
			for b.Loop() {
				s, err := dk.Seal("identity.given_name", bc.value)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := dk.Open("identity.given_name", s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkUnwrap is the cost of reading a case's identity beyond its fields: unwrapping its key.
func BenchmarkUnwrap(b *testing.B) {
	mk := mustMasterKeys(b, "k1")
	_, w := mustDataKey(b, mk, "case-1")
	b.ReportAllocs()
	for b.Loop() {
		dk, err := piicrypto.Unwrap(mk, w, "case-1")
		if err != nil {
			b.Fatal(err)
		}
		dk.Destroy()
	}
}

// BenchmarkNameDOBIndex computes the index of a name and date of birth, normalisation included.
func BenchmarkNameDOBIndex(b *testing.B) {
	k := mustIndexKey(b, "index")
	for _, bc := range []struct{ name, given, family string }{
		{"ascii", "Endrit", "Cela"},
		{"albanian", "Ëndrit", "Çela"},
		{"messy", "  ＡＮＮＡ-Maria ", "O’Brien\u00a0Hoxha"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if piicrypto.NameDOBIndex(k, bc.given, bc.family, "2004-02-29") == "" {
					b.Fatal("no index")
				}
			}
		})
	}
}

// BenchmarkDocumentIndex computes the index of a document.
func BenchmarkDocumentIndex(b *testing.B) {
	k := mustIndexKey(b, "index")
	b.ReportAllocs()
	for b.Loop() {
		if piicrypto.DocumentIndex(k, "AL-PASSPORT", "BA 123 4567") == "" {
			b.Fatal("no index")
		}
	}
}
