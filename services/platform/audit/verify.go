package audit

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/nrm-albania/nrm/services/platform/mongodb"
)

// ProblemKind says what is wrong with a chain at its first bad record.
type ProblemKind string

// The problems Verify tells apart.
const (
	// ProblemNone: the chain is intact.
	ProblemNone ProblemKind = ""
	// ProblemAltered: the record's content no longer matches its hash (or cannot be read).
	ProblemAltered ProblemKind = "altered"
	// ProblemMissing: the record is gone while a later one exists (a gap in the seqs).
	ProblemMissing ProblemKind = "missing"
	// ProblemMisplaced: the document at this position carries another seq (records moved or
	// swapped), or a foreign document sits among the records.
	ProblemMisplaced ProblemKind = "misplaced"
	// ProblemUnlinked: the record's prev_hash is not the hash of the record before it: records
	// re-ordered and re-hashed, or the record before replaced by a re-hashed forgery.
	ProblemUnlinked ProblemKind = "unlinked"
	// ProblemTruncated: the chain ends before an anchor: its newest records were removed.
	ProblemTruncated ProblemKind = "truncated"
	// ProblemAnchorMismatch: the record at an anchor's seq has another hash than the anchor.
	ProblemAnchorMismatch ProblemKind = "anchor_mismatch"
)

// VerifyResult is the outcome of Verify.
type VerifyResult struct {
	// Intact is true when every record from seq 1 to the head is present, unaltered and linked
	// to the one before, and every anchor matches.
	Intact bool
	// Records is the number of records verified good, from seq 1.
	Records int64
	// FirstBadSeq is the seq of the first bad record; 0 when intact.
	FirstBadSeq int64
	// Kind is what is wrong at FirstBadSeq, for a program.
	Kind ProblemKind
	// Problem is what is wrong at FirstBadSeq, for a person (ids and hashes only).
	Problem string
	// Head is the last record verified good: the chain's head when intact ({0, GenesisHash}
	// for an empty chain). Keep it outside the database as an anchor for later verifications.
	Head Head
}

// ErrInvalidAnchor is returned for an anchor whose seq is not positive or whose hash is not 64
// lowercase hex digits.
var ErrInvalidAnchor = errors.New("invalid audit anchor")

// Verify reads up to verifyPageSize records per query (one _id range), in batches of
// verifyBatchSize: this process holds one batch at a time, whatever the size of the chain.
//
// The page size trades the number of queries against what the store holds to sort one page.
// On MongoDB a page is a walk of the _id index and its size hardly matters. On FerretDB with
// SQLite every query scans the whole collection in Go (only an exact {_id} filter is pushed
// down to SQL, and even that does not use the index in FerretDB 1.24), so the walk costs one
// scan per page: 10,000 records per page keeps it to a scan per 10,000 records while FerretDB
// sorts at most 10,000 documents at a time.
const (
	verifyPageSize  = 10_000
	verifyBatchSize = 1000
)

// Verify walks the chain of the service whose database is db, from seq 1 to the head, in pages
// of records read by _id range, and re-computes every hash and link. It stops at the first
// problem and tells what it is:
//
//   - a record whose content does not match its hash: ProblemAltered at it;
//   - a seq without a record while a later one exists: ProblemMissing at it;
//   - a document whose seq is not the one its _id stands for: ProblemMisplaced at it;
//   - a record whose prev_hash is not the hash of the record before: ProblemUnlinked at it
//     (so a record replaced by a forgery that carries a correct hash of its own is caught at
//     the next record).
//
// Removing the newest records leaves a shorter chain that is consistent: no check inside the
// database can see it. Anchors (heads known from outside the database: the Head of an earlier
// verification kept by an auditor, or any record published on the audit stream, see
// StreamAnchor) close that gap: Verify also fails with ProblemTruncated when the chain no longer
// reaches an anchor and with ProblemAnchorMismatch when the record at an anchor's seq has
// another hash.
//
// Records appended while Verify runs are verified too when the walk reaches them. Verify reads
// the chain once; it is an auditor's operation, not a request path (on FerretDB with SQLite
// every page is a scan of the collection).
func Verify(ctx context.Context, db *mongo.Database, anchors ...Anchor) (VerifyResult, error) {
	return verify(ctx, db, verifyPageSize, anchors)
}

func verify(ctx context.Context, db *mongo.Database, pageSize int64, anchors []Anchor) (VerifyResult, error) {
	for _, a := range anchors {
		if a.Seq < 1 || a.Seq > maxSeq || !validHash(a.Hash) {
			return VerifyResult{}, fmt.Errorf("%w: seq %d, hash %q", ErrInvalidAnchor, a.Seq, a.Hash)
		}
	}
	w := walk{db: db.Collection(Collection), anchors: anchors,
		res: VerifyResult{Head: Head{Seq: 0, Hash: GenesisHash}}}
	for {
		done, err := w.page(ctx, pageSize)
		if err != nil {
			return VerifyResult{}, err
		}
		if done {
			break
		}
	}
	if w.res.Kind == ProblemNone {
		for _, a := range anchors {
			if a.Seq > w.res.Head.Seq {
				w.fail(w.res.Head.Seq+1, ProblemTruncated,
					"the chain ends at record %d but the anchor is record %d with hash %s: the newest records were removed",
					w.res.Head.Seq, a.Seq, a.Hash)
				break
			}
		}
	}
	w.res.Intact = w.res.Kind == ProblemNone
	return w.res, nil
}

