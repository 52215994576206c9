package audit

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"strings"
)

// HashVersion is the version of the canonical encoding that Hash computes. Stored records carry
// it (document field "v", proto field hash_version) so that a future encoding can coexist with
// the records hashed under this one.
const HashVersion = 1

// hashTagV1 opens the encoding of version 1; it separates these hashes from any other SHA-256
// use and fixes the version.
const hashTagV1 = "nrm.audit.record.v1"

// GenesisHash is the prev_hash of the first record of every chain: 64 zeros.
var GenesisHash = strings.Repeat("0", 64)

// Hash returns the hash of r: the lowercase hexadecimal SHA-256 of r's canonical encoding,
// version 1. It covers every field of the record except Hash itself, prev_hash and seq
// included. r.HashVersion is not read: the version is fixed by the tag at the start.
//
// The canonical encoding, for an auditor who re-implements it (from a stored record or from the
// AuditRecord published on the stream), is the concatenation of:
//
//	str("nrm.audit.record.v1")
//	u64(seq)
//	str(id)
//	str(service)
//	i64(time)                  milliseconds since 1970-01-01T00:00:00Z
//	str(institution)
//	str(subject)
//	list(roles)
//	str(on_behalf_of.institution)   "" when there is no on-behalf-of principal
//	str(on_behalf_of.subject)       ""
//	list(on_behalf_of.roles)        empty list
//	str(method)
//	list(object_ids)
//	str(purpose)
//	str(outcome)
//	str(request_id)
//	str(trace_id)
//	str(prev_hash)             64 lowercase hex digits, as stored
//
// where
//
//	u64(n)   = n as 8 bytes, big-endian
//	i64(n)   = n as 8 bytes, big-endian two's complement
//	u32(n)   = n as 4 bytes, big-endian
//	str(s)   = u32(number of bytes of s in UTF-8) followed by those bytes
//	list(xs) = u32(number of elements) followed by str(x) for each element, in stored order
//
// Every string is length-prefixed and every list counted, so no two different records share an
// encoding (["ab"] and ["a","b"] differ, as do institution "a" + subject "bc" and "ab" + "c").
// Lists are hashed in the order stored; the library stores roles sorted and object ids in the
// order first given, without duplicates.
func Hash(r Record) string {
	var b []byte
	b = appendString(b, hashTagV1)
	b = binary.BigEndian.AppendUint64(b, uint64(r.Seq))
	b = appendString(b, r.ID)
	b = appendString(b, r.Service)
	b = binary.BigEndian.AppendUint64(b, uint64(r.Time.UnixMilli()))
	b = appendString(b, r.Institution)
	b = appendString(b, r.Subject)
	b = appendList(b, r.Roles)
	b = appendString(b, r.OnBehalfOf.Institution)
	b = appendString(b, r.OnBehalfOf.Subject)
	b = appendList(b, r.OnBehalfOf.Roles)
	b = appendString(b, r.Method)
	b = appendList(b, r.ObjectIDs)
	b = appendString(b, r.Purpose)
	b = appendString(b, r.Outcome)
	b = appendString(b, r.RequestID)
	b = appendString(b, r.TraceID)
	b = appendString(b, r.PrevHash)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func appendString(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

func appendList(b []byte, xs []string) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(xs)))
	for _, x := range xs {
		b = appendString(b, x)
	}
	return b
}

// validHash reports whether h looks like a hash: 64 lowercase hexadecimal digits.
func validHash(h string) bool {
	if len(h) != 64 {
		return false
	}
	for _, c := range []byte(h) {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
