package piicrypto_test

import (
	"bytes"
	"errors"
	"strings"
	"sync"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/nrm-albania/nrm/services/platform/piicrypto"
)

func TestSealOpenRoundTrip(t *testing.T) {
	mk := mustMasterKeys(t, "k1")
	dk, _ := mustDataKey(t, mk, "case-1")
	tests := []struct {
		name  string
		field string
		value []byte
	}{
		{"empty", "identity.notes", []byte{}},
		{"nil", "identity.notes", nil},
		{"Albanian name", "identity.given_name", []byte("Ëndrit")},
		{"family name", "identity.family_name", []byte("Çela")},
		{"date", "identity.date_of_birth", []byte("2004-02-29")},
		{"31 bytes, padded to 32", "f", bytes.Repeat([]byte("a"), 31)},
		{"32 bytes, padded to 64", "f", bytes.Repeat([]byte("a"), 32)},
		{"ends with 0x80 and zeros", "f", []byte{'x', 0x80, 0, 0}},
		{"all zero bytes", "f", make([]byte, 40)},
		{"binary", "f", []byte{0xff, 0xfe, 0x00, 0x80, 0x01}},
		{"long notes", "identity.notes", bytes.Repeat([]byte("Shënim i gjatë. "), 1000)},
		{"non-ASCII field name", "identity.emër", []byte("x")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := dk.Seal(tt.field, tt.value)
			if err != nil {
				t.Fatal(err)
			}
			if s[0] != 1 {
				t.Errorf("version byte %d, want 1", s[0])
			}
			if len(tt.value) >= 4 && bytes.Contains(s, tt.value) {
				t.Error("the sealed value contains the plaintext")
			}
			got, err := dk.Open(tt.field, s)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tt.value) {
				t.Errorf("opened %q, want %q", got, tt.value)
			}
			// The same value sealed twice differs (random nonce): equal names are not visible
			// as equal ciphertexts.
			s2, _ := dk.Seal(tt.field, tt.value)
			if bytes.Equal(s, s2) {
				t.Error("two seals of the same value are equal")
			}
		})
	}
}

// Short values seal to the same size, so ciphertext lengths do not tell names apart.
func TestSealHidesShortLengths(t *testing.T) {
	dk, _ := mustDataKey(t, mustMasterKeys(t, "k1"), "case-1")
	sizes := map[int]bool{}
	for _, name := range []string{"", "Ana", "Ëndrit", "Aleksandër", "Maria-Magdalena Kristina"} {
		s, err := dk.Seal("identity.given_name", []byte(name))
		if err != nil {
			t.Fatal(err)
		}
		sizes[len(s)] = true
	}
	if len(sizes) != 1 {
		t.Errorf("sealed sizes %v, want one size for every name up to 31 bytes", sizes)
	}
	s, _ := dk.Seal("f", nil)
	if want := 1 + 12 + 32 + 16; len(s) != want {
		t.Errorf("sealed empty value is %d bytes, want %d", len(s), want)
	}
}