type walk struct {
	db      *mongo.Collection
	anchors []Anchor
	res     VerifyResult
}

func (w *walk) next() int64 { return w.res.Head.Seq + 1 }

func (w *walk) fail(seq int64, kind ProblemKind, format string, args ...any) {
	w.res.fail(seq, kind, format, args...)
}

// page verifies the records from next() on, up to pageSize of them. done is true when the walk
// is over: the end of the chain, or a problem.
func (w *walk) page(ctx context.Context, pageSize int64) (done bool, err error) {
	from := w.next()
	to := min(from+pageSize-1, maxSeq)
	cur, err := w.db.Find(ctx, seqRange(from, to), options.Find().
		SetSort(bson.D{{Key: "_id", Value: 1}}).SetLimit(pageSize+1).SetBatchSize(int32(min(pageSize+1, verifyBatchSize))))
	if err != nil {
		return true, fmt.Errorf("read audit records from %d: %w", from, classify(err))
	}
	defer cur.Close(ctx)
	read := 0
	for cur.Next(ctx) {
		read++
		seq := w.next()
		id, isString := cur.Current.Lookup("_id").StringValueOK()
		at, canonical := parseDocumentID(id)
		switch {
		case !isString || !canonical:
			w.fail(seq, ProblemMisplaced, "a document with _id %q sits among the records, where record %d should be", id, seq)
			return true, nil
		case at != seq:
			return w.gap(ctx, seq, at)
		}
		var d document
		if err := bson.Unmarshal(cur.Current, &d); err != nil {
			w.fail(seq, ProblemAltered, "record %d cannot be read as a record (%v): it was altered", seq, err)
			return true, nil
		}
		if !w.check(seq, d) {
			return true, nil
		}
	}
	if err := cur.Err(); err != nil {
		return true, fmt.Errorf("read audit records from %d: %w", from, classify(err))
	}
	if read >= int(pageSize) || to == maxSeq {
		return to == maxSeq, nil
	}
	// A short page: there is no record from next() to `to`. The end of the chain, unless
	// something lies beyond (a gap, or a foreign _id that sorts between two records').
	var later struct {
		ID string `bson:"_id"`
	}
	err = w.db.FindOne(ctx, seqRange(w.next(), maxSeq), options.FindOne().
		SetSort(bson.D{{Key: "_id", Value: 1}}).SetProjection(bson.D{{Key: "_id", Value: 1}})).Decode(&later)
	switch {
	case mongodb.IsNotFound(err):
		return true, nil
	case err != nil:
		return true, fmt.Errorf("look for audit records after %d: %w", to, classify(err))
	}
	at, canonical := parseDocumentID(later.ID)
	if !canonical {
		w.fail(w.next(), ProblemMisplaced, "a document with _id %q sits among the records, where record %d should be", later.ID, w.next())
		return true, nil
	}
	return w.gap(ctx, w.next(), at)
}

// gap handles a walk that expected record seq and found record `at` (> seq) first. Record seq
// was inserted before record at (a writer appends at+1 only once it sees at), so if it is still
// not there it was removed; if it is there now, it was appended after the page was read and
// the walk goes on.
func (w *walk) gap(ctx context.Context, seq, at int64) (done bool, err error) {
	err = w.db.FindOne(ctx, bson.D{{Key: "_id", Value: DocumentID(seq)}},
		options.FindOne().SetProjection(bson.D{{Key: "_id", Value: 1}})).Err()
	switch {
	case err == nil:
		return false, nil
	case !mongodb.IsNotFound(err):
		return true, fmt.Errorf("read audit record %d: %w", seq, classify(err))
	}
	w.fail(seq, ProblemMissing, "record %d is missing: the next record present is %d", seq, at)
	return true, nil
}

// check verifies the document found at position seq against the chain so far; false means it
// failed (the walk's result says why).
func (w *walk) check(seq int64, d document) bool {
	if kind, problem := recordProblem(seq, d, w.res.Head); kind != ProblemNone {
		w.fail(seq, kind, "%s", problem)
		return false
	}
	for _, a := range w.anchors {
		if a.Seq == seq && a.Hash != d.Hash {
			w.fail(seq, ProblemAnchorMismatch, "record %d has hash %s but the anchor says %s: the chain was rewritten", seq, d.Hash, a.Hash)
			return false
		}
	}
	w.res.Records++
	w.res.Head = Head{Seq: seq, Hash: d.Hash}
	return true
}

// recordProblem checks the document found at position seq, whose predecessor in the chain is
// prev, and says what is wrong with it, if anything.
func recordProblem(seq int64, d document, prev Head) (ProblemKind, string) {
	switch {
	case d.Seq != seq:
		return ProblemMisplaced, fmt.Sprintf("the document stored as record %d carries seq %d: records were moved or swapped", seq, d.Seq)
	case d.V != HashVersion:
		return ProblemAltered, fmt.Sprintf("record %d has hash version %d, not %d: it was altered", seq, d.V, HashVersion)
	case Hash(d.record()) != d.Hash:
		return ProblemAltered, fmt.Sprintf("record %d was altered: its content does not match its hash %s", seq, d.Hash)
	case d.PrevHash != prev.Hash:
		return ProblemUnlinked, fmt.Sprintf("record %d does not follow record %d: its prev_hash %s is not that record's hash %s "+
			"(records re-ordered, or record %d replaced)", seq, prev.Seq, d.PrevHash, prev.Hash, prev.Seq)
	}
	return ProblemNone, ""
}
