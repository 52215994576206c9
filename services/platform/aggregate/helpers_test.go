package aggregate_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"google.golang.org/protobuf/types/known/wrapperspb"

	eventsv1 "github.com/nrm-albania/nrm/proto/nrm/events/v1"
	"github.com/nrm-albania/nrm/services/platform/aggregate"
	"github.com/nrm-albania/nrm/services/platform/auth"
	"github.com/nrm-albania/nrm/services/platform/natsbus"
	"github.com/nrm-albania/nrm/services/platform/outbox"
	"github.com/nrm-albania/nrm/services/platform/testenv"
)

// referral is the aggregate of the suite: any type with an id, a version and a time of change.
type referral struct {
	ID        string    `bson:"_id"`
	Version   int64     `bson:"version"`
	State     string    `bson:"state"`
	Note      string    `bson:"note"`
	UpdatedAt time.Time `bson:"updated_at"`
}

func (r referral) AggregateID() string     { return r.ID }
func (r referral) AggregateVersion() int64 { return r.Version }
func (r referral) AtVersion(v int64, at time.Time) referral {
	r.Version, r.UpdatedAt = v, at
	return r
}

// entry is the suite's history entry.
type entry struct {
	Kind        string    `bson:"kind"`
	Institution string    `bson:"institution"`
	Subject     string    `bson:"subject"`
	At          time.Time `bson:"at"`
}

func (e entry) By(institution, subject string, at time.Time) entry {
	e.Institution, e.Subject, e.At = institution, subject, at
	return e
}

type store = aggregate.Store[referral, entry]

func newStore(db *mongo.Database) *store {
	return aggregate.New[referral, entry](db, aggregate.Spec{Name: "referral"})
}

// caller is a request's context as the guard leaves it: a caseworker of the state police.
func caller() context.Context {
	return auth.NewContext(context.Background(), &auth.Principal{Institution: "ASP-ANTITRAF", Subject: "officer-7", Roles: []auth.Role{auth.RoleCaseworker}})
}

// events is the one event of the change that brings id to version v, its payload the note.
func events(t testing.TB, id string, v int64, note string) []outbox.Pending {
	t.Helper()
	evs, err := aggregate.Envelop(caller(), id, v, []aggregate.Event{{Type: "referral.updated", Payload: wrapperspb.String(note)}}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

func created(t testing.TB, s *store, id, note string) referral {
	t.Helper()
	r, err := s.Create(caller(), referral{ID: id, Version: 1, State: "PENDING", Note: note}, entry{Kind: "CREATED"}, events(t, id, 1, note))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// note is the command that sets the note.
func note(id string, expected int64, text string) aggregate.Command[referral, entry] {
	return aggregate.Command[referral, entry]{ID: id, Expected: expected,
		Decide: func(r referral) (aggregate.Outcome[referral, entry], error) {
			r.Note = text
			return aggregate.Outcome[referral, entry]{Next: r, Change: entry{Kind: "NOTED"},
				Events: []aggregate.Event{{Type: "referral.updated", Payload: wrapperspb.String(text)}}}, nil
		}}
}

// clock is a relay's clock that moves only when the test moves it.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

// relay is an outbox relay on c, with a grace period of a minute.
func relay(db *mongo.Database, bus *testenv.Bus, c *clock) *outbox.Relay {
	return outbox.NewRelay(db, bus.JS, bus.NS, slog.New(slog.DiscardHandler), prometheus.NewRegistry(),
		outbox.RelayOptions{Grace: time.Minute, Abandon: time.Hour, Now: c.Now})
}

func drain(t testing.TB, r *outbox.Relay) {
	t.Helper()
	if err := r.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// published returns the events in the test's referral stream, in stream order.
func published(t testing.TB, bus *testenv.Bus) []*eventsv1.Envelope {
	t.Helper()
	return bus.Envelopes(t, natsbus.StreamReferral)
}

// payload is an event's note.
func payload(t testing.TB, env *eventsv1.Envelope) string {
	t.Helper()
	var v wrapperspb.StringValue
	if err := env.GetPayload().UnmarshalTo(&v); err != nil {
		t.Fatal(err)
	}
	return v.GetValue()
}
