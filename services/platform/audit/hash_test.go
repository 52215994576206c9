package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

func sampleRecord() Record {
	return Record{
		Seq:         42,
		ID:          "0190f3a2-7b1c-7d4e-8f00-123456789abc",
		Service:     "caseregistry",
		Time:        time.Date(2025, 3, 14, 9, 26, 53, 589_000_000, time.UTC),
		Institution: "ASP-ANTITRAF",
		Subject:     "officer-7",
		Roles:       []string{"caseworker", "member"},
		OnBehalfOf:  Principal{Institution: "KKSAT", Subject: "portal-user-3", Roles: []string{"secretariat"}},
		Method:      "/nrm.caseregistry.v1.CaseRegistryService/GetCase",
		ObjectIDs:   []string{"case-1", "case-2"},
		Purpose:     "case review",
		Outcome:     "OK",
		RequestID:   "req-1",
		TraceID:     "4bf92f3577b34da6a3ce929d0e0e4736",
		PrevHash:    strings.Repeat("ab", 32),
		HashVersion: HashVersion,
	}
}

// referenceHash follows the documentation of Hash literally, written apart from it, as an
// auditor re-implementing it would.
func referenceHash(r Record) string {
	var out []byte
	u32 := func(n int) { out = append(out, byte(n>>24), byte(n>>16), byte(n>>8), byte(n)) }
	u64 := func(n uint64) {
		for i := 7; i >= 0; i-- {
			out = append(out, byte(n>>(8*i)))
		}
	}
	str := func(s string) { u32(len(s)); out = append(out, s...) }
	list := func(xs []string) {
		u32(len(xs))
		for _, x := range xs {
			str(x)
		}
	}
	str("nrm.audit.record.v1")
	u64(uint64(r.Seq))
	str(r.ID)
	str(r.Service)
	u64(uint64(r.Time.UnixMilli()))
	str(r.Institution)
	str(r.Subject)
	list(r.Roles)
	str(r.OnBehalfOf.Institution)
	str(r.OnBehalfOf.Subject)
	list(r.OnBehalfOf.Roles)
	str(r.Method)
	list(r.ObjectIDs)
	str(r.Purpose)
	str(r.Outcome)
	str(r.RequestID)
	str(r.TraceID)
	str(r.PrevHash)
	sum := sha256.Sum256(out)
	return hex.EncodeToString(sum[:])
}

func TestHashIsDeterministicAndMatchesTheDocumentedEncoding(t *testing.T) {
	r := sampleRecord()
	h := Hash(r)
	if h != Hash(sampleRecord()) {
		t.Fatal("same record, different hashes")
	}
	if !validHash(h) {
		t.Fatalf("hash %q is not 64 lowercase hex digits", h)
	}
	if ref := referenceHash(r); h != ref {
		t.Fatalf("Hash %s differs from the documented encoding %s", h, ref)
	}
	// Pinned (also computed by an independent Python implementation of the documented encoding):
	// a change of the encoding must come with a new HashVersion, never silently.
	const golden = "d150e86fddccdb0bed1a90908af8182813b4522616af378afd3c3c0688398155"
	if h != golden {
		t.Errorf("hash of the sample record is %s, pinned %s: the encoding changed", h, golden)
	}
	// The stored hash is not covered; neither is the version number (the tag fixes it and
	// Verify rejects any other).
	r.Hash, r.HashVersion = "anything", 7
	if Hash(r) != h {
		t.Error("the hash covers its own Hash field or HashVersion")
	}
	// Nor is the time zone or anything below the millisecond, which MongoDB does not store.
	r.Time = r.Time.In(time.FixedZone("CET", 3600)).Add(999 * time.Microsecond)
	if Hash(r) != h {
		t.Error("the hash depends on the time zone or on sub-millisecond time")
	}
}

// Every field but Hash (and HashVersion, see above) changes the hash, found by reflection so
// that a field added to Record without being hashed fails here.
func TestHashCoversEveryField(t *testing.T) {
	base := Hash(sampleRecord())
	var check func(path string, v reflect.Value, root *Record)
	check = func(path string, v reflect.Value, root *Record) {
		switch v.Kind() {
		case reflect.Struct:
			if v.Type() == reflect.TypeFor[time.Time]() {
				v.Set(reflect.ValueOf(v.Interface().(time.Time).Add(time.Millisecond)))
				break
			}
			for i := range v.NumField() {
				name := v.Type().Field(i).Name
				if path == "" && (name == "Hash" || name == "HashVersion") {
					continue
				}
				r := sampleRecord()
				check(path+"."+name, reflect.ValueOf(&r).Elem().FieldByIndex(append(fieldIndex(path), i)), &r)
			}
			return
		case reflect.String:
			v.SetString(v.String() + "x")
		case reflect.Int64:
			v.SetInt(v.Int() + 1)
		case reflect.Slice:
			v.Set(reflect.Append(v, reflect.ValueOf("extra")))
		default:
			t.Fatalf("%s: field kind %s not handled by this test", path, v.Kind())
		}
		if Hash(*root) == base {
			t.Errorf("changing %s does not change the hash", path)
		}
	}
	r := sampleRecord()
	check("", reflect.ValueOf(&r).Elem(), &r)
}

// fieldIndex maps ".OnBehalfOf" to its index path in Record ("" is the record itself).
func fieldIndex(path string) []int {
	if path == "" {
		return nil
	}
	f, ok := reflect.TypeFor[Record]().FieldByName(strings.TrimPrefix(path, "."))
	if !ok {
		panic(fmt.Sprintf("no field %s", path))
	}
	return f.Index
}

func TestHashSeparatesFieldBoundaries(t *testing.T) {
	a, b := sampleRecord(), sampleRecord()
	a.Roles, b.Roles = []string{"ab"}, []string{"a", "b"}
	if Hash(a) == Hash(b) {
		t.Error(`roles ["ab"] and ["a","b"] hash alike`)
	}
	a, b = sampleRecord(), sampleRecord()
	a.Institution, a.Subject = "a", "bc"
	b.Institution, b.Subject = "ab", "c"
	if Hash(a) == Hash(b) {
		t.Error("moving a byte from one field to the next keeps the hash")
	}
	a, b = sampleRecord(), sampleRecord()
	a.Roles, a.OnBehalfOf.Roles = []string{"x"}, nil
	b.Roles, b.OnBehalfOf.Roles = nil, []string{"x"}
	if Hash(a) == Hash(b) {
		t.Error("a role moved from the caller to the on-behalf-of principal keeps the hash")
	}
}

func TestDocumentIDs(t *testing.T) {
	if got := DocumentID(42); got != "000000000042" {
		t.Errorf("DocumentID(42) = %q", got)
	}
	for _, bad := range []string{"", "42", "00000000004x", "000000000000", "-00000000042", "0000000000042", "head"} {
		if _, ok := parseDocumentID(bad); ok {
			t.Errorf("%q parsed as a record _id", bad)
		}
	}
	if seq, ok := parseDocumentID(DocumentID(maxSeq)); !ok || seq != maxSeq {
		t.Errorf("max seq does not round-trip: %d %v", seq, ok)
	}
}
