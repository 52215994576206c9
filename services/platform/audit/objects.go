package audit

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/nrm-albania/nrm/services/platform/apierr"
	"github.com/nrm-albania/nrm/services/platform/mongodb"
	"github.com/nrm-albania/nrm/services/platform/pagination"
)

// The object index: per object (a case, a referral…), its records in the order they were
// appended, each an entry addressed by _id "<object>#<n>" (n = 1, 2, 3…) that names the
// record's seq and hash. Listing or verifying one object's records reads its entries and its
// records by exact _id, the one lookup FerretDB on SQLite serves from an index (decisions 14
// and 17), so it costs what that object's records cost, whatever the size of the trail.
//
// An entry is written before its record, so every record in the chain is in the indexes of its
// objects (an entry whose record never made it names a seq that holds another record, or none:
// readers skip it). n is taken like the chain's seq: the writer inserts n = last+1, and a
// duplicate key means another writer took it. Records made before the index existed are added
// by IndexObjects below n = 1 (0, -1, -2…, newest first), so the order "n descending" is
// newest first for old and new records alike.

// objectEntry is one record of an object, in ObjectCollection.
type objectEntry struct {
	ID     string `bson:"_id"`
	Object string `bson:"object"`
	N      int64  `bson:"n"`
	Seq    int64  `bson:"seq"`
	Hash   string `bson:"hash"`
}

// objectHint is the last n of an object, written now and then (hintEvery): a start for the
// lookups forward to the real last one.
type objectHint struct {
	ID string `bson:"_id"`
	N  int64  `bson:"n"`
}

// upgradeState records the progress of IndexObjects.
type upgradeState struct {
	ID   string `bson:"_id"`
	Done bool   `bson:"done"`
	// Below is the seq under which no record has been looked at yet.
	Below int64 `bson:"below"`
}

// upgradeID is the _id of the upgradeState; it cannot be an entry's or a hint's, which hold '#'.
const upgradeID = "upgrade"

func entryID(object string, n int64) string { return object + "#" + strconv.FormatInt(n, 10) }
func hintID(object string) string           { return object + "#head" }

// objects is the object index of a trail's database.
type objects struct{ coll *mongo.Collection }

func objectsOf(db *mongo.Database) objects { return objects{coll: db.Collection(ObjectCollection)} }

// entry reads entry n of object; ok is false when there is none.
func (o objects) entry(ctx context.Context, object string, n int64) (objectEntry, bool, error) {
	var e objectEntry
	ok, err := mongodb.FindByID(ctx, o.coll, entryID(object, n), &e)
	if err != nil {
		return objectEntry{}, false, fmt.Errorf("read the audit index of an object: %w", err)
	}
	return e, ok, nil
}

// last returns the highest n of object's entries, 0 when it has none above 0.
func (o objects) last(ctx context.Context, object string) (int64, error) {
	var h objectHint
	if _, err := mongodb.FindByID(ctx, o.coll, hintID(object), &h); err != nil {
		return 0, fmt.Errorf("read the audit index hint of an object: %w", err)
	}
	return o.forward(ctx, object, max(h.N, 0))
}

// forward returns the last n at or after from (taken as present) that has an entry.
func (o objects) forward(ctx context.Context, object string, from int64) (int64, error) {
	return mongodb.LastPresent(ctx, from, maxSeq, func(ctx context.Context, n int64) (bool, error) {
		_, ok, err := o.entry(ctx, object, n)
		return ok, err
	})
}

// place gives the record (seq, hash) the next place in object's index and returns its n.
func (o objects) place(ctx context.Context, object string, seq int64, hash string) (int64, error) {
	last, err := o.last(ctx, object)
	if err != nil {
		return 0, err
	}
	for range maxAttempts {
		n := last + 1
		err := mongodb.Claim(ctx, o.coll, objectEntry{ID: entryID(object, n), Object: object, N: n, Seq: seq, Hash: hash})
		switch {
		case err == nil:
			if n == 1 || n%hintEvery == 0 {
				saveHint(ctx, o.coll, hintID(object), bson.D{{Key: "n", Value: n}}, objectHint{ID: hintID(object), N: n})
			}
			return n, nil
		case !errors.Is(err, mongodb.ErrTaken):
			return 0, fmt.Errorf("index an audit record under its object: %w", classify(err))
		}
		if last, err = o.forward(ctx, object, n); err != nil {
			return 0, err
		}
	}
	return 0, ErrContention
}

