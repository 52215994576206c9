package piicrypto

import (
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
)

// Errors a caller can test for with errors.Is. None of them carries key material or plaintext.
var (
	// ErrDecrypt is a ciphertext or wrapped key that does not authenticate: wrong key, record id
	// or field name, or altered data. GCM does not tell these apart, and neither does this
	// package.
	ErrDecrypt = errors.New("piicrypto: decryption failed: wrong key, record or field, or altered data")
	// ErrMalformed is a ciphertext or wrapped key of the wrong shape: truncated, or of an unknown
	// version.
	ErrMalformed = errors.New("piicrypto: malformed ciphertext")
	// ErrUnknownKeyID is a wrapped key whose master key is not configured (any more).
	ErrUnknownKeyID = errors.New("piicrypto: unknown master key id")
	// ErrDestroyed is the use of a data key after Destroy, or of the zero DataKey.
	ErrDestroyed = errors.New("piicrypto: data key destroyed")
	// ErrErased is the unwrapping of an empty WrappedKey: the record has no data key, normally
	// because its identity was erased.
	ErrErased = errors.New("piicrypto: no data key: the identity was erased")
	// ErrNoRecordID is a wrap or unwrap without the record id that binds the key to its case.
	ErrNoRecordID = errors.New("piicrypto: a record id is required")
	// ErrNoField is a seal or open without a field name.
	ErrNoField = errors.New("piicrypto: a field name is required")
)

const (
	// gcmNonceSize and gcmTagSize are AES-GCM's standard sizes: 96-bit nonces, 128-bit tags.
	gcmNonceSize = 12
	gcmTagSize   = 16

	wrapTagV1  = "nrm.piicrypto.datakey.v1"
	fieldTagV1 = "nrm.piicrypto.field.v1"

	// sealedV1 is the first byte of a version 1 Sealed.
	sealedV1 = 0x01
	// padBlock is the granularity to which sealed plaintexts are padded (see the package doc).
	padBlock = 32
)

// WrappedKey is a data key sealed under a master key, for storage beside the case it belongs to.
// It is not secret without the master key; deleting it erases the case's identity for good.
// Index kid to find the wrapped keys a rotation still has to move.
type WrappedKey struct {
	// KeyID is the id of the master key that sealed the data key.
	KeyID string `bson:"kid"`
	// Nonce is the GCM nonce (12 bytes).
	Nonce []byte `bson:"nonce"`
	// Ciphertext is the sealed data key followed by the GCM tag (48 bytes).
	Ciphertext []byte `bson:"ct"`
}

// IsZero reports whether w holds no key: never set, or erased. It also lets the BSON encoder's
// omitempty leave an erased key out of the document.
func (w WrappedKey) IsZero() bool {
	return w.KeyID == "" && len(w.Nonce) == 0 && len(w.Ciphertext) == 0
}

// Sealed is one encrypted field as stored: a version byte, the nonce and the GCM ciphertext and
// tag (see the package doc). It is a byte slice, so it is stored as one BSON binary value.
type Sealed []byte

// DataKey is the key of one case's identity fields. Copies share the key: Destroy on one
// destroys them all. It is safe for concurrent use, Destroy included. Formatting it with fmt or
// slog prints no key material.
type DataKey struct {
	s *dataKeyState
}

type dataKeyState struct {
	mu        sync.RWMutex
	key       [KeySize]byte
	destroyed bool
}

// NewDataKey makes a random data key for the record (a case) with id recordID, and wraps it under
// the primary master key, binding it to recordID. Store the WrappedKey with the record; use the
// DataKey to seal its fields, then Destroy it.
func NewDataKey(mk *MasterKeys, recordID string) (DataKey, WrappedKey, error) {
	if recordID == "" {
		return DataKey{}, WrappedKey{}, ErrNoRecordID
	}
	st := &dataKeyState{}
	// crypto/rand.Read never fails (it crashes the program rather than return weak bytes).
	_, _ = rand.Read(st.key[:])
	w := wrap(mk, mk.primary, &st.key, recordID)
	return DataKey{s: st}, w, nil
}

// Unwrap recovers the data key of the record recordID from its WrappedKey, under whichever
// configured master key wrapped it. It fails with ErrUnknownKeyID when that key is not
// configured, and with ErrDecrypt when the wrapped key belongs to another record or was altered.
func Unwrap(mk *MasterKeys, w WrappedKey, recordID string) (DataKey, error) {
	st := &dataKeyState{}
	if err := unwrap(mk, w, recordID, &st.key); err != nil {
		return DataKey{}, err
	}
	return DataKey{s: st}, nil
}

// Rewrap re-wraps the record's data key under the primary master key, for rotation: it returns
// the new WrappedKey and true when w was wrapped under another key, and w and false when it
// already is under the primary. Either way the wrapped key is unwrapped first, so a rotation job
// also finds wrapped keys that no longer open. The data key itself, and therefore every sealed
// field of the record, is unchanged.
func Rewrap(mk *MasterKeys, w WrappedKey, recordID string) (WrappedKey, bool, error) {
	var key [KeySize]byte
	defer clear(key[:])
	if err := unwrap(mk, w, recordID, &key); err != nil {
		return WrappedKey{}, false, err
	}
	if w.KeyID == mk.primary {
		return w, false, nil
	}
	return wrap(mk, mk.primary, &key, recordID), true, nil
}

func wrap(mk *MasterKeys, kid string, key *[KeySize]byte, recordID string) WrappedKey {
	// NewGCMWithRandomNonce puts the nonce first; the stored document keeps it apart.
	out := mk.keys[kid].aead.Seal(nil, nil, key[:], wrapAD(kid, recordID))
	return WrappedKey{KeyID: kid, Nonce: out[:gcmNonceSize:gcmNonceSize], Ciphertext: out[gcmNonceSize:]}
}

