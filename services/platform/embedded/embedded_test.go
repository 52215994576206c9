package embedded_test

import (
	"context"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/nrm-albania/nrm/services/platform/embedded"
)

// childEnv marks the child process of a test that must observe a crash from outside.
const childEnv = "NRM_EMBEDDED_TEST_CHILD"

// returnsWithin bounds the tests of failures that must not hang.
const returnsWithin = time.Minute

func TestStartFerretDBNeedsExactlyOneBackend(t *testing.T) {
	tests := []struct {
		name string
		o    embedded.FerretDBOptions
		want string
	}{
		{"neither", embedded.FerretDBOptions{Addr: "127.0.0.1:0"}, "a SQLite directory or a PostgreSQL URL is required"},
		{"both", embedded.FerretDBOptions{Addr: "127.0.0.1:0", SQLiteDir: t.TempDir(), PostgreSQLURL: "postgres://127.0.0.1:5432/nrm"}, "not both"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.o.Logger = discard()
			f, err := embedded.StartFerretDB(tt.o)
			if err == nil {
				f.Stop()
				t.Fatal("started")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want it to say %q", err, tt.want)
			}
		})
	}
}

func TestStartFerretDBServesMongoDBOnSQLite(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	f, err := embedded.StartFerretDB(embedded.FerretDBOptions{Addr: "127.0.0.1:0", SQLiteDir: dir, Logger: discard()})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Stop()
	if !strings.HasPrefix(f.URI(), "mongodb://127.0.0.1:") {
		t.Errorf("URI %q", f.URI())
	}
	c, err := mongo.Connect(options.Client().ApplyURI(f.URI()))
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxFor(t)
	defer c.Disconnect(ctx)
	coll := c.Database("nrm_test").Collection("things")
	if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: "a"}}); err != nil {
		t.Fatal(err)
	}
	if n, err := coll.CountDocuments(ctx, bson.D{}); err != nil || n != 1 {
		t.Errorf("count %d, %v", n, err)
	}
}

func TestStartFerretDBOnATakenPortFailsAndTheProcessSurvives(t *testing.T) {
	if os.Getenv(childEnv) == "" {
		cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.v")
		cmd.Env = append(os.Environ(), childEnv+"=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("the process did not survive a failed start: %v\n%s", err, out)
		}
		return
	}
	// In the child process.
	taken := listen(t)
	err := within(t, func() error {
		f, err := embedded.StartFerretDB(embedded.FerretDBOptions{Addr: taken, SQLiteDir: t.TempDir(), Logger: discard()})
		if err == nil {
			f.Stop()
		}
		return err
	})
	if err == nil {
		t.Fatalf("started on the taken %s", taken)
	}
	// Give leaked resources' finalizers a chance to run.
	for range 20 {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
}

func TestStartNATSServesJetStream(t *testing.T) {
	t.Parallel()
	n, err := embedded.StartNATS("127.0.0.1:0", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop()
	if !strings.HasPrefix(n.URL(), "nats://127.0.0.1:") || strings.HasSuffix(n.URL(), ":0") {
		t.Errorf("URL %q, want a bound local port", n.URL())
	}
	js := jetStream(t, n.URL())
	if _, err := js.AccountInfo(ctxFor(t)); err != nil {
		t.Errorf("JetStream: %v", err)
	}
}

func TestStartNATSKeepsStreamsAcrossRestarts(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	n, err := embedded.StartNATS("127.0.0.1:0", dir)
	if err != nil {
		t.Fatal(err)
	}
	js := jetStream(t, n.URL())
	if _, err := js.CreateStream(ctxFor(t), jetstream.StreamConfig{Name: "KEPT", Subjects: []string{"kept"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctxFor(t), "kept", []byte("x")); err != nil {
		t.Fatal(err)
	}
	n.Stop()

	again, err := embedded.StartNATS("127.0.0.1:0", dir)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Stop()
	s, err := jetStream(t, again.URL()).Stream(ctxFor(t), "KEPT")
	if err != nil {
		t.Fatalf("stream lost across the restart: %v", err)
	}
	if msgs := s.CachedInfo().State.Msgs; msgs != 1 {
		t.Errorf("%d messages after the restart, want 1", msgs)
	}
}

func TestStartNATSRejectsABadAddress(t *testing.T) {
	for _, addr := range []string{"127.0.0.1", "127.0.0.1:port", ""} {
		t.Run(addr, func(t *testing.T) {
			n, err := embedded.StartNATS(addr, t.TempDir())
			if err == nil {
				n.Stop()
				t.Fatalf("started on %q", addr)
			}
		})
	}
}

func TestStartNATSOnATakenPortFails(t *testing.T) {
	t.Parallel()
	taken := listen(t)
	err := within(t, func() error {
		n, err := embedded.StartNATS(taken, t.TempDir())
		if err == nil {
			n.Stop()
		}
		return err
	})
	if err == nil {
		t.Fatalf("started on the taken %s", taken)
	}
}

// listen occupies a local port until the test ends and returns its address.
func listen(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l.Addr().String()
}

// within runs f and fails the test if it has not returned within returnsWithin.
func within(t *testing.T, f func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-time.After(returnsWithin):
		t.Fatalf("still running after %s", returnsWithin)
		return nil
	}
}

func jetStream(t *testing.T, url string) jetstream.JetStream {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }
