// Package testenv gives integration tests the real dependencies: an embedded FerretDB (SQLite)
// and an embedded NATS with JetStream, started once per test binary, or external servers when
// NRM_TEST_MONGO_URI and NRM_TEST_NATS_URL are set. Each test gets its own database and NATS
// namespace, so tests never see each other's data, even on shared external servers.
package testenv

import (
	"context"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"google.golang.org/protobuf/proto"

	eventsv1 "github.com/nrm-albania/nrm/proto/nrm/events/v1"
	"github.com/nrm-albania/nrm/services/platform/embedded"
	"github.com/nrm-albania/nrm/services/platform/mongodb"
	"github.com/nrm-albania/nrm/services/platform/natsbus"
)

var (
	mongoOnce sync.Once
	mongoURI  string
	mongoErr  error
	// ferretdb is the embedded store, when the tests run on one.
	ferretdb *embedded.FerretDB

	natsOnce sync.Once
	natsURL  string
	natsErr  error
)

// MongoURI returns the URI of the store tests run against.
func MongoURI(t testing.TB) string {
	t.Helper()
	mongoOnce.Do(func() {
		if u := os.Getenv("NRM_TEST_MONGO_URI"); u != "" {
			mongoURI = u
			return
		}
		dir, err := os.MkdirTemp("", "nrm-ferretdb-")
		if err != nil {
			mongoErr = err
			return
		}
		f, err := embedded.StartFerretDB(embedded.FerretDBOptions{Addr: "127.0.0.1:0", SQLiteDir: dir, Logger: discardLogger()})
		if err != nil {
			mongoErr = err
			return
		}
		ferretdb, mongoURI = f, f.URI()
	})
	if mongoErr != nil {
		t.Fatalf("embedded FerretDB: %v", mongoErr)
	}
	return mongoURI
}

// IndexStore adds, on the embedded store, the _id indexes of tables created since its last
// round (embedded.FerretDB.IndexNow), for benchmarks that load data in bulk and then measure
// lookups. External stores index their own.
func IndexStore(t testing.TB) {
	t.Helper()
	MongoURI(t)
	if ferretdb == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := ferretdb.IndexNow(ctx); err != nil {
		t.Fatalf("index the embedded store: %v", err)
	}
}

// NATSURL returns the URL of the NATS server tests run against.
func NATSURL(t testing.TB) string {
	t.Helper()
	natsOnce.Do(func() {
		if u := os.Getenv("NRM_TEST_NATS_URL"); u != "" {
			natsURL = u
			return
		}
		dir, err := os.MkdirTemp("", "nrm-nats-")
		if err != nil {
			natsErr = err
			return
		}
		n, err := embedded.StartNATS("127.0.0.1:0", dir)
		if err != nil {
			natsErr = err
			return
		}
		natsURL = n.URL()
	})
	if natsErr != nil {
		t.Fatalf("embedded NATS: %v", natsErr)
	}
	return natsURL
}

// Name returns a name unique to this test run, usable as a database name or NATS namespace.
func Name(prefix string) string {
	return prefix + strings.ReplaceAll(uuid.NewString()[:8], "-", "")
}

// Database returns a fresh database for the test, dropped when it ends.
func Database(t testing.TB) *mongo.Database {
	t.Helper()
	c, err := mongodb.Connect(MongoURI(t), "nrm-test")
	if err != nil {
		t.Fatal(err)
	}
	db := c.Database(Name("t_"))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = db.Drop(ctx)
		_ = c.Disconnect(ctx)
	})
	return db
}

// Bus is a NATS connection with a namespace of the test's own, its streams provisioned.
type Bus struct {
	URL string
	NC  *nats.Conn
	JS  jetstream.JetStream
	NS  natsbus.Namespace
}

// NewBus connects to the test NATS in a fresh namespace and provisions its streams; they are
// deleted when the test ends.
func NewBus(t testing.TB) *Bus {
	t.Helper()
	b := BusOn(t, natsbus.Namespace(Name("t")))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := natsbus.Provision(ctx, b.JS, b.NS, 1, discardLogger()); err != nil {
		t.Fatalf("provision streams: %v", err)
	}
	return b
}

// BusOn connects to the test NATS in namespace ns without provisioning anything, for a test of
// what a service does on a bus of its own; the namespace's streams are deleted when the test ends.
func BusOn(t testing.TB, ns natsbus.Namespace) *Bus {
	t.Helper()
	url := NATSURL(t)
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatalf("connect to %s: %v", url, err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for _, s := range natsbus.Streams(ns, 1) {
			_ = js.DeleteStream(ctx, s.Name)
		}
		nc.Close()
	})
	return &Bus{URL: url, NC: nc, JS: js, NS: ns}
}

// Eventually polls cond until it holds or the wait runs out, then fails the test with what.
// It waits on a condition, never on a duration: a slow machine only makes it take longer.
func Eventually(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not true after %s", what, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// Publish publishes env on the namespaced subject with the event id as its message id, as the
// outbox relay does, and returns what was published.
func (b *Bus) Publish(t testing.TB, subject string, env *eventsv1.Envelope, hdr nats.Header) *nats.Msg {
	t.Helper()
	data, err := proto.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	if hdr == nil {
		hdr = nats.Header{}
	}
	hdr.Set(jetstream.MsgIDHeader, env.GetId())
	return b.PublishRaw(t, subject, data, hdr)
}

// PublishRaw publishes data with the headers on the namespaced subject and returns what was
// published.
func (b *Bus) PublishRaw(t testing.TB, subject string, data []byte, hdr nats.Header) *nats.Msg {
	t.Helper()
	m := nats.NewMsg(b.NS.Subject(subject))
	m.Data = data
	for k, v := range hdr {
		m.Header[k] = v
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := b.JS.PublishMsg(ctx, m); err != nil {
		t.Fatal(err)
	}
	return m
}

// StreamInfo returns the state of the namespaced stream name (e.g. natsbus.StreamDLQ).
func (b *Bus) StreamInfo(t testing.TB, name string) *jetstream.StreamInfo {
	t.Helper()
	info, _ := b.stream(t, name)
	return info
}

// stream returns the namespaced stream name and its state.
func (b *Bus) stream(t testing.TB, name string) (*jetstream.StreamInfo, jetstream.Stream) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := b.JS.Stream(ctx, b.NS.Stream(name))
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return info, s
}

// Messages returns the messages of the namespaced stream name, in stream order.
func (b *Bus) Messages(t testing.TB, name string) []*jetstream.RawStreamMsg {
	t.Helper()
	info, s := b.stream(t, name)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out []*jetstream.RawStreamMsg
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

// Envelopes returns the events of the namespaced stream name, in stream order.
func (b *Bus) Envelopes(t testing.TB, name string) []*eventsv1.Envelope {
	t.Helper()
	var out []*eventsv1.Envelope
	for _, m := range b.Messages(t, name) {
		env := &eventsv1.Envelope{}
		if err := proto.Unmarshal(m.Data, env); err != nil {
			t.Fatalf("event %d of %s: %v", m.Sequence, name, err)
		}
		out = append(out, env)
	}
	return out
}
