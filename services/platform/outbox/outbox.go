// Package outbox makes a state change and its events one atomic write without multi-document
// transactions (which FerretDB lacks), and publishes the events to JetStream afterwards.
//
// The protocol, for one aggregate document:
//
//  1. Announce inserts one pointer document per event into the small "outbox" collection: the
//     event itself (subject, payload, trace headers), not yet confirmed.
//  2. The service inserts the document that holds the events, under the field "outbox" (a map
//     from event id to Event): the aggregate, or a document of its own per version. This
//     single-document insert is the commit: the state and its events exist together or not at
//     all. The events stay there, as the record of what the write committed.
//  3. Confirm marks the pointers: the commit happened.
//  4. The Relay reads pointers (a collection it keeps nearly empty, so reading it is cheap),
//     publishes confirmed ones in order with the event id as Nats-Msg-Id, waits for JetStream's
//     ack, and deletes the pointer. It never has to read the aggregate collection, which may be
//     large (and on FerretDB/SQLite any lookup there scans it).
//
// A crash between (2) and (3) leaves an unconfirmed pointer; once the relay has watched it for
// the grace period (on its own clock) it loads the document by _id: if the event is in it, the
// write committed and the event is published; if the document holds other events, another
// write took it and the pointer is dropped. If there is no document, nothing is decided: the
// write may still land, so the relay keeps looking, for a day by default, and a write landing
// later still announces its events again when its writer confirms. A crash between publish and
// delete publishes the event again; JetStream drops it by its Nats-Msg-Id inside the duplicate
// window, and consumers apply each event once anyway.
package outbox

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.opentelemetry.io/otel/propagation"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/timestamppb"

	eventsv1 "github.com/nrm-albania/nrm/proto/nrm/events/v1"
	"github.com/nrm-albania/nrm/services/platform/auth"
	"github.com/nrm-albania/nrm/services/platform/mongodb"
	"github.com/nrm-albania/nrm/services/platform/requestid"
	"github.com/nrm-albania/nrm/services/platform/telemetry"
)

// Field is the aggregate document field that holds its pending events.
const Field = "outbox"

// PointerCollection is the collection of pointers to aggregates with pending events.
const PointerCollection = "outbox"

// Event is a pending event as stored inside its aggregate.
type Event struct {
	// Seq orders the aggregate's events: published in increasing Seq.
	Seq int64 `bson:"seq"`
	// Subject is the NATS subject, e.g. "nrm.case.registered".
	Subject string `bson:"subject"`
	// Data is the marshaled eventsv1.Envelope.
	Data []byte `bson:"data"`
	// Headers carry the trace context of the request that caused the event.
	Headers map[string]string `bson:"headers,omitempty"`
}

// Pending is an event ready to be announced and stored.
type Pending struct {
	ID    string
	Event Event
}

// pointer is an announced event, waiting in PointerCollection to be published.
type pointer struct {
	ID         string `bson:"_id"`
	Collection string `bson:"collection"`
	// AggregateID orders publication: one aggregate's events leave in Seq order.
	AggregateID string `bson:"aggregate_id"`
	// Document is the _id of the document in Collection that holds the event, when it is not
	// the aggregate itself (an aggregate that commits each version as its own document).
	Document  string    `bson:"document,omitempty"`
	CreatedAt time.Time `bson:"created_at"`
	Event     Event     `bson:"event"`
	// Confirmed is set once the aggregate write that holds the event has committed.
	Confirmed bool `bson:"confirmed"`
}

// EventID is the id of the index-th event of the change that brought aggregateID to version. It
// is derived, not random, so that a retried change produces the same ids and JetStream and
// consumers recognise the copies.
func EventID(aggregateID string, version int64, index int) string {
	return uuid.NewSHA1(eventNamespace, fmt.Appendf(nil, "%s@%d#%d", aggregateID, version, index)).String()
}

var eventNamespace = uuid.MustParse("6f1c1f7e-4f7e-4b8e-9a55-2c1f0b9d6a10")

// NewEvent builds the index-th event of the change that brought aggregateID to version: the
// envelope (type, ids, time, correlation and trace context of ctx) around payload, ready to be
// announced and stored. typ is the event type, e.g. "case.registered"; the subject is "nrm."+typ.
func NewEvent(ctx context.Context, typ, aggregateID string, version int64, index int, payload proto.Message, at time.Time) (Pending, error) {
	if index < 0 || index >= maxEventsPerChange {
		return Pending{}, fmt.Errorf("event index %d outside 0..%d", index, maxEventsPerChange-1)
	}
	wrapped, err := anypb.New(payload)
	if err != nil {
		return Pending{}, fmt.Errorf("wrap %s payload: %w", typ, err)
	}
	env := &eventsv1.Envelope{
		Id:               EventID(aggregateID, version, index),
		Type:             typ,
		AggregateId:      aggregateID,
		AggregateVersion: version,
		OccurredAt:       timestamppb.New(at),
		CorrelationId:    requestid.From(ctx),
		Payload:          wrapped,
	}
	if p, ok := auth.FromContext(ctx); ok {
		// Institution and subject only: an id, never a name.
		who := p.Effective()
		env.Actor = &eventsv1.Actor{Institution: who.Institution, Subject: who.Subject}
	}
	data, err := proto.Marshal(env)
	if err != nil {
		return Pending{}, fmt.Errorf("marshal event %s: %w", env.GetId(), err)
	}
	carrier := propagation.MapCarrier{}
	telemetry.Propagator.Inject(ctx, carrier)
	return Pending{ID: env.GetId(), Event: Event{
		Seq: version*maxEventsPerChange + int64(index), Subject: "nrm." + typ, Data: data, Headers: carrier,
	}}, nil
}

