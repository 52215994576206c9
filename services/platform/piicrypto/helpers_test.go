package piicrypto_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"strings"
	"testing"

	"github.com/nrm-albania/nrm/services/platform/piicrypto"
)

// testKey is a fixed 32-byte key derived from a label, so that tests are reproducible.
func testKey(label string) []byte {
	sum := sha256.Sum256([]byte("piicrypto test key " + label))
	return sum[:]
}

func b64(key []byte) string { return base64.StdEncoding.EncodeToString(key) }

// keySpec is a master key setting for the labels, the first primary: "k2,k1" → "k2:…,k1:…".
func keySpec(labels ...string) string {
	var entries []string
	for _, l := range labels {
		entries = append(entries, l+":"+b64(testKey(l)))
	}
	return strings.Join(entries, ",")
}

func mustMasterKeys(t testing.TB, labels ...string) *piicrypto.MasterKeys {
	t.Helper()
	mk, err := piicrypto.ParseMasterKeys(keySpec(labels...))
	if err != nil {
		t.Fatal(err)
	}
	return mk
}

func mustIndexKey(t testing.TB, label string) *piicrypto.IndexKey {
	t.Helper()
	ik, err := piicrypto.ParseIndexKey(b64(testKey(label)))
	if err != nil {
		t.Fatal(err)
	}
	return ik
}

func mustDataKey(t testing.TB, mk *piicrypto.MasterKeys, recordID string) (piicrypto.DataKey, piicrypto.WrappedKey) {
	t.Helper()
	dk, w, err := piicrypto.NewDataKey(mk, recordID)
	if err != nil {
		t.Fatal(err)
	}
	return dk, w
}

// keyForms are the ways a key could leak into text: every base64 alphabet, with and without
// padding, hex in both cases, and the raw bytes.
func keyForms(key []byte) []string {
	return []string{
		base64.StdEncoding.EncodeToString(key),
		base64.RawStdEncoding.EncodeToString(key),
		base64.URLEncoding.EncodeToString(key),
		base64.RawURLEncoding.EncodeToString(key),
		hex.EncodeToString(key),
		strings.ToUpper(hex.EncodeToString(key)),
		string(key),
	}
}

// assertNoKey fails when text contains any form of any of the keys, or a long enough piece of
// one (8 characters of an encoding: a partial dump is a leak too).
func assertNoKey(t *testing.T, what, text string, keys ...[]byte) {
	t.Helper()
	for _, key := range keys {
		for _, form := range keyForms(key) {
			for i := 0; i+8 <= len(form); i += 4 {
				if strings.Contains(text, form[i:i+8]) {
					t.Fatalf("%s contains key material %q: %q", what, form[i:i+8], text)
				}
			}
		}
		// Decimal dumps of a byte array (%v of [32]byte) show as "[12 200 7 …".
		var dec []string
		for _, c := range key[:6] {
			dec = append(dec, strconv.Itoa(int(c)))
		}
		if strings.Contains(text, strings.Join(dec, " ")) {
			t.Fatalf("%s contains the key as decimal bytes: %q", what, text)
		}
	}
}