func TestOpenFailures(t *testing.T) {
	mk := mustMasterKeys(t, "k1")
	dk, _ := mustDataKey(t, mk, "case-1")
	other, _ := mustDataKey(t, mk, "case-2")
	good, err := dk.Seal("identity.given_name", []byte("Ëndrit"))
	if err != nil {
		t.Fatal(err)
	}
	with := func(f func(s []byte)) piicrypto.Sealed {
		c := bytes.Clone(good)
		f(c)
		return c
	}
	tests := []struct {
		name  string
		key   piicrypto.DataKey
		field string
		s     piicrypto.Sealed
		want  error
	}{
		{"wrong field", dk, "identity.family_name", good, piicrypto.ErrDecrypt},
		{"field differing in case", dk, "identity.Given_name", good, piicrypto.ErrDecrypt},
		{"another case's key", other, "identity.given_name", good, piicrypto.ErrDecrypt},
		{"tampered version", dk, "identity.given_name", with(func(s []byte) { s[0] = 2 }), piicrypto.ErrMalformed},
		{"version 0", dk, "identity.given_name", with(func(s []byte) { s[0] = 0 }), piicrypto.ErrMalformed},
		{"version 255", dk, "identity.given_name", with(func(s []byte) { s[0] = 255 }), piicrypto.ErrMalformed},
		{"tampered nonce", dk, "identity.given_name", with(func(s []byte) { s[1] ^= 1 }), piicrypto.ErrDecrypt},
		{"tampered ciphertext", dk, "identity.given_name", with(func(s []byte) { s[20] ^= 0x80 }), piicrypto.ErrDecrypt},
		{"tampered tag", dk, "identity.given_name", with(func(s []byte) { s[len(s)-1] ^= 1 }), piicrypto.ErrDecrypt},
		{"truncated by one", dk, "identity.given_name", good[:len(good)-1], piicrypto.ErrMalformed},
		{"truncated by a block", dk, "identity.given_name", good[:len(good)-32], piicrypto.ErrMalformed},
		{"tag removed", dk, "identity.given_name", good[:len(good)-16], piicrypto.ErrMalformed},
		{"version byte only", dk, "identity.given_name", good[:1], piicrypto.ErrMalformed},
		{"empty", dk, "identity.given_name", piicrypto.Sealed{}, piicrypto.ErrMalformed},
		{"nil", dk, "identity.given_name", nil, piicrypto.ErrMalformed},
		{"extended", dk, "identity.given_name", append(bytes.Clone(good), make([]byte, 32)...), piicrypto.ErrDecrypt},
		{"no field", dk, "", good, piicrypto.ErrNoField},
		{"zero key", piicrypto.DataKey{}, "identity.given_name", good, piicrypto.ErrDestroyed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.key.Open(tt.field, tt.s)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Open: %v, want %v", err, tt.want)
			}
			if got != nil {
				t.Errorf("Open returned %q with an error", got)
			}
			if strings.Contains(err.Error(), "Ëndrit") {
				t.Errorf("error %q contains the plaintext", err)
			}
		})
	}
	// Every single-bit flip anywhere is detected.
	for i := range good {
		for bit := range 8 {
			s := with(func(s []byte) { s[i] ^= 1 << bit })
			if _, err := dk.Open("identity.given_name", s); err == nil {
				t.Fatalf("flipping bit %d of byte %d went unnoticed", bit, i)
			}
		}
	}
	// Every truncation is rejected.
	for n := range len(good) {
		if _, err := dk.Open("identity.given_name", good[:n]); err == nil {
			t.Fatalf("truncation to %d bytes opened", n)
		}
	}
}

func TestSealWithoutField(t *testing.T) {
	dk, _ := mustDataKey(t, mustMasterKeys(t, "k1"), "case-1")
	if _, err := dk.Seal("", []byte("x")); !errors.Is(err, piicrypto.ErrNoField) {
		t.Errorf("Seal without a field: %v, want ErrNoField", err)
	}
	if _, err := (piicrypto.DataKey{}).Seal("f", []byte("x")); !errors.Is(err, piicrypto.ErrDestroyed) {
		t.Errorf("Seal with the zero DataKey: %v, want ErrDestroyed", err)
	}
}

func TestDestroy(t *testing.T) {
	mk := mustMasterKeys(t, "k1")
	dk, w := mustDataKey(t, mk, "case-1")
	s, err := dk.Seal("f", []byte("Ëndrit"))
	if err != nil {
		t.Fatal(err)
	}
	copyOfKey := dk
	dk.Destroy()
	dk.Destroy() // idempotent
	if _, err := copyOfKey.Open("f", s); !errors.Is(err, piicrypto.ErrDestroyed) {
		t.Errorf("Open after Destroy through a copy: %v, want ErrDestroyed", err)
	}
	if _, err := dk.Seal("f", []byte("x")); !errors.Is(err, piicrypto.ErrDestroyed) {
		t.Errorf("Seal after Destroy: %v, want ErrDestroyed", err)
	}
	// The stored wrapped key still yields the key: Destroy is hygiene, not erasure.
	again, err := piicrypto.Unwrap(mk, w, "case-1")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := again.Open("f", s); err != nil || string(got) != "Ëndrit" {
		t.Errorf("Open with the unwrapped key: %q, %v", got, err)
	}
	(piicrypto.DataKey{}).Destroy() // no panic
}

