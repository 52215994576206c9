package piicrypto

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"
)

// IndexVersion prefixes every blind index ("v1:…"). Indexes of another version (another
// normalisation, encoding or key) never equal these, so a re-indexing job can store new ones
// beside the old and lookups can query both while it runs.
const IndexVersion = "v1"

const (
	nameDOBTagV1  = "nrm.piicrypto.index.name-dob.v1"
	documentTagV1 = "nrm.piicrypto.index.document.v1"
)

// IndexKey is the HMAC key of the blind indexes. It must differ from every master key
// (CheckSeparate): an index is computed and compared in the clear by the store, whereas a
// master key must never leave the encryption code. It is immutable and safe for concurrent use;
// formatting it with fmt or slog prints no key material.
type IndexKey struct {
	// raw is behind a pointer because fmt bypasses Format for a bad verb (%p on a value) and
	// dumps the fields, methods off, of any struct the key is part of; a pointer below the top
	// level prints as an address.
	raw *[KeySize]byte
}

// ParseIndexKey reads the index key from a setting: a base64-encoded 32-byte key, as for the
// master keys but without an id. Changing the key changes every index, so it is not rotated in
// place: a new key means a new IndexVersion and a re-indexing job. Errors never contain key
// material.
func ParseIndexKey(spec string) (*IndexKey, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return nil, errors.New("piicrypto: no index key configured; want a base64 32-byte key")
	}
	if strings.Contains(spec, ":") || strings.Contains(spec, ",") {
		// Probably a master key list pasted here; do not guess which part is the key.
		return nil, errors.New("piicrypto: the index key is one base64 key, without an id")
	}
	raw, err := decodeKey(spec)
	if err != nil {
		return nil, fmt.Errorf("piicrypto: index key: %w", err)
	}
	return &IndexKey{raw: &raw}, nil
}

// CheckSeparate reports an error when the index key is also one of the master keys.
func CheckSeparate(mk *MasterKeys, ik *IndexKey) error {
	if id := mk.idOf(*ik.raw); id != "" {
		return fmt.Errorf("piicrypto: the index key is the master key %q; the index key must be a key of its own", id)
	}
	return nil
}

// String is what every fmt verb prints for an IndexKey: no key material.
func (k IndexKey) String() string { return "piicrypto.IndexKey(REDACTED)" }

// GoString is String, for %#v.
func (k IndexKey) GoString() string { return k.String() }

// Format prints String for every verb. Value receivers make the redaction hold for both
// IndexKey and *IndexKey.
func (k IndexKey) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, k.String()) }

// LogValue logs no key material.
func (k IndexKey) LogValue() slog.Value { return slog.StringValue(k.String()) }

// NameDOBIndex is the blind index of a person by name and date of birth: equal for two
// records whose given names, family names (each compared as NormaliseName, and ignoring the
// spaces left in it, so "Anna Maria", "Anna-Maria" and "AnnaMaria" match) and dates of birth are
// equal. Given and family name are not interchangeable; NameDOBIndexes covers swapped names.
//
// dob is a date in the form YYYY-MM-DD. The index is "" (no index: store none and look nothing
// up) when a name is empty after normalisation or the date is missing or invalid, since an index
// of an empty name would match every other record missing it.
//
// The index is "v1:" followed by the unpadded base64url HMAC-SHA256, under k, of
//
//	str("nrm.piicrypto.index.name-dob.v1") || str(given) || str(family) || str(dob)
//
// with str(s) = 4-byte big-endian length of s || s, and the names normalised.
func NameDOBIndex(k *IndexKey, given, family, dob string) string {
	g, f, d, ok := nameDOBParts(given, family, dob)
	if !ok {
		return ""
	}
	return k.index(nameDOBTagV1, g, f, d)
}

// NameDOBIndexes returns the indexes to look a person up by: NameDOBIndex of the names as given
// and, when they differ, of the names swapped, since given and family names are often recorded
// the other way round (an identity document read in the other order, a form filled in
// differently). Store NameDOBIndex with each record and query for any of these. It returns nil
// when NameDOBIndex would be "".
func NameDOBIndexes(k *IndexKey, given, family, dob string) []string {
	g, f, d, ok := nameDOBParts(given, family, dob)
	if !ok {
		return nil
	}
	out := []string{k.index(nameDOBTagV1, g, f, d)}
	if g != f {
		out = append(out, k.index(nameDOBTagV1, f, g, d))
	}
	return out
}

func nameDOBParts(given, family, dob string) (g, f, d string, ok bool) {
	// Spaces are dropped as hyphens are: whether a double name is written with a space, a
	// hyphen or neither is a matter of spelling, not of identity.
	g = strings.ReplaceAll(NormaliseName(given), " ", "")
	f = strings.ReplaceAll(NormaliseName(family), " ", "")
	d = strings.TrimSpace(dob)
	if _, err := time.Parse(time.DateOnly, d); err != nil || len(d) != len(time.DateOnly) {
		return "", "", "", false
	}
	return g, f, d, g != "" && f != ""
}

// DocumentIndex is the blind index of an identity document: equal for two records whose
// document types and numbers are equal as NormaliseDocument compares them. Qualify the type by
// the issuing country ("AL-PASSPORT") where numbers are unique only per country. It is "" when
// either is empty after normalisation.
//
// The index is "v1:" followed by the unpadded base64url HMAC-SHA256, under k, of
//
//	str("nrm.piicrypto.index.document.v1") || str(type) || str(number)
//
// with both normalised.
func DocumentIndex(k *IndexKey, docType, number string) string {
	t, n := NormaliseDocument(docType), NormaliseDocument(number)
	if t == "" || n == "" {
		return ""
	}
	return k.index(documentTagV1, t, n)
}

// index is the HMAC of the length-prefixed parts; the tag separates the kinds of index, so a
// document can never collide with a name.
func (k *IndexKey) index(tag string, parts ...string) string {
	if k == nil || k.raw == nil {
		// A wiring mistake, not bad input: returning "" would silently disable duplicate
		// detection.
		panic("piicrypto: IndexKey not configured (use ParseIndexKey)")
	}
	n := 4 + len(tag)
	for _, p := range parts {
		n += 4 + len(p)
	}
	msg := appendString(make([]byte, 0, n), tag)
	for _, p := range parts {
		msg = appendString(msg, p)
	}
	mac := hmac.New(sha256.New, k.raw[:])
	mac.Write(msg)
	var sum [sha256.Size]byte
	return IndexVersion + ":" + base64.RawURLEncoding.EncodeToString(mac.Sum(sum[:0]))
}