// move points the entries an earlier attempt of the same append placed to the record's new seq.
func (o objects) move(ctx context.Context, object string, n, seq int64, hash string) error {
	_, err := o.coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: entryID(object, n)}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "seq", Value: seq}, {Key: "hash", Value: hash}}}})
	if err != nil {
		return fmt.Errorf("index an audit record under its object: %w", classify(err))
	}
	return nil
}

// record returns the record entry e names, and false when that seq holds no record, or another
// record than the entry's (an append that lost its seq and never completed).
func (o objects) record(ctx context.Context, db *mongo.Database, e objectEntry) (Record, bool, error) {
	d, ok, err := readRecord(ctx, db, e.Seq)
	if err != nil || !ok || d.Hash != e.Hash || !slices.Contains(d.ObjectIDs, e.Object) {
		return Record{}, false, err
	}
	return d.record(), true, nil
}

// readRecord reads the document of record seq by its _id.
func readRecord(ctx context.Context, db *mongo.Database, seq int64) (document, bool, error) {
	var d document
	ok, err := mongodb.FindByID(ctx, db.Collection(Collection), DocumentID(seq), &d, options.FindOne().SetProjection(bson.D{{Key: "outbox", Value: 0}}))
	if err != nil {
		return document{}, false, fmt.Errorf("read audit record %d: %w", seq, err)
	}
	return d, ok, nil
}

// objectScanLimit bounds the entries one page of an object's list reads, so that a filter that
// matches few of them answers in bounded time: a page may then hold fewer records than asked
// for, none even, and still have a next page (AIP-158).
const objectScanLimit = 500

// listObject is List for a filter with an object: the object's entries, newest first, from
// before (exclusive) on, the other filters applied to the records.
func listObject(ctx context.Context, db *mongo.Database, f Filter, pageSize int, pageToken string) ([]Record, string, error) {
	o := objectsOf(db)
	n, err := decodeObjectPageToken(pageToken)
	if err != nil {
		return nil, "", err
	}
	if pageToken == "" {
		if n, err = o.last(ctx, f.ObjectID); err != nil {
			return nil, "", err
		}
	}
	var out []Record
	for scanned := 0; len(out) < pageSize && scanned < objectScanLimit; scanned, n = scanned+1, n-1 {
		e, ok, err := o.entry(ctx, f.ObjectID, n)
		if err != nil {
			return nil, "", err
		}
		if !ok { // the end: entries are contiguous from the oldest record's to the newest's
			return out, "", nil
		}
		r, ok, err := o.record(ctx, db, e)
		if err != nil {
			return nil, "", err
		}
		if ok && f.matches(r) {
			out = append(out, r)
		}
	}
	// Entry n is the next to read: the next page starts there, if it exists.
	if _, more, err := o.entry(ctx, f.ObjectID, n); err != nil || !more {
		return out, "", err
	}
	return out, pagination.Token("n" + strconv.FormatInt(n, 10)), nil
}

// decodeObjectPageToken returns the n of the entry a page token of an object's list resumes at.
func decodeObjectPageToken(token string) (int64, error) {
	if token == "" {
		return 0, nil
	}
	after, err := pagination.After(token)
	if err != nil {
		return 0, err
	}
	text, ok := strings.CutPrefix(after, "n")
	n, err := strconv.ParseInt(text, 10, 64)
	if !ok || err != nil || n > maxSeq || n < -maxSeq {
		return 0, apierr.InvalidField("page_token", "is not a token returned by this API")
	}
	return n, nil
}

