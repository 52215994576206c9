package outbox_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"google.golang.org/protobuf/types/known/wrapperspb"

	eventsv1 "github.com/nrm-albania/nrm/proto/nrm/events/v1"
	"github.com/nrm-albania/nrm/services/platform/embedded"
	"github.com/nrm-albania/nrm/services/platform/natsbus"
	"github.com/nrm-albania/nrm/services/platform/outbox"
	"github.com/nrm-albania/nrm/services/platform/testenv"
)

const things = "things"

// commit writes an aggregate with its events the way a service does: announce, then one insert.
func commit(t *testing.T, db *mongo.Database, id string, n int) []outbox.Pending {
	t.Helper()
	ctx := context.Background()
	var evs []outbox.Pending
	for i := range n {
		ev, err := outbox.NewEvent(ctx, "case.registered", id, 1, i, wrapperspb.String(fmt.Sprint(i)), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, ev)
	}
	a, err := outbox.Announce(ctx, db, things, id, evs, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Collection(things).InsertOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: outbox.Field, Value: outbox.Map(evs)}}); err != nil {
		t.Fatal(err)
	}
	if err := a.Confirm(ctx); err != nil {
		t.Fatal(err)
	}
	return evs
}

// commitUnconfirmed writes like commit but crashes before the confirmation.
func commitUnconfirmed(t *testing.T, db *mongo.Database, id string) outbox.Pending {
	t.Helper()
	ctx := context.Background()
	ev, err := outbox.NewEvent(ctx, "case.registered", id, 1, 0, wrapperspb.String(id), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := outbox.Announce(ctx, db, things, id, []outbox.Pending{ev}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Collection(things).InsertOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: outbox.Field, Value: outbox.Map([]outbox.Pending{ev})}}); err != nil {
		t.Fatal(err)
	}
	return ev
}

func newRelay(db *mongo.Database, bus *testenv.Bus, o outbox.RelayOptions) *outbox.Relay {
	return outbox.NewRelay(db, bus.JS, bus.NS, slog.New(slog.DiscardHandler), prometheus.NewRegistry(), o)
}

// announce announces the first event of version of aggregate, announced at `at` by the writer's
// clock.
func announce(t *testing.T, db *mongo.Database, aggregate string, version int64, at time.Time) (outbox.Pending, outbox.Announcement) {
	t.Helper()
	ev, err := outbox.NewEvent(context.Background(), "case.registered", aggregate, version, 0, wrapperspb.String(aggregate), at)
	if err != nil {
		t.Fatal(err)
	}
	a, err := outbox.Announce(context.Background(), db, things, aggregate, []outbox.Pending{ev}, at)
	if err != nil {
		t.Fatal(err)
	}
	return ev, a
}

// wantPublishedOnce fails unless the stream holds exactly the event id and waiting are the
// pointers.
func wantPublishedOnce(t *testing.T, db *mongo.Database, bus *testenv.Bus, id string, waiting int64) {
	t.Helper()
	if got := published(t, bus); len(got) != 1 || got[0] != id {
		t.Fatalf("published %v, want %s exactly once", got, id)
	}
	if n := backlog(t, db); n != waiting {
		t.Errorf("backlog %d, want %d", n, waiting)
	}
}

// clock is a relay's clock that moves only when the test moves it.
type clock struct{ now time.Time }

func newClock() *clock                   { return &clock{now: time.Date(2026, 10, 1, 9, 0, 0, 0, time.UTC)} }
func (c *clock) Now() time.Time          { return c.now }
func (c *clock) Advance(d time.Duration) { c.now = c.now.Add(d) }

// clockedRelay is a relay on c with a grace period of a minute and abandoning after an hour.
func clockedRelay(db *mongo.Database, bus *testenv.Bus, c *clock) *outbox.Relay {
	return newRelay(db, bus, outbox.RelayOptions{Grace: time.Minute, Abandon: time.Hour, Now: c.Now})
}

