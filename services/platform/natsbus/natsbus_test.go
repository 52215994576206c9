package natsbus_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/nrm-albania/nrm/services/platform/natsbus"
	"github.com/nrm-albania/nrm/services/platform/testenv"
)

func TestNamespace(t *testing.T) {
	tests := []struct {
		ns                   natsbus.Namespace
		stream, subject      string
		wantStream, wantSubj string
	}{
		{ns: "", stream: "NRM_CASE", subject: "nrm.case.registered", wantStream: "NRM_CASE", wantSubj: "nrm.case.registered"},
		{ns: "staging", stream: "NRM_CASE", subject: "nrm.case.registered", wantStream: "STAGING_NRM_CASE", wantSubj: "staging.nrm.case.registered"},
		{ns: "t1a2", stream: "NRM_DLQ", subject: "nrm.dlq.>", wantStream: "T1A2_NRM_DLQ", wantSubj: "t1a2.nrm.dlq.>"},
	}
	for _, tt := range tests {
		if got := tt.ns.Stream(tt.stream); got != tt.wantStream {
			t.Errorf("Namespace(%q).Stream(%q) = %q, want %q", tt.ns, tt.stream, got, tt.wantStream)
		}
		if got := tt.ns.Subject(tt.subject); got != tt.wantSubj {
			t.Errorf("Namespace(%q).Subject(%q) = %q, want %q", tt.ns, tt.subject, got, tt.wantSubj)
		}
	}
}

func TestStreams(t *testing.T) {
	type want struct {
		name     string
		subjects []string
	}
	one := func(name, subject string) want { return want{name, []string{subject}} }
	tests := []struct {
		ns       natsbus.Namespace
		replicas int
		wantRepl int
		want     []want
	}{
		{
			ns: "", replicas: 1, wantRepl: 1,
			want: []want{
				one("NRM_CASE", "nrm.case.>"), one("NRM_REFERRAL", "nrm.referral.>"),
				{"NRM_MEETING", []string{"nrm.meeting.>", "nrm.decision.>", "nrm.action.>", "nrm.correspondence.>", "nrm.rules.>"}},
				one("NRM_REPORT", "nrm.report.>"), one("NRM_AUDIT", "nrm.audit.>"), one("NRM_DLQ", "nrm.dlq.>"),
			},
		},
		{
			ns: "prod", replicas: 3, wantRepl: 3,
			want: []want{
				one("PROD_NRM_CASE", "prod.nrm.case.>"), one("PROD_NRM_REFERRAL", "prod.nrm.referral.>"),
				{"PROD_NRM_MEETING", []string{"prod.nrm.meeting.>", "prod.nrm.decision.>", "prod.nrm.action.>", "prod.nrm.correspondence.>", "prod.nrm.rules.>"}},
				one("PROD_NRM_REPORT", "prod.nrm.report.>"), one("PROD_NRM_AUDIT", "prod.nrm.audit.>"), one("PROD_NRM_DLQ", "prod.nrm.dlq.>"),
			},
		},
		{ns: "x", replicas: 0, wantRepl: 1},  // at least one replica
		{ns: "x", replicas: -2, wantRepl: 1}, // at least one replica
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("ns=%q/replicas=%d", tt.ns, tt.replicas), func(t *testing.T) {
			got := natsbus.Streams(tt.ns, tt.replicas)
			if len(got) != 6 {
				t.Fatalf("%d streams, want 6", len(got))
			}
			for i, s := range got {
				if tt.want != nil && (s.Name != tt.want[i].name || !slices.Equal(s.Subjects, tt.want[i].subjects)) {
					t.Errorf("stream %d = %s %v, want %s %v", i, s.Name, s.Subjects, tt.want[i].name, tt.want[i].subjects)
				}
				if s.Replicas != tt.wantRepl {
					t.Errorf("%s: %d replicas, want %d", s.Name, s.Replicas, tt.wantRepl)
				}
				if s.Storage != jetstream.FileStorage || s.Retention != jetstream.LimitsPolicy {
					t.Errorf("%s: storage %v retention %v, want file storage and limits retention", s.Name, s.Storage, s.Retention)
				}
				if s.Duplicates != natsbus.DuplicateWindow {
					t.Errorf("%s: duplicate window %s", s.Name, s.Duplicates)
				}
				if s.Description == "" {
					t.Errorf("%s has no description", s.Name)
				}
				isDLQ := strings.HasSuffix(s.Name, natsbus.StreamDLQ)
				if wantAge := map[bool]time.Duration{true: 30 * 24 * time.Hour}[isDLQ]; s.MaxAge != wantAge {
					t.Errorf("%s: max age %s, want %s", s.Name, s.MaxAge, wantAge)
				}
			}
		})
	}
}

func TestDLQSubjectsFallInTheDLQStream(t *testing.T) {
	ns := natsbus.Namespace("abc")
	dlq := natsbus.Streams(ns, 1)[5]
	subject := ns.Subject(natsbus.SubjectDLQPrefix + "stats.nrm.case.registered")
	if dlq.Name != ns.Stream(natsbus.StreamDLQ) || !matches(dlq.Subjects[0], subject) {
		t.Errorf("%s does not fall in %s %v", subject, dlq.Name, dlq.Subjects)
	}
}

