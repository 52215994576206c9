package piicrypto

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
)

// KeySize is the size in bytes of every key of this package: AES-256 and HMAC-SHA256 keys.
const KeySize = 32

// keyIDPattern is what a master key id may look like. The id is stored in every WrappedKey and
// named in errors and logs, so it must be short and plain. The length limit has a second
// purpose: a 32-byte key in base64 is 43 or 44 characters, so a key pasted where the id belongs
// ("<key>:k1") can never pass for a valid id and be echoed in an error message.
var keyIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$`)

// MasterKeys are the keys that wrap data keys, each under an id, one of them primary. It is
// immutable and safe for concurrent use. Formatting it with fmt or slog shows the ids only.
type MasterKeys struct {
	primary string
	ids     []string // in configured order, primary first
	// keys holds pointers, never values: fmt bypasses Format for a bad verb (%p on a value) and
	// dumps the fields, but prints pointers below the top level as addresses.
	keys map[string]*masterKey
}

type masterKey struct {
	raw  [KeySize]byte // kept to detect a key configured twice or reused as the index key
	aead cipher.AEAD
}

// ParseMasterKeys reads master keys from a setting such as "k2:<base64>,k1:<base64>": entries
// separated by commas, each a key id and a base64-encoded 32-byte key (standard or URL alphabet,
// padded or not; `openssl rand -base64 32` makes one). The first entry is the primary. Spaces
// and newlines around entries are ignored.
//
// Errors name the entry by position and, when it is valid, by id; they never contain key
// material, even when the setting is garbled.
func ParseMasterKeys(spec string) (*MasterKeys, error) {
	mk := &MasterKeys{keys: make(map[string]*masterKey)}
	if strings.TrimSpace(spec) == "" {
		return nil, errors.New("piicrypto: no master key configured; want id:base64-key[,id:base64-key…], the primary first")
	}
	var errs []error
	for i, entry := range strings.Split(spec, ",") {
		n := i + 1
		entry = strings.TrimSpace(entry)
		id, encoded, ok := strings.Cut(entry, ":")
		id = strings.TrimSpace(id)
		switch {
		case entry == "":
			errs = append(errs, fmt.Errorf("piicrypto: master key %d: empty entry", n))
			continue
		case !ok:
			// Most likely a bare key without its id: say so without repeating it.
			errs = append(errs, fmt.Errorf("piicrypto: master key %d: want id:base64-key", n))
			continue
		case !keyIDPattern.MatchString(id):
			errs = append(errs, fmt.Errorf("piicrypto: master key %d: the id must be 1 to 32 letters, digits, '.', '_' or '-', starting with a letter or digit", n))
			continue
		}
		name := "master key " + strconv.Itoa(n) + " (id " + strconv.Quote(id) + ")"
		raw, err := decodeKey(strings.TrimSpace(encoded))
		if err != nil {
			errs = append(errs, fmt.Errorf("piicrypto: %s: %w", name, err))
			continue
		}
		if _, dup := mk.keys[id]; dup {
			errs = append(errs, fmt.Errorf("piicrypto: %s: duplicate id", name))
			continue
		}
		if other := mk.idOf(raw); other != "" {
			errs = append(errs, fmt.Errorf("piicrypto: %s: same key as id %q; every id needs its own key", name, other))
			continue
		}
		key := &masterKey{raw: raw}
		key.aead = newAEAD(&key.raw)
		mk.keys[id] = key
		mk.ids = append(mk.ids, id)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	mk.primary = mk.ids[0]
	return mk, nil
}

// idOf returns the id under which raw is configured, or "".
func (mk *MasterKeys) idOf(raw [KeySize]byte) string {
	for _, id := range mk.ids {
		if subtle.ConstantTimeCompare(mk.keys[id].raw[:], raw[:]) == 1 {
			return id
		}
	}
	return ""
}

// Primary is the id of the key that wraps new data keys.
func (mk *MasterKeys) Primary() string { return mk.primary }

// IDs are the ids of every configured key, the primary first.
func (mk *MasterKeys) IDs() []string { return append([]string(nil), mk.ids...) }

// Has reports whether a key with this id is configured.
func (mk *MasterKeys) Has(id string) bool {
	_, ok := mk.keys[id]
	return ok
}

// String describes the keys by id; it is what every fmt verb prints.
func (mk MasterKeys) String() string {
	return fmt.Sprintf("piicrypto.MasterKeys{primary: %q, ids: %q, keys: [REDACTED]}", mk.primary, mk.ids)
}

// GoString is String: %#v must not dump the keys either.
func (mk MasterKeys) GoString() string { return mk.String() }

// Format prints String for every verb and flag, so that no verb (%x, %+v, %#v…) reaches the
// fields. Value receivers make the redaction hold for both MasterKeys and *MasterKeys.
func (mk MasterKeys) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, mk.String()) }

// LogValue logs the ids only.
func (mk MasterKeys) LogValue() slog.Value {
	return slog.GroupValue(slog.String("primary", mk.primary), slog.Any("ids", mk.ids))
}

// decodeKey decodes a base64 key of KeySize bytes. Its errors never include the input, and the
// decoded bytes are zeroed when they are not the right size.
func decodeKey(encoded string) ([KeySize]byte, error) {
	var key [KeySize]byte
	if encoded == "" {
		return key, errors.New("the key is empty")
	}
	var buf []byte
	var err error
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if buf, err = enc.DecodeString(encoded); err == nil {
			break
		}
	}
	if err != nil {
		// The decoder's own error only gives an offset, but say less: nothing about the input.
		return key, errors.New("the key is not valid base64")
	}
	defer clear(buf)
	if len(buf) != KeySize {
		return key, fmt.Errorf("the key is %d bytes, want %d (an AES-256 key: openssl rand -base64 32)", len(buf), KeySize)
	}
	copy(key[:], buf)
	return key, nil
}

// newAEAD returns AES-256-GCM with random nonces under key. Both constructors fail only for a
// key of the wrong size, which the array type rules out.
func newAEAD(key *[KeySize]byte) cipher.AEAD {
	block, err := aes.NewCipher(key[:])
	if err != nil {
		panic("piicrypto: " + err.Error())
	}
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		panic("piicrypto: " + err.Error())
	}
	return aead
}