func TestWrapUnwrap(t *testing.T) {
	mk := mustMasterKeys(t, "k2", "k1")
	dk, w := mustDataKey(t, mk, "case-1")
	if w.KeyID != "k2" || len(w.Nonce) != 12 || len(w.Ciphertext) != 48 {
		t.Fatalf("wrapped key %s/%d/%d, want k2/12/48", w.KeyID, len(w.Nonce), len(w.Ciphertext))
	}
	s, _ := dk.Seal("identity.given_name", []byte("Ëndrit"))
	got, err := piicrypto.Unwrap(mk, w, "case-1")
	if err != nil {
		t.Fatal(err)
	}
	if p, err := got.Open("identity.given_name", s); err != nil || string(p) != "Ëndrit" {
		t.Fatalf("unwrapped key opens %q, %v", p, err)
	}
	_, w2 := mustDataKey(t, mk, "case-1")
	if bytes.Equal(w.Ciphertext, w2.Ciphertext) || bytes.Equal(w.Nonce, w2.Nonce) {
		t.Error("two data keys wrapped alike")
	}
}

func TestUnwrapFailures(t *testing.T) {
	mk := mustMasterKeys(t, "k2", "k1")
	_, w := mustDataKey(t, mk, "case-1")
	with := func(f func(w *piicrypto.WrappedKey)) piicrypto.WrappedKey {
		c := piicrypto.WrappedKey{KeyID: w.KeyID, Nonce: bytes.Clone(w.Nonce), Ciphertext: bytes.Clone(w.Ciphertext)}
		f(&c)
		return c
	}
	tests := []struct {
		name     string
		mk       *piicrypto.MasterKeys
		w        piicrypto.WrappedKey
		recordID string
		want     error
	}{
		{"another record", mk, w, "case-2", piicrypto.ErrDecrypt},
		{"record id prefix", mk, w, "case-", piicrypto.ErrDecrypt},
		{"no record id", mk, w, "", piicrypto.ErrNoRecordID},
		{"relabelled to another known key", mk, with(func(w *piicrypto.WrappedKey) { w.KeyID = "k1" }), "case-1", piicrypto.ErrDecrypt},
		{"unknown key id", mk, with(func(w *piicrypto.WrappedKey) { w.KeyID = "k9" }), "case-1", piicrypto.ErrUnknownKeyID},
		{"empty key id", mk, with(func(w *piicrypto.WrappedKey) { w.KeyID = "" }), "case-1", piicrypto.ErrUnknownKeyID},
		{"master key removed", mustMasterKeys(t, "k1"), w, "case-1", piicrypto.ErrUnknownKeyID},
		{"same id, other key", mustMasterKeys(t, "k1", "k3"), with(func(w *piicrypto.WrappedKey) { w.KeyID = "k3" }), "case-1", piicrypto.ErrDecrypt},
		{"tampered nonce", mk, with(func(w *piicrypto.WrappedKey) { w.Nonce[0] ^= 1 }), "case-1", piicrypto.ErrDecrypt},
		{"tampered ciphertext", mk, with(func(w *piicrypto.WrappedKey) { w.Ciphertext[0] ^= 1 }), "case-1", piicrypto.ErrDecrypt},
		{"tampered tag", mk, with(func(w *piicrypto.WrappedKey) { w.Ciphertext[47] ^= 1 }), "case-1", piicrypto.ErrDecrypt},
		{"short nonce", mk, with(func(w *piicrypto.WrappedKey) { w.Nonce = w.Nonce[:11] }), "case-1", piicrypto.ErrMalformed},
		{"no nonce", mk, with(func(w *piicrypto.WrappedKey) { w.Nonce = nil }), "case-1", piicrypto.ErrMalformed},
		{"truncated", mk, with(func(w *piicrypto.WrappedKey) { w.Ciphertext = w.Ciphertext[:47] }), "case-1", piicrypto.ErrMalformed},
		{"no tag", mk, with(func(w *piicrypto.WrappedKey) { w.Ciphertext = w.Ciphertext[:32] }), "case-1", piicrypto.ErrMalformed},
		{"erased", mk, piicrypto.WrappedKey{}, "case-1", piicrypto.ErrErased},
		{"erased, empty slices", mk, piicrypto.WrappedKey{Nonce: []byte{}, Ciphertext: []byte{}}, "case-1", piicrypto.ErrErased},
		{"nonce and ciphertext swapped lengths", mk, with(func(w *piicrypto.WrappedKey) {
			all := append(w.Nonce, w.Ciphertext...)
			w.Nonce, w.Ciphertext = all[:16], all[16:]
		}), "case-1", piicrypto.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dk, err := piicrypto.Unwrap(tt.mk, tt.w, tt.recordID)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Unwrap: %v, want %v", err, tt.want)
			}
			if _, err := dk.Seal("f", nil); !errors.Is(err, piicrypto.ErrDestroyed) {
				t.Errorf("a failed Unwrap returned a usable key")
			}
			if _, _, err := piicrypto.Rewrap(tt.mk, tt.w, tt.recordID); !errors.Is(err, tt.want) {
				t.Errorf("Rewrap: %v, want %v", err, tt.want)
			}
		})
	}
	if _, _, err := piicrypto.NewDataKey(mk, ""); !errors.Is(err, piicrypto.ErrNoRecordID) {
		t.Errorf("NewDataKey without a record id: %v, want ErrNoRecordID", err)
	}
}

