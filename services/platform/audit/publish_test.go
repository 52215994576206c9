package audit_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/proto"

	eventsv1 "github.com/nrm-albania/nrm/proto/nrm/events/v1"
	"github.com/nrm-albania/nrm/services/platform/audit"
	"github.com/nrm-albania/nrm/services/platform/natsbus"
	"github.com/nrm-albania/nrm/services/platform/outbox"
	"github.com/nrm-albania/nrm/services/platform/testenv"
)

// published returns the messages on the service's audit subject, in stream order.
func published(t *testing.T, bus *testenv.Bus) []*jetstream.RawStreamMsg {
	t.Helper()
	var msgs []*jetstream.RawStreamMsg
	for _, m := range bus.Messages(t, natsbus.StreamAudit) {
		if m.Subject == bus.NS.Subject(audit.Subject(service)) {
			msgs = append(msgs, m)
		}
	}
	return msgs
}

// Every record reaches the audit stream exactly once through the service's outbox relay, even
// when replicas contend for the head (the losers' announced events are never published), and
// publishing does not disturb the chain.
func TestRecordsArePublishedOnceEachOnTheAuditStream(t *testing.T) {
	const writers, each = 4, 10
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	db, bus := testenv.Database(t), testenv.NewBus(t)
	relay := outbox.NewRelay(db, bus.JS, bus.NS, slog.New(slog.DiscardHandler), prometheus.NewRegistry(), outbox.RelayOptions{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = relay.Run(ctx)
	}()
	defer func() { cancel(); <-done }()

	var (
		mu   sync.Mutex
		recs = map[string]audit.Record{}
		wg   sync.WaitGroup
	)
	for w := range writers {
		tr := audit.NewTrail(db, service, relay) // one per replica
		wg.Go(func() {
			for i := range each {
				r, err := tr.Record(ctx, entry(w*each+i))
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				recs[r.ID] = r
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	testenv.Eventually(t, 30*time.Second, "every record published", func() bool {
		return len(published(t, bus)) >= writers*each
	})
	testenv.Eventually(t, 30*time.Second, "every announced event published and its pointer gone", func() bool {
		n, err := outbox.Backlog(ctx, db)
		return err == nil && n == 0
	})
	// One more pass finds nothing left to publish.
	if err := relay.Drain(ctx); err != nil {
		t.Fatal(err)
	}

	msgs := published(t, bus)
	if len(msgs) != writers*each {
		t.Fatalf("%d messages on the audit subject for %d records", len(msgs), writers*each)
	}
	seen := map[string]bool{}
	for _, m := range msgs {
		got, err := audit.DecodePublished(m.Data)
		if err != nil {
			t.Fatal(err)
		}
		want, ok := recs[got.ID]
		switch {
		case !ok:
			t.Errorf("published record %s (seq %d) was never returned by Record", got.ID, got.Seq)
		case seen[got.ID]:
			t.Errorf("record %s published twice", got.ID)
		case got.Hash != want.Hash || got.Seq != want.Seq:
			t.Errorf("published copy of record %d differs: %+v", want.Seq, got)
		}
		seen[got.ID] = true
		var env eventsv1.Envelope
		if err := proto.Unmarshal(m.Data, &env); err != nil {
			t.Fatal(err)
		}
		if env.GetType() != "audit."+service || env.GetAggregateId() != got.ID || env.GetAggregateVersion() != got.Seq ||
			m.Header.Get(jetstream.MsgIDHeader) != env.GetId() {
			t.Errorf("envelope %+v (msg id %q) does not describe record %d", &env, m.Header.Get(jetstream.MsgIDHeader), got.Seq)
		}
	}
	wantIntact(t, verify(t, db), writers*each)

	// The stream is the anchor outside the database: it reveals the removal of the newest
	// records, which the chain alone cannot.
	anchor, ok, err := audit.StreamAnchor(ctx, bus.JS, bus.NS, service)
	if err != nil || !ok {
		t.Fatalf("stream anchor: %v %v", ok, err)
	}
	wantIntact(t, verify(t, db, anchor), writers*each)
	for s := anchor.Seq; s <= writers*each; s++ {
		remove(t, db, s)
	}
	if res := verify(t, db, anchor); res.Intact || res.Kind != audit.ProblemTruncated || res.FirstBadSeq != anchor.Seq {
		t.Errorf("after removing records %d.. verify with the stream anchor = %+v, want truncated at %d", anchor.Seq, res, anchor.Seq)
	}
}

func TestStreamAnchorOfAnUnpublishedTrail(t *testing.T) {
	bus := testenv.NewBus(t)
	if _, ok, err := audit.StreamAnchor(context.Background(), bus.JS, bus.NS, service); ok || err != nil {
		t.Errorf("anchor found (%v) or error (%v) before anything was published", ok, err)
	}
}
