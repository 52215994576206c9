// Package piicrypto keeps the identity of a victim of trafficking unreadable outside the service
// that holds it: in the database files, backups, logs and the event stream. It provides
// envelope encryption of identity fields, and blind indexes that find the same person twice
// without decrypting anything. It depends on the standard library's crypto only (and on
// golang.org/x/text for Unicode normalisation of names).
//
// # Envelope encryption
//
// Every case has its own random 256-bit data key (NewDataKey). Identity fields are sealed with it
// one by one (DataKey.Seal), AES-256-GCM, the field's name as associated data. The data key is
// stored beside the case only wrapped (WrappedKey): sealed with a master key from configuration
// (MasterKeys), the case's record id as associated data. Consequences:
//
//   - Erasure is crypto-shredding: deleting a case's WrappedKey makes its sealed fields, in the
//     database and in every backup, undecryptable for good, while the pseudonymous fields stay.
//   - A sealed field cannot be moved to another field of the same case (the field name is
//     authenticated) nor to another case (another data key), and a wrapped key cannot be moved
//     to another case (the record id is authenticated). Each attempt fails with ErrDecrypt.
//   - Master keys rotate without downtime and without touching the sealed fields, since only
//     the small wrapped keys depend on them. See "Rotating a master key" below.
//
// Nonces are random 96-bit values from crypto/rand (cipher.NewGCMWithRandomNonce). GCM with
// random nonces is safe for up to 2^32 messages per key; a data key seals a few dozen fields
// over a case's life, and a master key wraps one data key per case (plus rewraps), so both stay
// many orders of magnitude below that bound.
//
// # Formats
//
// These formats are persisted, so they are part of the API: change them only under a new
// version.
//
// A Sealed field, version 1, is one byte string:
//
//	0x01 || nonce (12 bytes) || AES-256-GCM(data key, nonce, pad(plaintext), ad) (ciphertext || 16-byte tag)
//	ad     = str("nrm.piicrypto.field.v1") || str(field)
//	pad(p) = p || 0x80 || 0x00…  up to the next multiple of 32 bytes
//	str(s) = 4-byte big-endian length of s || s
//
// The padding hides the exact length of short values: every name up to 31 bytes seals to the
// same size, so the length of a ciphertext in the database does not narrow down whose name it is.
//
// A WrappedKey, version 1, is a document {kid, nonce, ct}:
//
//	kid   = the id of the master key that wrapped it
//	nonce = 12 random bytes
//	ct    = AES-256-GCM(master key kid, nonce, data key, ad) (48 bytes: 32 + 16-byte tag)
//	ad    = str("nrm.piicrypto.datakey.v1") || str(kid) || str(record id)
//
// The version of the wrapped format is carried by the associated data's tag. A future version
// would add a field (absent meaning 1), so version 1 documents need no migration.
//
// # Rotating a master key
//
// The setting lists every master key the service may need to unwrap, the primary first
// ("k2:…,k1:…"). Readers accept any listed key; new data keys are wrapped under the primary;
// Rewrap moves one wrapped key to the primary. With several replicas:
//
//  1. Add the new key after the current primary ("k1:…,k2:…") and roll it out, so that every
//     replica can unwrap what any other will wrap next.
//  2. Make it primary ("k2:…,k1:…") and roll it out: new cases are wrapped under k2.
//  3. Run a background job calling Rewrap on each case whose wrapped key's kid exists and is
//     not k2 (erased cases have none), storing the result with the case's optimistic
//     concurrency, until none is left.
//  4. Remove k1 from the setting, and destroy it.
//
// # Blind indexes
//
// NameDOBIndex and DocumentIndex are HMAC-SHA256, under an IndexKey separate from the master
// keys, of a normalised encoding of a name and date of birth, or of a document type and number.
// Equal inputs, up to case, accents, punctuation and spacing, give equal indexes, so the registry
// finds possible duplicates with an equality lookup on a stored index (time independent of the
// number of cases), without decrypting anything. Without the index key an index reveals nothing
// but equality with other indexes. NameDOBIndexes also yields the index of the swapped names.
//
// # Secrets
//
// Key material never appears in errors, in fmt output of any verb (%v, %+v, %#v, %s, %q, %x)
// nor in slog records: MasterKeys, DataKey, IndexKey and Config format as redacted
// descriptions. Config binds the key settings so that a usage message (-h) does not print their
// values either. DataKey.Destroy zeroes a data key in memory once it is no longer needed; this is
// hygiene, not the erasure guarantee (Go may have copied the key, for instance into an AES key
// schedule), which is the deletion of the WrappedKey.
package piicrypto