func unwrap(mk *MasterKeys, w WrappedKey, recordID string, into *[KeySize]byte) error {
	if recordID == "" {
		return ErrNoRecordID
	}
	if w.IsZero() {
		return ErrErased
	}
	key, ok := mk.keys[w.KeyID]
	if !ok {
		return fmt.Errorf("%w %q: the wrapped key needs it; is it missing from the master keys?", ErrUnknownKeyID, w.KeyID)
	}
	if len(w.Nonce) != gcmNonceSize || len(w.Ciphertext) != KeySize+gcmTagSize {
		return fmt.Errorf("%w: wrapped key of %d+%d bytes, want %d+%d", ErrMalformed,
			len(w.Nonce), len(w.Ciphertext), gcmNonceSize, KeySize+gcmTagSize)
	}
	in := make([]byte, 0, gcmNonceSize+len(w.Ciphertext))
	in = append(append(in, w.Nonce...), w.Ciphertext...)
	plain, err := key.aead.Open(in[:0], nil, in, wrapAD(w.KeyID, recordID))
	if err != nil {
		return ErrDecrypt
	}
	copy(into[:], plain)
	clear(in)
	return nil
}

func wrapAD(kid, recordID string) []byte {
	b := make([]byte, 0, 3*4+len(wrapTagV1)+len(kid)+len(recordID))
	b = appendString(b, wrapTagV1)
	b = appendString(b, kid)
	return appendString(b, recordID)
}

func fieldAD(field string) []byte {
	b := make([]byte, 0, 2*4+len(fieldTagV1)+len(field))
	b = appendString(b, fieldTagV1)
	return appendString(b, field)
}

// appendString appends s length-prefixed, so that no two different lists of strings share an
// encoding.
func appendString(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

// Seal encrypts the value of field (e.g. "identity.given_name") for storage. The field name is
// authenticated: the result opens only as that field, and only with this key.
func (k DataKey) Seal(field string, plaintext []byte) (Sealed, error) {
	if field == "" {
		return nil, ErrNoField
	}
	aead, err := k.aead()
	if err != nil {
		return nil, err
	}
	padded := len(plaintext) + 1
	padded += (padBlock - padded%padBlock) % padBlock
	// One allocation: the version byte, then the padded plaintext, which Seal encrypts in place
	// (moving it behind the nonce it prepends).
	buf := make([]byte, 1+padded, 1+gcmNonceSize+padded+gcmTagSize)
	buf[0] = sealedV1
	p := buf[1:]
	copy(p, plaintext)
	p[len(plaintext)] = 0x80 // the rest is already zero
	out := aead.Seal(p[:0], nil, p, fieldAD(field))
	return Sealed(buf[:1+len(out)]), nil
}

// Open decrypts a value sealed for field. It fails with ErrMalformed for a value that is not a
// version 1 Sealed, and with ErrDecrypt for one sealed under another key or field, or altered.
func (k DataKey) Open(field string, s Sealed) ([]byte, error) {
	if field == "" {
		return nil, ErrNoField
	}
	if len(s) == 0 {
		return nil, fmt.Errorf("%w: empty", ErrMalformed)
	}
	if s[0] != sealedV1 {
		return nil, fmt.Errorf("%w: unknown version %d", ErrMalformed, s[0])
	}
	if len(s) < 1+gcmNonceSize+padBlock+gcmTagSize || (len(s)-1-gcmNonceSize-gcmTagSize)%padBlock != 0 {
		return nil, fmt.Errorf("%w: %d bytes", ErrMalformed, len(s))
	}
	aead, err := k.aead()
	if err != nil {
		return nil, err
	}
	p, err := aead.Open(nil, nil, s[1:], fieldAD(field))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", field, ErrDecrypt)
	}
	// The padding is authenticated, so a bad one means a sealer other than Seal holding the key.
	end := len(p) - 1
	for end >= 0 && p[end] == 0 {
		end--
	}
	if end < 0 || p[end] != 0x80 {
		return nil, fmt.Errorf("%w: bad padding", ErrMalformed)
	}
	return p[:end:end], nil
}

// aead builds the cipher for one operation rather than keep one: the key schedule would be a
// long-lived copy of the key that Destroy could not zero. Building it costs about 0.7 µs (of
// about 2 µs for sealing and opening a name), nothing beside a database round trip.
func (k DataKey) aead() (cipher.AEAD, error) {
	if k.s == nil {
		return nil, ErrDestroyed
	}
	k.s.mu.RLock()
	defer k.s.mu.RUnlock()
	if k.s.destroyed {
		return nil, ErrDestroyed
	}
	return newAEAD(&k.s.key), nil
}

// Destroy zeroes the key; every later Seal or Open fails with ErrDestroyed. Call it when the
// key is no longer needed. It is hygiene: erasure is the deletion of the WrappedKey.
func (k DataKey) Destroy() {
	if k.s == nil {
		return
	}
	k.s.mu.Lock()
	defer k.s.mu.Unlock()
	clear(k.s.key[:])
	k.s.destroyed = true
}

// String is what every fmt verb prints for a DataKey: no key material.
func (k DataKey) String() string {
	if k.s == nil {
		return "piicrypto.DataKey(none)"
	}
	return "piicrypto.DataKey(REDACTED)"
}

// GoString is String, for %#v.
func (k DataKey) GoString() string { return k.String() }

// Format prints String for every verb.
func (k DataKey) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, k.String()) }

// LogValue logs no key material.
func (k DataKey) LogValue() slog.Value { return slog.StringValue(k.String()) }