// matches applies f's filters other than the object to r, as listFilter does in a query.
func (f Filter) matches(r Record) bool {
	principal := func(institution, subject string) bool {
		return (f.Institution == "" || institution == f.Institution) && (f.Subject == "" || subject == f.Subject)
	}
	switch {
	case (f.Institution != "" || f.Subject != "") &&
		!principal(r.Institution, r.Subject) && !principal(r.OnBehalfOf.Institution, r.OnBehalfOf.Subject):
		return false
	case !f.From.IsZero() && r.Time.Before(f.From):
		return false
	case !f.To.IsZero() && !r.Time.Before(f.To):
		return false
	}
	return true
}

// VerifyObject verifies the records of one object (a case id, say) and their links to their
// neighbours in the chain, reading them through the object index by exact _id: its cost is
// that object's records, not the trail's. For each record it checks, as Verify does, that its
// content matches its hash, that its prev_hash is the hash of the record before it, and that
// the record after it (if any) names its hash: a record altered, removed (while a later one
// exists) or replaced by a forgery with a correct hash of its own is found. The result counts
// the object's records verified good and, as Head, the newest of them.
//
// It does not replace Verify: it says nothing of the rest of the chain, and removing the
// newest records of the whole chain needs an anchor to be seen.
func VerifyObject(ctx context.Context, db *mongo.Database, object string) (VerifyResult, error) {
	o := objectsOf(db)
	res := VerifyResult{Head: Head{Seq: 0, Hash: GenesisHash}}
	top, err := o.last(ctx, object)
	if err != nil {
		return VerifyResult{}, err
	}
	var pending []objectEntry // oldest first
	for n := top; ; n-- {
		e, ok, err := o.entry(ctx, object, n)
		if err != nil {
			return VerifyResult{}, err
		}
		if !ok {
			break
		}
		pending = append(pending, e)
	}
	slices.Reverse(pending)
	for _, e := range pending {
		d, ok, err := readRecord(ctx, db, e.Seq)
		if err != nil {
			return VerifyResult{}, err
		}
		next, hasNext, err := readRecord(ctx, db, e.Seq+1)
		if err != nil {
			return VerifyResult{}, err
		}
		if !ok {
			if hasNext {
				res.fail(e.Seq, ProblemMissing, "record %d is missing: the next record present is %d", e.Seq, e.Seq+1)
				break
			}
			continue // an append that never completed, at the end of the chain
		}
		prev := Head{Seq: e.Seq - 1, Hash: GenesisHash}
		if e.Seq > 1 {
			p, ok, err := readRecord(ctx, db, e.Seq-1)
			if err != nil {
				return VerifyResult{}, err
			}
			if !ok {
				res.fail(e.Seq-1, ProblemMissing, "record %d is missing: the next record present is %d", e.Seq-1, e.Seq)
				break
			}
			prev.Hash = p.Hash
		}
		if kind, problem := recordProblem(e.Seq, d, prev); kind != ProblemNone {
			res.fail(e.Seq, kind, "%s", problem)
			break
		}
		if hasNext && next.PrevHash != d.Hash {
			res.fail(e.Seq+1, ProblemUnlinked, "record %d does not follow record %d: its prev_hash %s is not that record's hash %s "+
				"(records re-ordered, or record %d replaced)", e.Seq+1, e.Seq, next.PrevHash, d.Hash, e.Seq)
			break
		}
		if d.Hash != e.Hash || !slices.Contains(d.ObjectIDs, object) {
			continue // another record: this entry's append never completed
		}
		res.Records++
		res.Head = Head{Seq: e.Seq, Hash: d.Hash}
	}
	res.Intact = res.Kind == ProblemNone
	return res, nil
}

func (r *VerifyResult) fail(seq int64, kind ProblemKind, format string, args ...any) {
	r.FirstBadSeq, r.Kind, r.Problem = seq, kind, fmt.Sprintf(format, args...)
}