// maxEventsPerChange spaces the sequence numbers of successive versions.
const maxEventsPerChange = 16

// Map returns the events in the shape stored under Field.
func Map(events []Pending) map[string]Event {
	m := make(map[string]Event, len(events))
	for _, e := range events {
		m[e.ID] = e.Event
	}
	return m
}

// Announcement is what Announce recorded: the events and where they will be committed. The
// writer confirms it after the commit, or withdraws it when the commit did not happen.
type Announcement struct {
	db       *mongo.Database
	pointers []pointer
}

// Announce records, before the aggregate write, the events the aggregate collection/aggregateID
// will hold. Announcing the same event twice (a retried request) is harmless. A change produces
// one or two events, so pointers are inserted one by one: a duplicate then means exactly
// "already announced".
func Announce(ctx context.Context, db *mongo.Database, collection, aggregateID string, events []Pending, now time.Time) (Announcement, error) {
	return AnnounceIn(ctx, db, collection, aggregateID, aggregateID, events, now)
}

// AnnounceIn is Announce for events that the document collection/document will hold on behalf
// of aggregateID: an aggregate that commits every version as a document of its own (_id
// "<id>@<version>"), whose events must still leave in order.
func AnnounceIn(ctx context.Context, db *mongo.Database, collection, document, aggregateID string, events []Pending, now time.Time) (Announcement, error) {
	a := Announcement{db: db}
	for _, e := range events {
		p := pointer{ID: e.ID, Collection: collection, AggregateID: aggregateID, CreatedAt: now.UTC(), Event: e.Event}
		if document != aggregateID {
			p.Document = document
		}
		a.pointers = append(a.pointers, p)
	}
	pointers := db.Collection(PointerCollection)
	for _, p := range a.pointers {
		if _, err := pointers.InsertOne(ctx, p); err != nil && !mongodb.IsDuplicateKey(err) {
			return Announcement{}, fmt.Errorf("announce event %s of %s/%s: %w", p.ID, collection, aggregateID, err)
		}
	}
	return a, nil
}

// Confirm tells the relay that the write holding the events has committed, so it publishes them
// without reading the aggregate. It stores the events again with the confirmation: writers that
// race for the same version of an aggregate announce the same event ids, and the announcement
// that got in first may be the loser's.
//
// A confirmation that matches no pointer is not ignored: the pointer is gone because the relay
// published it already (a racing writer confirmed the same event id), or because the relay gave
// it up after waiting far longer than any write should take (RelayOptions.Abandon) and the write
// landed later still. The second would lose a committed event, so Confirm announces it again,
// confirmed; in the first case the event is published twice and JetStream (by Nats-Msg-Id) and
// the consumers (by aggregate version) drop the copy. If Confirm fails, the events are still
// published, after the grace period, as the relay finds them in the committed document.
func (a Announcement) Confirm(ctx context.Context) error {
	pointers := a.db.Collection(PointerCollection)
	for _, p := range a.pointers {
		res, err := pointers.UpdateOne(ctx, bson.D{{Key: "_id", Value: p.ID}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "confirmed", Value: true}, {Key: "event", Value: p.Event}}}})
		if err != nil {
			return fmt.Errorf("confirm event %s: %w", p.ID, err)
		}
		if res.MatchedCount > 0 {
			continue
		}
		p.Confirmed = true
		if _, err := pointers.InsertOne(ctx, p); err != nil && !mongodb.IsDuplicateKey(err) {
			// A duplicate is a pointer announced again meanwhile, by a retry of the same change:
			// that change confirms it.
			return fmt.Errorf("announce confirmed event %s again: %w", p.ID, err)
		}
	}
	return nil
}

// Withdraw removes the pointers of events whose write did not happen (it lost a race, say), so
// that they do not wait out the grace period. Only for event ids no other write can announce
// (the audit trail's, unique per record): an aggregate's racing writers share theirs, and the
// loser's withdrawal would remove the winner's pointer. Failing to withdraw is harmless.
func (a Announcement) Withdraw(ctx context.Context) {
	for _, p := range a.pointers {
		_, _ = a.db.Collection(PointerCollection).DeleteOne(ctx, bson.D{{Key: "_id", Value: p.ID}})
	}
}

// Backlog counts the pointers: events announced and not yet published (or orphans not yet
// dropped).
func Backlog(ctx context.Context, db *mongo.Database) (int64, error) {
	return db.Collection(PointerCollection).CountDocuments(ctx, bson.D{})
}