// Rotation as the package doc describes it: data wrapped under k1; k2 added and made primary;
// readers still open k1's keys; Rewrap moves them to k2; k1 removed, they still open.
func TestMasterKeyRotation(t *testing.T) {
	const record = "0190f3a2-7b1c-7d4e-8f00-123456789abc"
	before := mustMasterKeys(t, "k1")
	dk, w1 := mustDataKey(t, before, record)
	sealed, err := dk.Seal("identity.family_name", []byte("Çela"))
	if err != nil {
		t.Fatal(err)
	}
	dk.Destroy()
	if w1.KeyID != "k1" {
		t.Fatalf("wrapped under %q, want k1", w1.KeyID)
	}

	// Step 1: k2 known everywhere, k1 still primary: nothing to rewrap yet.
	step1 := mustMasterKeys(t, "k1", "k2")
	if w, moved, err := piicrypto.Rewrap(step1, w1, record); err != nil || moved || w.KeyID != "k1" {
		t.Fatalf("Rewrap with k1 primary: %s, %v, %v; want k1, false, nil", w.KeyID, moved, err)
	}

	// Step 2: k2 primary. Old keys still open; new ones are wrapped under k2.
	during := mustMasterKeys(t, "k2", "k1")
	opens(t, during, w1, record, sealed, "Çela")
	if _, w, _ := piicrypto.NewDataKey(during, "case-new"); w.KeyID != "k2" {
		t.Errorf("new data key wrapped under %q, want k2", w.KeyID)
	}

	// Step 3: the rewrap job.
	w2, moved, err := piicrypto.Rewrap(during, w1, record)
	if err != nil || !moved || w2.KeyID != "k2" {
		t.Fatalf("Rewrap: %s, %v, %v; want k2, true, nil", w2.KeyID, moved, err)
	}
	if bytes.Equal(w2.Nonce, w1.Nonce) {
		t.Error("Rewrap reused the nonce")
	}
	again, moved, err := piicrypto.Rewrap(during, w2, record)
	if err != nil || moved || !equalWrapped(again, w2) {
		t.Errorf("second Rewrap: moved %v, err %v; want the same key, false", moved, err)
	}
	if _, _, err := piicrypto.Rewrap(during, w1, "another-record"); !errors.Is(err, piicrypto.ErrDecrypt) {
		t.Errorf("Rewrap for another record: %v, want ErrDecrypt", err)
	}

	// Step 4: k1 gone. The rewrapped key opens the untouched sealed field; the old one cannot.
	after := mustMasterKeys(t, "k2")
	opens(t, after, w2, record, sealed, "Çela")
	if _, err := piicrypto.Unwrap(after, w1, record); !errors.Is(err, piicrypto.ErrUnknownKeyID) {
		t.Errorf("Unwrap under a removed key: %v, want ErrUnknownKeyID", err)
	}
}

