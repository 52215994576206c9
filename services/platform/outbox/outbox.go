// Package outbox makes a state change and its events one atomic write without multi-document
// transactions (which FerretDB lacks), and publishes the events to JetStream afterwards.
//
// The protocol, for one aggregate document:
//
//  1. Announce inserts one small pointer document per event into the "outbox" collection. It
//     says "this aggregate may hold this unpublished event".
//  2. The service writes the aggregate with the events inside it, under the field "outbox"
//     (a map from event id to Event). This single-document write is the commit: the state and
//     its events exist together or not at all.
//  3. The Relay reads pointers (a collection it keeps nearly empty, so scanning it is cheap),
//     loads each aggregate by _id, publishes its pending events in order with the event id as
//     Nats-Msg-Id, waits for JetStream's ack, then removes the event from the aggregate and
//     deletes the pointer.
//
// A crash after (2) delays an event; it is published when the relay next runs. A pointer whose
// event never reached its aggregate (the write failed) is dropped once older than the grace
// period. A crash between publish and removal publishes the event again; JetStream drops it by
// its Nats-Msg-Id inside the duplicate window, and consumers apply each event once anyway.
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

type pointer struct {
	ID          string    `bson:"_id"`
	Collection  string    `bson:"collection"`
	AggregateID string    `bson:"aggregate_id"`
	CreatedAt   time.Time `bson:"created_at"`
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

// Announce records, before the aggregate write, that the aggregate collection/aggregateID will
// hold events. Announcing the same event twice (a retried request) is harmless. A change
// produces one or two events, so pointers are inserted one by one: a duplicate then means
// exactly "already announced".
func Announce(ctx context.Context, db *mongo.Database, collection, aggregateID string, events []Pending, now time.Time) error {
	pointers := db.Collection(PointerCollection)
	for _, e := range events {
		p := pointer{ID: e.ID, Collection: collection, AggregateID: aggregateID, CreatedAt: now.UTC()}
		if _, err := pointers.InsertOne(ctx, p); err != nil && !mongodb.IsDuplicateKey(err) {
			return fmt.Errorf("announce event %s of %s/%s: %w", e.ID, collection, aggregateID, err)
		}
	}
	return nil
}

// Backlog counts the pointers: events announced and not yet published (or orphans not yet
// dropped).
func Backlog(ctx context.Context, db *mongo.Database) (int64, error) {
	return db.Collection(PointerCollection).CountDocuments(ctx, bson.D{})
}
