package aggregate_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"google.golang.org/protobuf/types/known/wrapperspb"

	eventsv1 "github.com/nrm-albania/nrm/proto/nrm/events/v1"
	"github.com/nrm-albania/nrm/services/platform/aggregate"
	"github.com/nrm-albania/nrm/services/platform/testenv"
)

// twoEvents is a command whose change has two events, "<note>#0" and "<note>#1".
func twoEvents(id, text string) aggregate.Command[referral, entry] {
	return aggregate.Command[referral, entry]{ID: id,
		Decide: func(r referral) (aggregate.Outcome[referral, entry], error) {
			r.Note = text
			return aggregate.Outcome[referral, entry]{Next: r, Change: entry{Kind: "NOTED"}, Events: []aggregate.Event{
				{Type: "referral.updated", Payload: wrapperspb.String(text + "#0")},
				{Type: "referral.noted", Payload: wrapperspb.String(text + "#1")},
			}}, nil
		}}
}

// projection is what a consumer builds from the events: each referral's latest note, applied
// once per version whatever the stream redelivers.
type projection map[string]struct {
	version int64
	note    string
}

func (p projection) apply(t testing.TB, env *eventsv1.Envelope) {
	t.Helper()
	id, v := env.GetAggregateId(), env.GetAggregateVersion()
	if v < p[id].version || env.GetType() != "referral.updated" {
		return
	}
	text := payload(t, env)
	p[id] = struct {
		version int64
		note    string
	}{v, text[:len(text)-len("#0")]}
}

// Changes of several aggregates, committed concurrently, leave in order per aggregate — by
// version, and within a change in the order of its events — and a consumer that replays the
// whole stream, twice over, builds the same projection as one that followed it live, which is
// the store's own state.
func TestEventsLeaveInOrderPerAggregateAndReplayToTheSameProjection(t *testing.T) {
	ctx := caller()
	db, bus := testenv.Database(t), testenv.NewBus(t)
	s := newStore(db)
	ids := []string{"ra", "rb", "rc"}
	const changes = 5
	r := relay(db, bus, &clock{now: time.Now()})
	live, seen := projection{}, 0
	follow := func() {
		drain(t, r)
		envs := published(t, bus)
		for _, env := range envs[seen:] {
			live.apply(t, env)
		}
		seen = len(envs)
	}
	for _, id := range ids {
		created(t, s, id, id+"-1")
	}
	var wg sync.WaitGroup
	for n := 2; n <= changes; n++ {
		for _, id := range ids {
			wg.Go(func() {
				if _, _, err := s.Execute(ctx, twoEvents(id, fmt.Sprintf("%s-%d", id, n))); err != nil {
					t.Error(err)
				}
			})
		}
		follow()
	}
	wg.Wait()
	follow()

	envs := published(t, bus)
	if want := len(ids) * (1 + 2*(changes-1)); len(envs) != want {
		t.Fatalf("%d events published, want %d", len(envs), want)
	}
	last := map[string][2]int64{} // per aggregate: version and index of its last event
	for _, env := range envs {
		id, v := env.GetAggregateId(), env.GetAggregateVersion()
		index := int64(0)
		if env.GetType() == "referral.noted" {
			index = 1
		}
		if prev, ok := last[id]; ok && (v < prev[0] || (v == prev[0] && index <= prev[1])) {
			t.Errorf("%s: event %d#%d after %d#%d", id, v, index, prev[0], prev[1])
		}
		last[id] = [2]int64{v, index}
	}

	replayed := projection{}
	for range 2 {
		for _, env := range envs {
			replayed.apply(t, env)
		}
	}
	for _, id := range ids {
		current, err := s.Current(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if live[id].note != current.Note || replayed[id] != live[id] || live[id].version != current.Version {
			t.Errorf("%s: live %+v, replayed %+v, store at version %d with %q", id, live[id], replayed[id], current.Version, current.Note)
		}
	}
	history, err := s.History(ctx, "rb", 0, changes)
	if err != nil {
		t.Fatal(err)
	}
	var versions []int64
	for _, h := range history {
		versions = append(versions, h.Version)
	}
	if !slices.Equal(versions, []int64{1, 2, 3, 4, 5}) {
		t.Errorf("history versions %v", versions)
	}
}

// A slower writer of an older version overwrote the document (FerretDB's replace is not a
// compare-and-set): the next read through Current, and so the next change, rolls it forward
// rather than building on the old version.
func TestAnOverwrittenDocumentIsRolledForward(t *testing.T) {
	ctx := caller()
	db := testenv.Database(t)
	s := newStore(db)
	old := created(t, s, "rd", "v1")
	if _, _, err := s.Execute(ctx, note("rd", 1, "v2")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Collection().ReplaceOne(ctx, bson.D{{Key: "_id", Value: "rd"}}, old); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Current(ctx, "rd"); err != nil || got.Version != 2 || got.Note != "v2" {
		t.Fatalf("Current: %+v, %v", got, err)
	}
	if got, _, err := s.Execute(ctx, note("rd", 2, "v3")); err != nil || got.Version != 3 {
		t.Fatalf("the next change: %+v, %v", got, err)
	}
}