func TestProvisionCreatesEveryStream(t *testing.T) {
	js := connect(t)
	ns := freshNamespace(t, js)
	if err := natsbus.Provision(ctxFor(t), js, ns, 1, discard()); err != nil {
		t.Fatal(err)
	}
	for _, want := range natsbus.Streams(ns, 1) {
		s, err := js.Stream(ctxFor(t), want.Name)
		if err != nil {
			t.Fatalf("stream %s: %v", want.Name, err)
		}
		assertManaged(t, s.CachedInfo().Config, want)
	}
}

func TestProvisionTwiceLeavesUnchangedStreamsAlone(t *testing.T) {
	js, nc := connectBoth(t)
	ns := freshNamespace(t, js)
	if err := natsbus.Provision(ctxFor(t), js, ns, 1, discard()); err != nil {
		t.Fatal(err)
	}
	before := infos(t, js, ns)
	updates := watchUpdateRequests(t, ns)

	if err := natsbus.Provision(ctxFor(t), js, ns, 1, discard()); err != nil {
		t.Fatalf("second Provision: %v", err)
	}

	if got := updates.until(t, nc); len(got) != 0 {
		t.Errorf("Provision sent update requests for unchanged streams %v", got)
	}
	after := infos(t, js, ns)
	for name, b := range before {
		a := after[name]
		if !a.Created.Equal(b.Created) {
			t.Errorf("%s re-created: %s, then %s", name, b.Created, a.Created)
		}
		assertManaged(t, a.Config, b.Config)
	}
}

func TestProvisionOnlyUpdatesTheStreamThatDiffers(t *testing.T) {
	js, nc := connectBoth(t)
	ns := freshNamespace(t, js)
	if err := natsbus.Provision(ctxFor(t), js, ns, 1, discard()); err != nil {
		t.Fatal(err)
	}
	changed := info(t, js, ns.Stream(natsbus.StreamReport)).Config
	changed.Description = "changed by hand"
	if _, err := js.UpdateStream(ctxFor(t), changed); err != nil {
		t.Fatal(err)
	}
	updates := watchUpdateRequests(t, ns)

	if err := natsbus.Provision(ctxFor(t), js, ns, 1, discard()); err != nil {
		t.Fatal(err)
	}

	if got := updates.until(t, nc); !slices.Equal(got, []string{changed.Name}) {
		t.Errorf("update requests for %v, want only %s", got, changed.Name)
	}
}

func TestProvisionUpdatesAStreamThatDiffers(t *testing.T) {
	tests := []struct {
		name   string
		change func(ns natsbus.Namespace, c *jetstream.StreamConfig)
	}{
		{"description", func(_ natsbus.Namespace, c *jetstream.StreamConfig) { c.Description = "created by hand" }},
		{"subjects", func(ns natsbus.Namespace, c *jetstream.StreamConfig) {
			c.Subjects = []string{ns.Subject("nrm.case.registered")}
		}},
		{"duplicate window", func(_ natsbus.Namespace, c *jetstream.StreamConfig) { c.Duplicates = time.Minute }},
		{"max age", func(_ natsbus.Namespace, c *jetstream.StreamConfig) { c.MaxAge = 24 * time.Hour }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			js := connect(t)
			ns := freshNamespace(t, js)
			want := natsbus.Streams(ns, 1)[0] // the case stream
			other := want
			tt.change(ns, &other)
			if _, err := js.CreateStream(ctxFor(t), other); err != nil {
				t.Fatal(err)
			}
			if _, err := js.Publish(ctxFor(t), ns.Subject("nrm.case.registered"), []byte("kept")); err != nil {
				t.Fatal(err)
			}
			created := info(t, js, want.Name).Created

			if err := natsbus.Provision(ctxFor(t), js, ns, 1, discard()); err != nil {
				t.Fatal(err)
			}

			got := info(t, js, want.Name)
			assertManaged(t, got.Config, want)
			if !got.Created.Equal(created) {
				t.Errorf("stream re-created instead of updated")
			}
			if got.State.Msgs != 1 {
				t.Errorf("%d messages after the update, want the 1 published before", got.State.Msgs)
			}
		})
	}
}

func TestProvisionGivesUpWhenTheContextEnds(t *testing.T) {
	nc, err := natsbus.Connect("nats://"+closedAddr(t), "test", discard())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	err = natsbus.Provision(ctx, js, "down", 1, discard())
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Provision = %v, want the context's error", err)
	}
}

func TestConnectToAServerThatIsDownSucceedsAndRetries(t *testing.T) {
	nc, err := natsbus.Connect("nats://"+closedAddr(t), "nrm-test", discard())
	if err != nil {
		t.Fatalf("Connect = %v; a service must start while NATS is down", err)
	}
	defer nc.Close()
	if nc.IsConnected() {
		t.Error("connected to a closed port")
	}
	if nc.Opts.MaxReconnect != -1 || nc.Opts.Name != "nrm-test" {
		t.Errorf("max reconnect %d, name %q", nc.Opts.MaxReconnect, nc.Opts.Name)
	}
}