// drain drains r once and fails the test on an error.
func drain(t *testing.T, r *outbox.Relay) {
	t.Helper()
	if err := r.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// envelopes returns the events in the test's case stream, in stream order.
func envelopes(t *testing.T, bus *testenv.Bus) []*eventsv1.Envelope {
	t.Helper()
	return bus.Envelopes(t, natsbus.StreamCase)
}

// published returns the ids of the events in the test's case stream, in stream order.
func published(t *testing.T, bus *testenv.Bus) []string {
	t.Helper()
	var ids []string
	for _, env := range envelopes(t, bus) {
		ids = append(ids, env.GetId())
	}
	return ids
}

// payloads returns the payloads (wrapped strings) of the events in the test's case stream.
func payloads(t *testing.T, bus *testenv.Bus) []string {
	t.Helper()
	var out []string
	for _, env := range envelopes(t, bus) {
		var v wrapperspb.StringValue
		if err := env.GetPayload().UnmarshalTo(&v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v.GetValue())
	}
	return out
}

func backlog(t *testing.T, db *mongo.Database) int64 {
	t.Helper()
	n, err := outbox.Backlog(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func eventsInAggregate(t *testing.T, db *mongo.Database, id string) int {
	t.Helper()
	var doc struct {
		Outbox map[string]outbox.Event `bson:"outbox"`
	}
	if err := db.Collection(things).FindOne(context.Background(), bson.D{{Key: "_id", Value: id}}).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	return len(doc.Outbox)
}

func TestDrainPublishesInOrderOnceAndEmptiesTheOutbox(t *testing.T) {
	db, bus := testenv.Database(t), testenv.NewBus(t)
	evs := commit(t, db, "a", 3)
	r := newRelay(db, bus, outbox.RelayOptions{})
	if err := r.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := r.Drain(context.Background()); err != nil { // a second pass finds nothing to do
		t.Fatal(err)
	}
	got := published(t, bus)
	if len(got) != 3 || got[0] != evs[0].ID || got[1] != evs[1].ID || got[2] != evs[2].ID {
		t.Fatalf("published %v, want the 3 events in order", got)
	}
	if n := backlog(t, db); n != 0 {
		t.Errorf("backlog %d after drain", n)
	}
	if n := eventsInAggregate(t, db, "a"); n != 3 {
		t.Errorf("the aggregate holds %d events, want its 3 kept as the record of its commit", n)
	}
}

// The relay died after the write and before the publish: a new relay publishes the event once.
func TestEventsCommittedWhileNoRelayRanArePublishedOnceByTheNextRelay(t *testing.T) {
	db, bus := testenv.Database(t), testenv.NewBus(t)
	evs := commit(t, db, "b", 1)
	if got := published(t, bus); len(got) != 0 {
		t.Fatalf("published before any relay ran: %v", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go newRelay(db, bus, outbox.RelayOptions{Interval: 20 * time.Millisecond}).Run(ctx)
	testenv.Eventually(t, 10*time.Second, "event published", func() bool { return backlog(t, db) == 0 })
	if got := published(t, bus); len(got) != 1 || got[0] != evs[0].ID {
		t.Fatalf("published %v, want exactly %s", got, evs[0].ID)
	}
}

// The relay died after the publish and before it recorded it: the event goes out again and
// JetStream drops the copy by its Nats-Msg-Id.
func TestRepublishAfterCrashIsDroppedByTheStream(t *testing.T) {
	db, bus := testenv.Database(t), testenv.NewBus(t)
	evs := commit(t, db, "c", 1)
	// Publish as the crashed relay did, leaving the outbox untouched.
	subject := bus.NS.Subject(evs[0].Event.Subject)
	if _, err := bus.JS.Publish(context.Background(), subject, evs[0].Event.Data, jetstream.WithMsgID(evs[0].ID)); err != nil {
		t.Fatal(err)
	}
	if err := newRelay(db, bus, outbox.RelayOptions{}).Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := published(t, bus); len(got) != 1 {
		t.Fatalf("stream holds %d copies, want 1", len(got))
	}
	if n := backlog(t, db); n != 0 {
		t.Errorf("backlog %d", n)
	}
}

// A pointer whose document never appears is kept while its write might still land (well past
// the grace period), and given up only after Abandon; nothing is published for it. The ages
// are the relay's own: the writer's clock, a year behind here, does not count.
func TestOrphanPointersAreDroppedOnlyAfterAbandon(t *testing.T) {
	db, bus := testenv.Database(t), testenv.NewBus(t)
	announce(t, db, "ghost", 1, time.Now().AddDate(-1, 0, 0))
	c := newClock()
	relay := clockedRelay(db, bus, c)
	for _, step := range []struct {
		advance time.Duration
		want    int64
	}{
		{0, 1},                            // first seen: inside the grace period
		{2 * time.Minute, 1},              // no document yet: the write may still land
		{30 * time.Minute, 1},             // still within Abandon
		{30*time.Minute + time.Second, 0}, // an hour after the relay first saw it
	} {
		c.Advance(step.advance)
		drain(t, relay)
		if n := backlog(t, db); n != step.want {
			t.Fatalf("after %v more: backlog %d, want %d", step.advance, n, step.want)
		}
	}
	if got := published(t, bus); len(got) != 0 {
		t.Errorf("published %v for a write that never happened", got)
	}
}

func TestAnnounceTwiceIsHarmless(t *testing.T) {
	db := testenv.Database(t)
	ev, err := outbox.NewEvent(context.Background(), "case.registered", "d", 1, 0, wrapperspb.String("x"), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := outbox.Announce(context.Background(), db, things, "d", []outbox.Pending{ev}, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if n := backlog(t, db); n != 1 {
		t.Errorf("backlog %d, want 1", n)
	}
}

func TestEventIDsAreDerivedFromTheChange(t *testing.T) {
	a, b := outbox.EventID("x", 1, 0), outbox.EventID("x", 1, 0)
	if a != b {
		t.Fatal("same change, different ids")
	}
	for _, other := range []string{outbox.EventID("x", 2, 0), outbox.EventID("x", 1, 1), outbox.EventID("y", 1, 0)} {
		if other == a {
			t.Errorf("different changes share id %s", a)
		}
	}
	if _, err := outbox.NewEvent(context.Background(), "t", "x", 1, 16, wrapperspb.String(""), time.Now()); err == nil {
		t.Error("index 16 accepted; sequence numbers of successive versions would overlap")
	}
}

// NATS is down while changes are committed: they commit, wait in the outbox, and reach the
// stream once NATS is back.
func TestEventsWaitForNATSAndArriveWhenItReturns(t *testing.T) {
	if testing.Short() {
		t.Skip("restarts a NATS server")
	}
	db := testenv.Database(t)
	dir := t.TempDir()
	addr := freeAddr(t)
	srv, err := embedded.StartNATS(addr, dir)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	nc, err := natsbus.Connect("nats://"+addr, "relay-test", log)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ns := natsbus.Namespace("")
	if err := natsbus.Provision(context.Background(), js, ns, 1, log); err != nil {
		t.Fatal(err)
	}
	srv.Stop()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	relay := outbox.NewRelay(db, js, ns, log, prometheus.NewRegistry(), outbox.RelayOptions{Interval: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond})
	go relay.Run(ctx)
	for i := range 5 {
		commit(t, db, fmt.Sprintf("down-%d", i), 1)
		relay.Notify()
	}
	if n := backlog(t, db); n != 5 {
		t.Fatalf("backlog %d while NATS is down, want 5", n)
	}

	srv, err = embedded.StartNATS(addr, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	testenv.Eventually(t, 30*time.Second, "backlog drained after NATS returned", func() bool { return backlog(t, db) == 0 })
	s, err := js.Stream(context.Background(), natsbus.StreamCase)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 5 {
		t.Errorf("stream holds %d events, want 5", info.State.Msgs)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// The service crashed after its write and before confirming it: the relay finds the event in the
// aggregate once the grace period is over and publishes it; not before, since the write might
// have been in flight.
func TestCommittedButUnconfirmedEventsArePublishedAfterGrace(t *testing.T) {
	db, bus := testenv.Database(t), testenv.NewBus(t)
	ev := commitUnconfirmed(t, db, "u")
	c := newClock()
	relay := clockedRelay(db, bus, c)
	drain(t, relay)
	c.Advance(time.Minute - time.Second)
	drain(t, relay)
	if got := published(t, bus); len(got) != 0 {
		t.Fatalf("published %v inside the grace period", got)
	}
	c.Advance(time.Second)
	drain(t, relay)
	wantPublishedOnce(t, db, bus, ev.ID, 0)
}

// An unconfirmed event holds back the aggregate's later events: they never overtake it.
func TestAnUnconfirmedEventHoldsBackLaterOnes(t *testing.T) {
	db, bus := testenv.Database(t), testenv.NewBus(t)
	ctx := context.Background()
	var announced []outbox.Announcement
	for v := int64(1); v <= 2; v++ {
		_, a := announce(t, db, "o", v, time.Now())
		announced = append(announced, a)
	}
	if err := announced[1].Confirm(ctx); err != nil { // version 2 confirmed, version 1 not
		t.Fatal(err)
	}
	c := newClock()
	relay := clockedRelay(db, bus, c)
	for _, advance := range []time.Duration{0, 2 * time.Minute} { // inside the grace period, then no document yet
		c.Advance(advance)
		drain(t, relay)
		if got := published(t, bus); len(got) != 0 {
			t.Errorf("version 2 published ahead of the unresolved version 1: %v", got)
		}
	}
}

// An aggregate that commits each version as a document of its own ("<id>@<version>"): the
// relay finds an unconfirmed event in that document, not in one named after the aggregate, and
// keeps the pointer of a version whose document was not written yet, since it still may be.
func TestEventsInVersionDocumentsAreFoundAfterGrace(t *testing.T) {
	db, bus := testenv.Database(t), testenv.NewBus(t)
	ctx := context.Background()
	var evs []outbox.Pending
	for v := int64(1); v <= 2; v++ {
		ev, err := outbox.NewEvent(ctx, "case.updated", "p", v, 0, wrapperspb.String("x"), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		doc := fmt.Sprintf("p@%d", v)
		if _, err := outbox.AnnounceIn(ctx, db, things, doc, "p", []outbox.Pending{ev}, time.Now()); err != nil {
			t.Fatal(err)
		}
		evs = append(evs, ev)
	}
	// Version 1 committed (crashed before confirming); version 2's write has not happened.
	if _, err := db.Collection(things).InsertOne(ctx, bson.D{{Key: "_id", Value: "p@1"}, {Key: outbox.Field, Value: outbox.Map(evs[:1])}}); err != nil {
		t.Fatal(err)
	}
	c := newClock()
	relay := clockedRelay(db, bus, c)
	drain(t, relay)
	c.Advance(time.Minute)
	drain(t, relay)
	wantPublishedOnce(t, db, bus, evs[0].ID, 1) // version 2's pointer kept
}

// Two writers race for version 2 of an aggregate: their events share an id, and the loser
// announced first. What is published is the winner's event, whether the winner confirmed it or
// crashed before confirming (then the relay takes it from the committed document).
func TestTheWinnersEventIsPublishedWhenWritersRaceForAVersion(t *testing.T) {
	for _, confirmed := range []bool{true, false} {
		t.Run(fmt.Sprint("confirmed=", confirmed), func(t *testing.T) {
			db, bus := testenv.Database(t), testenv.NewBus(t)
			ctx := context.Background()
			loser, err := outbox.NewEvent(ctx, "case.updated", "r", 2, 0, wrapperspb.String("loser"), time.Now())
			if err != nil {
				t.Fatal(err)
			}
			winner, err := outbox.NewEvent(ctx, "case.updated", "r", 2, 0, wrapperspb.String("winner"), time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if loser.ID != winner.ID {
				t.Fatal("the racing events do not share their id; the test is moot")
			}
			var won outbox.Announcement
			for _, e := range []outbox.Pending{loser, winner} {
				if won, err = outbox.AnnounceIn(ctx, db, things, "r@2", "r", []outbox.Pending{e}, time.Now()); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := db.Collection(things).InsertOne(ctx, bson.D{{Key: "_id", Value: "r@2"}, {Key: outbox.Field, Value: outbox.Map([]outbox.Pending{winner})}}); err != nil {
				t.Fatal(err)
			}
			if confirmed {
				if err := won.Confirm(ctx); err != nil {
					t.Fatal(err)
				}
			}
			c := newClock()
			relay := clockedRelay(db, bus, c)
			drain(t, relay)
			c.Advance(time.Minute)
			drain(t, relay)
			if got := payloads(t, bus); len(got) != 1 || got[0] != "winner" {
				t.Errorf("published %v, want the winner's event once", got)
			}
		})
	}
}

// The write outlived the grace period: the relay swept while the document did not exist yet, and
// the commit landed afterwards. The event must still be published, exactly once: found by the
// relay if the writer crashed before confirming, announced again by Confirm if the relay had
// even given the pointer up.
func TestALateCommitIsStillPublishedOnce(t *testing.T) {
	for _, tc := range []struct {
		name     string
		late     time.Duration // how long after the announcement the commit lands
		confirms bool          // the writer lives to confirm
	}{
		{"past grace, writer crashed", 2 * time.Minute, false},
		{"past grace, writer confirms", 2 * time.Minute, true},
		{"past abandon, writer confirms", 2 * time.Hour, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, bus := testenv.Database(t), testenv.NewBus(t)
			ctx := context.Background()
			ev, a := announce(t, db, "late", 1, time.Now())
			c := newClock()
			relay := clockedRelay(db, bus, c)
			drain(t, relay)
			for waited := time.Duration(0); waited < tc.late; waited += time.Minute {
				c.Advance(time.Minute)
				drain(t, relay) // sweeps while the write is in flight
			}
			if _, err := db.Collection(things).InsertOne(ctx, bson.D{{Key: "_id", Value: "late"}, {Key: outbox.Field, Value: outbox.Map([]outbox.Pending{ev})}}); err != nil {
				t.Fatal(err)
			}
			if tc.confirms {
				if err := a.Confirm(ctx); err != nil {
					t.Fatal(err)
				}
			}
			for range 2 {
				c.Advance(time.Minute)
				drain(t, relay)
			}
			wantPublishedOnce(t, db, bus, ev.ID, 0)
		})
	}
}

// Pointers the relay must keep waiting for fill whole batches: the events announced after them
// still go out, in the same drain.
func TestUnresolvedPointersDoNotStopTheOnesBehindThem(t *testing.T) {
	db, bus := testenv.Database(t), testenv.NewBus(t)
	for i := range 5 {
		announce(t, db, fmt.Sprint("ghost-", i), 1, time.Now().Add(-time.Hour))
	}
	evs := commit(t, db, "real", 1)
	c := newClock()
	relay := newRelay(db, bus, outbox.RelayOptions{Grace: time.Minute, Abandon: time.Hour, Now: c.Now, Batch: 2})
	drain(t, relay)
	wantPublishedOnce(t, db, bus, evs[0].ID, 5) // the unresolved pointers kept
}

// The loser of a race for a version announced an event the winner's change does not have: the
// document exists without it, so that write can never land, and its pointer is dropped once the
// grace period is over, without holding back the winner's event.
func TestAPointerWhoseDocumentHoldsOtherEventsIsDropped(t *testing.T) {
	db, bus := testenv.Database(t), testenv.NewBus(t)
	ctx := context.Background()
	var evs []outbox.Pending
	for i := range 2 {
		ev, err := outbox.NewEvent(ctx, "case.updated", "w", 2, i, wrapperspb.String(fmt.Sprint(i)), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, ev)
	}
	if _, err := outbox.AnnounceIn(ctx, db, things, "w@2", "w", evs, time.Now()); err != nil { // the loser's two
		t.Fatal(err)
	}
	if _, err := db.Collection(things).InsertOne(ctx, bson.D{{Key: "_id", Value: "w@2"}, {Key: outbox.Field, Value: outbox.Map(evs[:1])}}); err != nil {
		t.Fatal(err) // the winner's one
	}
	c := newClock()
	relay := clockedRelay(db, bus, c)
	drain(t, relay)
	c.Advance(time.Minute)
	drain(t, relay)
	wantPublishedOnce(t, db, bus, evs[0].ID, 0) // the winner's; the loser's extra pointer dropped
}