func opens(t *testing.T, mk *piicrypto.MasterKeys, w piicrypto.WrappedKey, record string, s piicrypto.Sealed, want string) {
	t.Helper()
	dk, err := piicrypto.Unwrap(mk, w, record)
	if err != nil {
		t.Fatalf("Unwrap under %q: %v", w.KeyID, err)
	}
	defer dk.Destroy()
	got, err := dk.Open("identity.family_name", s)
	if err != nil || string(got) != want {
		t.Fatalf("Open: %q, %v; want %q", got, err, want)
	}
}

func equalWrapped(a, b piicrypto.WrappedKey) bool {
	return a.KeyID == b.KeyID && bytes.Equal(a.Nonce, b.Nonce) && bytes.Equal(a.Ciphertext, b.Ciphertext)
}

// The store persists WrappedKey and Sealed as they are; both survive a BSON round trip and
// store binary values, not arrays of numbers.
func TestBSON(t *testing.T) {
	mk := mustMasterKeys(t, "k1")
	dk, w := mustDataKey(t, mk, "case-1")
	s, _ := dk.Seal("identity.given_name", []byte("Ëndrit"))
	type identity struct {
		Key       piicrypto.WrappedKey `bson:"key"`
		GivenName piicrypto.Sealed     `bson:"given_name"`
		Notes     piicrypto.Sealed     `bson:"notes,omitempty"`
	}
	doc, err := bson.Marshal(identity{Key: w, GivenName: s})
	if err != nil {
		t.Fatal(err)
	}
	raw := bson.Raw(doc)
	for path, want := range map[string]bson.Type{"key.kid": bson.TypeString, "key.nonce": bson.TypeBinary, "key.ct": bson.TypeBinary, "given_name": bson.TypeBinary} {
		v, err := raw.LookupErr(strings.Split(path, ".")...)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if v.Type != want {
			t.Errorf("%s stored as %v, want %v", path, v.Type, want)
		}
	}
	if _, err := raw.LookupErr("notes"); err == nil {
		t.Error("an absent sealed field was stored")
	}
	// After erasure the store drops the key; omitempty leaves no trace of it.
	type erased struct {
		Key piicrypto.WrappedKey `bson:"key,omitempty"`
	}
	if doc, err := bson.Marshal(erased{}); err != nil || len(bson.Raw(doc)) != 5 {
		t.Errorf("an erased key marshals to %v (%v), want an empty document", bson.Raw(doc), err)
	}
	if !(piicrypto.WrappedKey{}).IsZero() || w.IsZero() {
		t.Error("IsZero is wrong")
	}
	var back identity
	if err := bson.Unmarshal(doc, &back); err != nil {
		t.Fatal(err)
	}
	if !equalWrapped(back.Key, w) || !bytes.Equal(back.GivenName, s) {
		t.Fatalf("round trip changed the values: %+v", back)
	}
	back2, err := piicrypto.Unwrap(mk, back.Key, "case-1")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := back2.Open("identity.given_name", back.GivenName); err != nil || string(got) != "Ëndrit" {
		t.Errorf("Open after the round trip: %q, %v", got, err)
	}
}

// A data key serves concurrent requests; Destroy may race with them and wins cleanly.
func TestDataKeyConcurrentUse(t *testing.T) {
	mk := mustMasterKeys(t, "k1")
	dk, _ := mustDataKey(t, mk, "case-1")
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 200 {
				value := []byte(strings.Repeat("x", i+j%40))
				s, err := dk.Seal("f", value)
				if errors.Is(err, piicrypto.ErrDestroyed) {
					return
				}
				if err != nil {
					t.Error(err)
					return
				}
				got, err := dk.Open("f", s)
				if errors.Is(err, piicrypto.ErrDestroyed) {
					return
				}
				if err != nil || !bytes.Equal(got, value) {
					t.Errorf("Open: %q, %v", got, err)
					return
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		dk.Destroy()
	}()
	wg.Wait()
}