func TestCheck(t *testing.T) {
	t.Run("connected", func(t *testing.T) {
		bus := testenv.NewBus(t)
		nc, err := natsbus.Connect(bus.URL, "nrm-test", discard())
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		js, _ := jetstream.New(nc)
		if err := natsbus.Check(nc, js)(ctxFor(t)); err != nil {
			t.Errorf("Check = %v", err)
		}
	})
	t.Run("down", func(t *testing.T) {
		nc, err := natsbus.Connect("nats://"+closedAddr(t), "nrm-test", discard())
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		js, _ := jetstream.New(nc)
		err = natsbus.Check(nc, js)(ctxFor(t))
		if err == nil || !strings.HasPrefix(err.Error(), "nats is ") {
			t.Errorf("Check = %v, want it to say the connection state", err)
		}
	})
}

// updateWatch sees the stream update requests of a namespace, in the order they were sent.
type updateWatch struct {
	ns      natsbus.Namespace
	barrier string
	ch      chan *nats.Msg
}

// watchUpdateRequests subscribes, on a connection of its own, to the JetStream API's stream
// update requests.
func watchUpdateRequests(t *testing.T, ns natsbus.Namespace) *updateWatch {
	t.Helper()
	nc, err := nats.Connect(testenv.NATSURL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	u := &updateWatch{ns: ns, barrier: "test.barrier." + string(ns), ch: make(chan *nats.Msg, 256)}
	// One channel for both subscriptions keeps the order in which the messages arrived.
	for _, subj := range []string{"$JS.API.STREAM.UPDATE.*", u.barrier} {
		if _, err := nc.ChanSubscribe(subj, u.ch); err != nil {
			t.Fatal(err)
		}
	}
	if err := nc.Flush(); err != nil { // the subscriptions are registered on the server
		t.Fatal(err)
	}
	return u
}

// until publishes a barrier on sender, the connection the requests were sent on, and returns the
// streams of the namespace whose update was requested before it. NATS keeps one connection's
// messages in order, so nothing sent before the barrier can arrive after it.
func (u *updateWatch) until(t *testing.T, sender *nats.Conn) []string {
	t.Helper()
	if err := sender.Publish(u.barrier, nil); err != nil {
		t.Fatal(err)
	}
	var streams []string
	timeout := time.After(10 * time.Second)
	for {
		select {
		case m := <-u.ch:
			if m.Subject == u.barrier {
				return streams
			}
			if name := strings.TrimPrefix(m.Subject, "$JS.API.STREAM.UPDATE."); strings.HasPrefix(name, u.ns.Stream("")) {
				streams = append(streams, name)
			}
		case <-timeout:
			t.Fatal("the barrier did not arrive within 10s")
		}
	}
}

func connect(t *testing.T) jetstream.JetStream {
	js, _ := connectBoth(t)
	return js
}

func connectBoth(t *testing.T) (jetstream.JetStream, *nats.Conn) {
	t.Helper()
	nc, err := nats.Connect(testenv.NATSURL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js, nc
}

// freshNamespace returns a namespace of the test's own whose streams are deleted when it ends.
func freshNamespace(t *testing.T, js jetstream.JetStream) natsbus.Namespace {
	t.Helper()
	ns := natsbus.Namespace(testenv.Name("t"))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for _, s := range natsbus.Streams(ns, 1) {
			_ = js.DeleteStream(ctx, s.Name)
		}
	})
	return ns
}

func infos(t *testing.T, js jetstream.JetStream, ns natsbus.Namespace) map[string]*jetstream.StreamInfo {
	t.Helper()
	out := map[string]*jetstream.StreamInfo{}
	for _, s := range natsbus.Streams(ns, 1) {
		out[s.Name] = info(t, js, s.Name)
	}
	return out
}

func info(t *testing.T, js jetstream.JetStream, name string) *jetstream.StreamInfo {
	t.Helper()
	s, err := js.Stream(ctxFor(t), name)
	if err != nil {
		t.Fatalf("stream %s: %v", name, err)
	}
	return s.CachedInfo()
}

// assertManaged compares the settings Provision manages.
func assertManaged(t *testing.T, got, want jetstream.StreamConfig) {
	t.Helper()
	if got.Name != want.Name || got.Description != want.Description || !slices.Equal(got.Subjects, want.Subjects) ||
		got.Replicas != want.Replicas || got.Duplicates != want.Duplicates || got.MaxAge != want.MaxAge ||
		got.Storage != want.Storage || got.Retention != want.Retention {
		t.Errorf("stream config\n got %+v\nwant %+v", got, want)
	}
}

// matches reports whether subject matches the NATS subject filter.
func matches(filter, subject string) bool {
	f, s := strings.Split(filter, "."), strings.Split(subject, ".")
	for i, tok := range f {
		switch {
		case tok == ">":
			return len(s) > i
		case i >= len(s):
			return false
		case tok != "*" && tok != s[i]:
			return false
		}
	}
	return len(f) == len(s)
}

// closedAddr returns a local address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }
