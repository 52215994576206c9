package audit

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
	"sync"
	"time"

	"github.com/google/uuid"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/nrm-albania/nrm/services/platform/mongodb"
	"github.com/nrm-albania/nrm/services/platform/outbox"
)

// Trail appends the records of one service to its chain. It is safe for concurrent use, and
// several processes (replicas of the service) may append to the same chain at once.
//
// How a record is appended without transactions, on MongoDB and FerretDB alike:
//
//  1. The trail knows a head (seq h, hash H): cached from its last append, else from the hint
//     document, else from the newest record. Starting from it, it looks forward by exact _id
//     (probing h+1, h+2, h+4… then bisecting; an exact _id lookup is the cheapest read on every
//     backend) for the last record that exists. A trail that appended last needs no lookup.
//  2. It builds the record seq h+1 with prev_hash H and its hash, and commits it with its event
//     as every aggregate revision is committed (outbox.Commit: announce, then INSERT the document
//     with _id = DocumentID(h+1) and the event under "outbox"). The insert is the commit: the
//     unique _id lets exactly one writer take each seq. A taken seq means another writer
//     appended h+1: look forward again and retry (bounded). Unlike an aggregate's racing writers,
//     the loser withdraws its pointer: its event id is its record's own, which no other writer
//     announces. Only then does the record exist; the event is published by the service's
//     outbox relay.
//
// The trail is not an aggregate.Store, though it shares its commit step: its records are one
// chain per service, found from a head that moves by the thousand (so it looks forward by
// probing and bisecting, not one version after another as aggregate.Store and mongodb.Follow
// do), each record is immutable once written, and there is no current document to keep.
//  3. At seq 1 and every 16th seq it writes the hint (seq, hash) by _id. The hint lags behind
//     the head (by up to 15 records, more if writers overwrite each other's hints), which only
//     costs a few more lookups when a process starts.
//
// The hint is never trusted blindly: the trail only starts from it and looks forward. When the
// hint names a record that is gone or has another hash, records were deleted or replaced; the
// trail then chains the next record onto the hint's (seq, hash), so the damage stays visible to
// Verify (a gap, or a record whose prev_hash does not match) instead of being papered over by a
// new, consistent tail. A running trail does the same with the head it appended last. This is
// a tripwire, not a defence: whoever can delete records can also rewrite the hint, and a
// removal of the newest records that does not reach back to the hint's seq, made while no
// trail is running, leaves a shorter chain that is consistent. The anchor against that is
// outside the database: the published copies (StreamAnchor) or a head kept by an auditor.
type Trail struct {
	db      *mongo.Database
	service string
	relay   interface{ Notify() }
	now     func() time.Time

	mu    sync.Mutex // serialises this process's appends: they would only collide otherwise
	head  Head
	known bool // head is this process's latest knowledge of the chain
}

// maxAttempts bounds the retries of an append that keeps losing its seq to other writers. With
// several replicas appending at once a writer wins about one round in N, so the bound is generous;
// the caller's deadline (the audit recorder gives 5 s) is what really limits the wait.
const maxAttempts = 1000

var serviceName = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,62}$`)

// NewTrail returns the trail of service (e.g. "caseregistry") in db. Records are published on
// the subject "nrm.audit.<service>" by the service's outbox relay; relay (the *outbox.Relay, or
// a nil interface) is notified after each append so that it publishes at once. service must be a lower-case
// name usable as a NATS subject token; anything else panics (a programming error).
func NewTrail(db *mongo.Database, service string, relay interface{ Notify() }) *Trail {
	if !serviceName.MatchString(service) {
		panic(fmt.Sprintf("audit.NewTrail: service name %q is not a lower-case subject token", service))
	}
	return &Trail{db: db, service: service, relay: relay, now: time.Now}
}

// Service returns the name of the trail's service.
func (t *Trail) Service() string { return t.service }

// ErrContention is returned when an append lost its seq to other writers maxAttempts times.
var ErrContention = errors.New("audit append: too much contention for the chain head")

// Record appends the record of e to the chain and returns it. When it returns an error the
// record may or may not have been stored (the database may have applied an insert whose answer
// was lost); the caller decides whether the audited call may proceed.
func (t *Trail) Record(ctx context.Context, e Entry) (Record, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return Record{}, fmt.Errorf("audit record id: %w", err)
	}
	rec, err := newRecord(ctx, t.service, id.String(), e, t.now())
	if err != nil {
		return Record{}, err
	}

	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.known {
		head, err := t.loadHead(ctx)
		if err != nil {
			return Record{}, err
		}
		t.head, t.known = head, true
	}
	placed := map[string]int64{} // the object index entries of this append, by object
	for attempt := range maxAttempts {
		if t.head.Seq >= maxSeq {
			return Record{}, fmt.Errorf("audit chain is full at seq %d", t.head.Seq)
		}
		rec.Seq, rec.PrevHash = t.head.Seq+1, t.head.Hash
		rec.Hash = Hash(rec)
		inserted, err := t.insert(ctx, rec, placed)
		if err != nil {
			t.known = false // the insert may have happened: start from the database next time
			return Record{}, err
		}
		if inserted {
			t.head = Head{Seq: rec.Seq, Hash: rec.Hash}
			t.saveHint(ctx, t.head)
			if t.relay != nil {
				t.relay.Notify()
			}
			return rec, nil
		}
		// Another writer took rec.Seq: move past it.
		head, err := t.forward(ctx, Head{Seq: rec.Seq})
		if err != nil {
			t.known = false
			return Record{}, err
		}
		t.head = head
		if attempt >= 2 {
			pause(ctx, attempt)
		}
	}
	return Record{}, ErrContention
}

// insert writes rec's object index entries (placed: those of earlier attempts, moved to rec's
// seq), announces rec's event and inserts rec; false means its seq is taken. The entries come
// first, so that a record in the chain is always in its objects' indexes.
func (t *Trail) insert(ctx context.Context, rec Record, placed map[string]int64) (bool, error) {
	objs := objectsOf(t.db)
	for _, object := range rec.ObjectIDs {
		if n, ok := placed[object]; ok {
			if err := objs.move(ctx, object, n, rec.Seq, rec.Hash); err != nil {
				return false, err
			}
			continue
		}
		n, err := objs.place(ctx, object, rec.Seq, rec.Hash)
		if err != nil {
			return false, err
		}
		placed[object] = n
	}
	docID := DocumentID(rec.Seq)
	ev, err := outbox.NewEvent(ctx, "audit."+t.service, rec.ID, rec.Seq, 0, rec.Proto(), rec.Time)
	if err != nil {
		return false, fmt.Errorf("audit event of record %d: %w", rec.Seq, err)
	}
	events := []outbox.Pending{ev}
	doc := toDocument(rec, outbox.Map(events))
	doc.ObjectsIndexed = true
	announced, err := outbox.Commit(ctx, t.db, Collection, docID, docID, doc, events, t.now())
	switch {
	case err == nil:
		// Should the confirmation fail, the relay finds the event in the record after its grace
		// period: published late, never lost.
		_ = announced.Confirm(ctx)
		return true, nil
	case errors.Is(err, mongodb.ErrTaken):
		announced.Withdraw(ctx) // the seq is another writer's; this event never was
		return false, nil
	default:
		return false, fmt.Errorf("audit record %d: %w", rec.Seq, classify(err))
	}
}

// loadHead finds the head when this process knows none: from the hint if there is one, else
// from the newest record, then forward to the last record that exists.
func (t *Trail) loadHead(ctx context.Context) (Head, error) {
	raw, err := t.db.Collection(HeadCollection).FindOne(ctx, bson.D{{Key: "_id", Value: headHintID}}).Raw()
	if err != nil && !mongodb.IsNotFound(err) {
		return Head{}, fmt.Errorf("read audit head hint: %w", classify(err))
	}
	var hint headHint
	if err == nil && bson.Unmarshal(raw, &hint) == nil && hint.Seq >= 1 && hint.Seq <= maxSeq && validHash(hint.Hash) {
		return t.forward(ctx, Head{Seq: hint.Seq, Hash: hint.Hash})
	}
	// No usable hint: the first append of the chain, or the hint was lost or mangled.
	newest, err := newestRecord(ctx, t.db)
	if err != nil {
		return Head{}, err
	}
	return t.forward(ctx, newest)
}

// newestRecord returns the record with the highest seq, or the empty chain. It sorts the whole
// collection on FerretDB/SQLite, so it runs only when there is no hint.
func newestRecord(ctx context.Context, db *mongo.Database) (Head, error) {
	cur, err := db.Collection(Collection).Find(ctx, seqRange(1, maxSeq),
		options.Find().SetSort(bson.D{{Key: "_id", Value: -1}}).
			SetProjection(bson.D{{Key: "hash", Value: 1}}).SetBatchSize(16))
	if err != nil {
		return Head{}, fmt.Errorf("find the newest audit record: %w", classify(err))
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		var d struct {
			ID   string `bson:"_id"`
			Hash string `bson:"hash"`
		}
		if cur.Decode(&d) != nil {
			continue
		}
		if seq, ok := parseDocumentID(d.ID); ok {
			return Head{Seq: seq, Hash: d.Hash}, nil
		}
	}
	if err := cur.Err(); err != nil {
		return Head{}, fmt.Errorf("find the newest audit record: %w", classify(err))
	}
	return Head{Seq: 0, Hash: GenesisHash}, nil
}

// forward returns the last record that exists at or after from, looking up seqs by exact _id
// (mongodb.LastPresent). from itself is taken as it is given; its Hash is used only if nothing follows
// it (when from.Hash is empty, from is read).
func (t *Trail) forward(ctx context.Context, from Head) (Head, error) {
	lo := from
	if lo.Hash == "" {
		h, ok, err := t.probe(ctx, lo.Seq)
		if err != nil {
			return Head{}, err
		}
		if !ok { // it was there a moment ago: deleted. Chain onto it anyway, Verify will tell.
			return Head{}, fmt.Errorf("audit record %d vanished while appending", lo.Seq)
		}
		lo = h
	}
	found := map[int64]Head{lo.Seq: lo}
	last, err := mongodb.LastPresent(ctx, lo.Seq, maxSeq, func(ctx context.Context, s int64) (bool, error) {
		h, ok, err := t.probe(ctx, s)
		found[s] = h
		return ok, err
	})
	if err != nil {
		return Head{}, err
	}
	return found[last], nil
}

// probe reads the hash of the record seq by its _id.
func (t *Trail) probe(ctx context.Context, seq int64) (Head, bool, error) {
	if seq < 1 || seq > maxSeq {
		return Head{}, false, nil
	}
	var d struct {
		Hash string `bson:"hash"`
	}
	ok, err := mongodb.FindByID(ctx, t.db.Collection(Collection), DocumentID(seq), &d, options.FindOne().SetProjection(bson.D{{Key: "hash", Value: 1}}))
	if err != nil {
		return Head{}, false, fmt.Errorf("read audit record %d: %w", seq, err)
	}
	return Head{Seq: seq, Hash: d.Hash}, ok, nil
}

// hintEvery spaces the hint writes: the writer of seq 1 and of every multiple of hintEvery
// writes it. A write per append would cost a third write per record (on FerretDB with SQLite,
// where writes serialise, it doubled the time of contended appends), and forward finds the
// head from a lagging hint in a few lookups.
const hintEvery = 16

// saveHint records h as the head hint when h.Seq is a hint point. It is advisory: a failure is
// ignored (the next start looks forward from an older hint), and concurrent writers may leave a
// slightly older one. It is an update by _id; the first one inserts the document.
func (t *Trail) saveHint(ctx context.Context, h Head) {
	if h.Seq != 1 && h.Seq%hintEvery != 0 {
		return
	}
	saveHint(ctx, t.db.Collection(HeadCollection), headHintID, bson.D{
		{Key: "seq", Value: h.Seq}, {Key: "hash", Value: h.Hash}, {Key: "updated_at", Value: t.now().UTC()},
	}, headHint{ID: headHintID, Seq: h.Seq, Hash: h.Hash, UpdatedAt: t.now().UTC()})
}

// saveHint sets fields on the hint document id of coll, inserting it (as doc) the first time.
// Hints are advisory: a failure is ignored.
func saveHint(ctx context.Context, coll *mongo.Collection, id string, fields bson.D, doc any) {
	res, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "$set", Value: fields}})
	if err == nil && res.MatchedCount == 0 {
		_, _ = coll.InsertOne(ctx, doc)
	}
}

// pause spreads writers that keep colliding on the head.
func pause(ctx context.Context, attempt int) {
	// Random, growing with the losses (up to 50 ms), so that contending writers spread out.
	d := time.Duration(rand.Int64N(int64(min(attempt, 50))*int64(time.Millisecond) + 1))
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// seqRange is the filter for the records with from <= seq <= to.
func seqRange(from, to int64) bson.D {
	return bson.D{{Key: "_id", Value: bson.D{
		{Key: "$gte", Value: DocumentID(from)}, {Key: "$lte", Value: DocumentID(to)},
	}}}
}