// IndexObjects adds to the object index the records made before it existed, once per
// database; EnsureIndexes runs it at every start, and it returns at once when the work is done.
// It walks the chain from its newest record down, and gives each record without its
// index entries (documents written before the index lack objects_indexed) the place below the
// lowest of its object (0, -1, -2…). It records its progress, so that a restart resumes where it
// stopped; a record it placed just before a crash is recognised by its object's lowest entry.
// Records appended meanwhile index themselves. The walk reads each record by exact _id (a range
// query would scan the trail on FerretDB/SQLite, once per page).
func IndexObjects(ctx context.Context, db *mongo.Database) error {
	o := objectsOf(db)
	var st upgradeState
	err := o.coll.FindOne(ctx, bson.D{{Key: "_id", Value: upgradeID}}).Decode(&st)
	switch {
	case mongodb.IsNotFound(err):
		// The head as a trail finds it: from the hint, by a few lookups forward.
		head, err := (&Trail{db: db}).loadHead(ctx)
		if err != nil {
			return err
		}
		st = upgradeState{ID: upgradeID, Below: head.Seq + 1}
		if _, err := o.coll.InsertOne(ctx, st); err != nil && !mongodb.IsDuplicateKey(err) {
			return fmt.Errorf("start indexing audit records by object: %w", classify(err))
		}
		if err := o.coll.FindOne(ctx, bson.D{{Key: "_id", Value: upgradeID}}).Decode(&st); err != nil {
			return fmt.Errorf("start indexing audit records by object: %w", classify(err))
		}
	case err != nil:
		return fmt.Errorf("read the progress of indexing audit records by object: %w", classify(err))
	}
	if st.Done {
		return nil
	}
	lowest := map[string]objectEntry{} // per object met, its lowest entry
	for seq := st.Below - 1; seq >= 1; seq-- {
		var d indexedDocument
		found, err := mongodb.FindByID(ctx, db.Collection(Collection), DocumentID(seq), &d,
			options.FindOne().SetProjection(bson.D{{Key: "hash", Value: 1}, {Key: "object_ids", Value: 1}, {Key: "objects_indexed", Value: 1}}))
		if err != nil {
			return fmt.Errorf("read audit record %d to index it: %w", seq, err)
		}
		if found && !d.ObjectsIndexed { // else a gap (Verify's business), or a record that indexed itself
			for _, object := range d.ObjectIDs {
				if err := o.placeBelow(ctx, lowest, object, seq, d.Hash); err != nil {
					return err
				}
			}
		}
		if seq%upgradeProgressEvery == 0 {
			if err := o.progress(ctx, seq); err != nil {
				return err
			}
		}
	}
	return o.progress(ctx, 1)
}

// upgradeProgressEvery spaces IndexObjects' records of its progress.
const upgradeProgressEvery = 1000

// progress records that IndexObjects has looked at every record from seq up; done at 1.
func (o objects) progress(ctx context.Context, seq int64) error {
	if _, err := o.coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: upgradeID}}, bson.D{{Key: "$set", Value: bson.D{
		{Key: "below", Value: seq}, {Key: "done", Value: seq == 1},
	}}}); err != nil {
		return fmt.Errorf("record the progress of indexing audit records by object: %w", classify(err))
	}
	return nil
}

// indexedDocument is the part of a record document IndexObjects needs.
type indexedDocument struct {
	Hash           string   `bson:"hash"`
	ObjectIDs      []string `bson:"object_ids"`
	ObjectsIndexed bool     `bson:"objects_indexed"`
}

// placeBelow gives an old record the place below object's lowest entry, unless a run
// interrupted after placing it did so already: records are placed newest first, so the lowest
// entry's seq is then this record's or an older one's.
func (o objects) placeBelow(ctx context.Context, lowest map[string]objectEntry, object string, seq int64, hash string) error {
	low, known := lowest[object]
	if !known {
		low = objectEntry{N: 1, Seq: maxSeq + 1}
		for {
			e, ok, err := o.entry(ctx, object, low.N-1)
			if err != nil {
				return err
			}
			if !ok {
				break
			}
			low = e
		}
	}
	if low.Seq <= seq {
		lowest[object] = low
		return nil
	}
	e := objectEntry{ID: entryID(object, low.N-1), Object: object, N: low.N - 1, Seq: seq, Hash: hash}
	if _, err := o.coll.InsertOne(ctx, e); err != nil && !mongodb.IsDuplicateKey(err) {
		return fmt.Errorf("index an old audit record under its object: %w", classify(err))
	}
	lowest[object] = e
	return nil
}
