package audit

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/nrm-albania/nrm/services/platform/mongodb"
	"github.com/nrm-albania/nrm/services/platform/outbox"
)

// Collections in the service's own database.
const (
	// Collection holds the records, one document each, _id = the zero-padded seq.
	Collection = "audit"
	// HeadCollection holds one hint document ("head"): the seq and hash of a recent head. It
	// saves a starting process a scan for the newest record and serves as an internal anchor;
	// it is never trusted blindly (see Trail).
	HeadCollection = "audit_head"
	// ObjectCollection is the object index: each object's records, by _id (objects.go).
	ObjectCollection = "audit_objects"
)

const (
	headHintID = "head"
	// idDigits is the width of the zero-padded _id: seqs up to 10^12-1 sort as strings.
	idDigits = 12
	maxSeq   = 999_999_999_999
)

// DocumentID returns the _id of the record with the given seq, e.g. "000000000042".
func DocumentID(seq int64) string {
	return fmt.Sprintf("%0*d", idDigits, seq)
}

// parseDocumentID returns the seq an _id stands for; ok is false for anything that is not
// exactly 12 decimal digits of a seq from 1 to maxSeq.
func parseDocumentID(id string) (seq int64, ok bool) {
	if len(id) != idDigits {
		return 0, false
	}
	for _, c := range []byte(id) {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n < 1 {
		return 0, false
	}
	return n, true
}

// document is a record as stored. Field names are short snake case; the principal acting on
// someone's behalf is flattened (obo_*) so that every filter is on a top-level field.
type document struct {
	ID             string    `bson:"_id"`
	V              int32     `bson:"v"`
	Seq            int64     `bson:"seq"`
	RecordID       string    `bson:"id"`
	Service        string    `bson:"service"`
	Time           time.Time `bson:"time"`
	Institution    string    `bson:"institution"`
	Subject        string    `bson:"subject"`
	Roles          []string  `bson:"roles"`
	OBOInstitution string    `bson:"obo_institution"`
	OBOSubject     string    `bson:"obo_subject"`
	OBORoles       []string  `bson:"obo_roles"`
	Method         string    `bson:"method"`
	ObjectIDs      []string  `bson:"object_ids"`
	Purpose        string    `bson:"purpose"`
	Outcome        string    `bson:"outcome"`
	RequestID      string    `bson:"request_id"`
	TraceID        string    `bson:"trace_id"`
	PrevHash       string    `bson:"prev_hash"`
	Hash           string    `bson:"hash"`
	// Outbox holds the record's event until the relay has published it (outbox.Field). The
	// hash does not cover it.
	Outbox map[string]outbox.Event `bson:"outbox,omitempty"`
	// ObjectsIndexed says that the record's object index entries were written with it; records
	// made before the index lack it, and IndexObjects adds their entries. Not covered by the hash.
	ObjectsIndexed bool `bson:"objects_indexed,omitempty"`
}

func toDocument(r Record, events map[string]outbox.Event) document {
	return document{
		ID: DocumentID(r.Seq), V: r.HashVersion, Seq: r.Seq, RecordID: r.ID, Service: r.Service,
		Time: r.Time, Institution: r.Institution, Subject: r.Subject, Roles: nonNil(r.Roles),
		OBOInstitution: r.OnBehalfOf.Institution, OBOSubject: r.OnBehalfOf.Subject,
		OBORoles: nonNil(r.OnBehalfOf.Roles), Method: r.Method, ObjectIDs: nonNil(r.ObjectIDs),
		Purpose: r.Purpose, Outcome: r.Outcome, RequestID: r.RequestID, TraceID: r.TraceID,
		PrevHash: r.PrevHash, Hash: r.Hash, Outbox: events,
	}
}

func (d document) record() Record {
	return Record{
		Seq: d.Seq, ID: d.RecordID, Service: d.Service, Time: d.Time.UTC(),
		Institution: d.Institution, Subject: d.Subject, Roles: nonNil(d.Roles),
		OnBehalfOf: Principal{Institution: d.OBOInstitution, Subject: d.OBOSubject, Roles: nonNil(d.OBORoles)},
		Method:     d.Method, ObjectIDs: nonNil(d.ObjectIDs), Purpose: d.Purpose, Outcome: d.Outcome,
		RequestID: d.RequestID, TraceID: d.TraceID, PrevHash: d.PrevHash, Hash: d.Hash, HashVersion: d.V,
	}
}

// nonNil stores lists as arrays, never null, so that documents read the same everywhere.
func nonNil(xs []string) []string {
	if xs == nil {
		return []string{}
	}
	return xs
}

// headHint is the document in HeadCollection.
type headHint struct {
	ID        string    `bson:"_id"`
	Seq       int64     `bson:"seq"`
	Hash      string    `bson:"hash"`
	UpdatedAt time.Time `bson:"updated_at"`
}

// EnsureIndexes creates the secondary indexes that let MongoDB serve List by principal or time
// without scanning, and indexes by object the records made before the object index existed
// (IndexObjects). Call it at start; what exists is left alone. FerretDB accepts the indexes (it
// serves only lookups by _id from an index, docs/decisions.md 17).
func EnsureIndexes(ctx context.Context, db *mongo.Database) error {
	// The names are the ones MongoDB gives these keys by default, which earlier releases used.
	byField := func(f string) mongodb.Index {
		return mongodb.Index{Name: f + "_1__id_-1", Keys: bson.D{{Key: f, Value: 1}, {Key: "_id", Value: -1}}}
	}
	err := mongodb.EnsureIndexes(ctx, db.Collection(Collection), []mongodb.Index{
		byField("institution"), byField("subject"),
		byField("obo_institution"), byField("obo_subject"), byField("time"),
	})
	if err != nil {
		return fmt.Errorf("create audit indexes: %w", classify(err))
	}
	return IndexObjects(ctx, db)
}

// ErrUnavailable wraps a failure of the database to answer at all (down, unreachable, too slow),
// as opposed to an error in what was asked; a caller may retry.
var ErrUnavailable = mongodb.ErrUnavailable

// classify marks the errors that mean the database did not answer.
func classify(err error) error { return mongodb.Classify(err) }
