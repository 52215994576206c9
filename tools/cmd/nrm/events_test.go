package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace/noop"
	"google.golang.org/protobuf/types/known/anypb"

	caseregistryv1 "github.com/nrm-albania/nrm/proto/nrm/caseregistry/v1"
	eventsv1 "github.com/nrm-albania/nrm/proto/nrm/events/v1"
	"github.com/nrm-albania/nrm/services/platform/consumer"
	"github.com/nrm-albania/nrm/services/platform/natsbus"
	"github.com/nrm-albania/nrm/services/platform/testenv"
)

const (
	registered   = "nrm.case.registered"
	statsDurable = "reporting-case-statistics"
)

// fixedNow is the clock of tests whose listing does not depend on it.
func fixedNow() time.Time { return time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC) }

// A dead letter, as the consumer writes it, is listed as one JSON line: where it is, why it is
// there, and the event with its payload decoded.
func TestEventsListDecodesDeadLetters(t *testing.T) {
	bus := testenv.NewBus(t)
	stopConsumer := consume(t, bus, func(*eventsv1.Envelope) error {
		return consumer.Permanent(errors.New("unknown prefecture"))
	})
	bus.Publish(t, registered, caseEvent(t, "ev-1"), nats.Header{"Traceparent": {"00-01-02-01"}})
	waitForDeadLetters(t, bus, 1)
	stopConsumer()

	lines := list(t, bus)
	if len(lines) != 1 {
		t.Fatalf("%d lines, want the one dead letter", len(lines))
	}
	l := lines[0]
	if l.Stream != bus.NS.Stream(natsbus.StreamDLQ) || l.Seq != 1 ||
		l.Subject != bus.NS.Subject(natsbus.SubjectDLQPrefix+statsDurable+"."+registered) || l.Time.IsZero() {
		t.Errorf("line %+v: wrong place", l)
	}
	for k, want := range map[string]string{
		consumer.HeaderDLQSubject: bus.NS.Subject(registered), consumer.HeaderDLQReason: "unknown prefecture",
		consumer.HeaderDLQDeliveries: "1", "Traceparent": "00-01-02-01",
	} {
		if got := l.Headers[k]; got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
	var env struct {
		ID      string         `json:"id"`
		Type    string         `json:"type"`
		Payload map[string]any `json:"payload"`
	}
	if err := json.Unmarshal(l.Envelope, &env); err != nil {
		t.Fatalf("envelope %s: %v", l.Envelope, err)
	}
	if env.ID != "ev-1" || env.Type != "case.registered" ||
		env.Payload["@type"] != "type.googleapis.com/nrm.caseregistry.v1.CaseRegistered" || env.Payload["caseCode"] != "VT-2026-00001" {
		t.Errorf("envelope %s: not decoded with its payload", l.Envelope)
	}
	if l.DecodeError != "" || l.Data != nil {
		t.Errorf("a decoded envelope also shows %q %q", l.DecodeError, l.Data)
	}
}

// Events of any stream are listed, filtered by subject, start and number.
func TestEventsListFilters(t *testing.T) {
	bus := testenv.NewBus(t)
	for _, id := range []string{"a", "b", "c"} {
		bus.Publish(t, registered, caseEvent(t, id), nil)
	}
	bus.Publish(t, "nrm.case.closed", &eventsv1.Envelope{Id: "d", Type: "case.closed"}, nil)
	bus.PublishRaw(t, "nrm.case.updated", []byte{0xff, 0xff}, nil)

	// The clock stands one hour after the third event.
	third := list(t, bus, "--stream", "NRM_CASE", "--since-seq", "3", "--limit", "1")[0]
	clock := func() time.Time { return third.Time.Add(time.Hour) }
	// ids names each listed event by its id, and an undecodable message "?".
	ids := func(lines []eventLine) string {
		var out []string
		for _, l := range lines {
			var env struct{ ID string }
			if l.DecodeError != "" {
				out = append(out, "?")
			} else if err := json.Unmarshal(l.Envelope, &env); err != nil {
				t.Fatal(err)
			} else {
				out = append(out, env.ID)
			}
		}
		return strings.Join(out, ",")
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"whole stream", []string{"--stream", "NRM_CASE"}, "a,b,c,d,?"},
		{"one subject", []string{"--stream", "NRM_CASE", "--subject", registered}, "a,b,c"},
		{"wildcard subject", []string{"--stream", "NRM_CASE", "--subject", "nrm.case.*"}, "a,b,c,d,?"},
		{"since a sequence", []string{"--stream", "NRM_CASE", "--since-seq", "3"}, "c,d,?"},
		{"limited", []string{"--stream", "NRM_CASE", "--subject", registered, "--since-seq", "2", "--limit", "1"}, "b"},
		{"since a time", []string{"--stream", "NRM_CASE", "--since", third.Time.Format(time.RFC3339Nano)}, "c,d,?"},
		{"since an age", []string{"--stream", "NRM_CASE", "--since", "1h"}, "c,d,?"},
		{"since a later time", []string{"--stream", "NRM_CASE", "--since", "2200-01-01T00:00:00Z"}, ""},
		{"nothing matches", []string{"--stream", "NRM_CASE", "--subject", "nrm.case.merged"}, ""},
		{"empty stream", []string{"--stream", "NRM_REFERRAL"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := listEventsCommand(ctxFor(t), append(busArgs(bus), tt.args...), &out, clock); err != nil {
				t.Fatal(err)
			}
			if got := ids(parse(t, &out)); got != tt.want {
				t.Errorf("listed %q, want %q", got, tt.want)
			}
		})
	}
	if st := bus.StreamInfo(t, natsbus.StreamCase).State; st.Consumers != 0 || st.Msgs != 5 {
		t.Errorf("after the listings the case stream has %d consumers and %d messages, want 0 and the 5 published", st.Consumers, st.Msgs)
	}
	undecodable := list(t, bus, "--stream", "NRM_CASE", "--subject", "nrm.case.updated")[0]
	if !strings.Contains(undecodable.DecodeError, "not an event envelope") || !bytes.Equal(undecodable.Data, []byte{0xff, 0xff}) {
		t.Errorf("undecodable message shown as %+v, want the reason and the raw data", undecodable)
	}
}

// A replayed dead letter reaches the consumer again and leaves NRM_DLQ.
func TestEventsReplayRepublishesAndRemoves(t *testing.T) {
	bus := testenv.NewBus(t)
	applied := make(chan string, 10)
	healed := make(chan struct{})
	consume(t, bus, func(env *eventsv1.Envelope) error {
		select {
		case <-healed:
			applied <- env.GetId()
			return nil
		default:
			return consumer.Permanent(errors.New("unknown prefecture"))
		}
	})
	bus.Publish(t, registered, caseEvent(t, "ev-1"), nil)
	waitForDeadLetters(t, bus, 1)
	close(healed)

	var out bytes.Buffer
	if err := replayEventCommand(ctxFor(t), append(busArgs(bus), "1"), &out); err != nil {
		t.Fatal(err)
	}
	var r consumer.Replayed
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("output %q: %v", out.String(), err)
	}
	if r.DeadLetter != 1 || r.Subject != bus.NS.Subject(registered) || r.MsgID != consumer.ReplayMsgID(1, "ev-1") {
		t.Errorf("replay reported %+v", r)
	}
	select {
	case id := <-applied:
		if id != "ev-1" {
			t.Errorf("applied %s, want ev-1", id)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the replayed event was not applied")
	}
	if lines := list(t, bus); len(lines) != 0 {
		t.Errorf("NRM_DLQ still lists %+v", lines)
	}
	again := list(t, bus, "--stream", "NRM_CASE", "--since-seq", "2")
	if len(again) != 1 || again[0].Headers[jetstream.MsgIDHeader] != r.MsgID {
		t.Errorf("case stream after the replay: %+v", again)
	}
}

func TestParseSince(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
	}{
		{"", time.Time{}},
		{"2026-12-01T08:00:00Z", time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)},
		{"2026-12-01T08:00:00.5+01:00", time.Date(2026, 12, 1, 7, 0, 0, 5e8, time.UTC)},
		{"24h", fixedNow().Add(-24 * time.Hour)},
		{"90m", fixedNow().Add(-90 * time.Minute)},
	}
	for _, tt := range tests {
		got, err := parseSince(tt.in, fixedNow())
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("parseSince(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"yesterday", "-1h", "0s", "2026-12-01", "12:00"} {
		if _, err := parseSince(bad, fixedNow()); err == nil {
			t.Errorf("parseSince(%q) accepted", bad)
		}
	}
}

// Bad settings are refused with a message naming them, and nothing is read, printed or changed.
func TestEventsCommandsRefuseBadInput(t *testing.T) {
	bus := testenv.NewBus(t)
	bus.PublishRaw(t, natsbus.SubjectDLQPrefix+statsDurable+"."+registered, []byte("x"), nil)
	tests := []struct {
		name string
		run  func(args []string, out *bytes.Buffer) error
		args []string
		want string
	}{
		{"zero limit", listing, []string{"--limit", "0"}, "--limit"},
		{"zero start", listing, []string{"--since-seq", "0"}, "--since-seq"},
		{"bad time", listing, []string{"--since", "yesterday"}, "neither an RFC 3339 time"},
		{"negative age", listing, []string{"--since", "-1h"}, "neither an RFC 3339 time"},
		{"time and sequence", listing, []string{"--since", "1h", "--since-seq", "4"}, "give one of them"},
		{"no stream", listing, []string{"--stream", ""}, "--stream"},
		{"unknown stream", listing, []string{"--stream", "NRM_NOPE"}, "no stream"},
		{"not a NATS URL", listing, []string{"--nats-url", "http://127.0.0.1:1"}, "--nats-url"},
		{"replay of nothing", replaying, nil, "name the dead letters"},
		{"replay of a word", replaying, []string{"first"}, "not a sequence"},
		{"replay of zero", replaying, []string{"0"}, "not a sequence"},
		{"replay of what is not a dead letter", replaying, []string{"1"}, "not a dead letter"},
		{"replay of a missing one", replaying, []string{"7"}, "no message 7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := tt.run(append(busArgs(bus), tt.args...), &out) // a flag given twice: the last wins
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
			if out.Len() != 0 {
				t.Errorf("printed %q", out.String())
			}
		})
	}
	if lines := list(t, bus); len(lines) != 1 {
		t.Errorf("NRM_DLQ holds %d messages after the refusals, want the 1 there before", len(lines))
	}
}

func listing(args []string, out *bytes.Buffer) error {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return listEventsCommand(ctx, args, out, fixedNow)
}

func replaying(args []string, out *bytes.Buffer) error {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return replayEventCommand(ctx, args, out)
}

func busArgs(bus *testenv.Bus) []string {
	return []string{"--nats-url", bus.URL, "--nats-namespace", string(bus.NS)}
}

// list runs `nrm events list` on the test's bus and parses its lines.
func list(t *testing.T, bus *testenv.Bus, args ...string) []eventLine {
	t.Helper()
	var out bytes.Buffer
	if err := listing(append(busArgs(bus), args...), &out); err != nil {
		t.Fatal(err)
	}
	return parse(t, &out)
}

func parse(t *testing.T, out *bytes.Buffer) []eventLine {
	t.Helper()
	var lines []eventLine
	for line := range strings.Lines(out.String()) {
		var l eventLine
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		lines = append(lines, l)
	}
	return lines
}

func caseEvent(t *testing.T, id string) *eventsv1.Envelope {
	t.Helper()
	payload, err := anypb.New(&caseregistryv1.CaseRegistered{CaseId: "case-" + id, CaseCode: "VT-2026-00001"})
	if err != nil {
		t.Fatal(err)
	}
	return &eventsv1.Envelope{Id: id, Type: "case.registered", AggregateId: "case-" + id, AggregateVersion: 1, Payload: payload}
}

// consume runs the statistics consumer with handle on the test's case stream, until the returned
// function or the end of the test stops it.
func consume(t *testing.T, bus *testenv.Bus, handle func(*eventsv1.Envelope) error) (stop func()) {
	t.Helper()
	c := consumer.New(bus.JS, bus.NS, consumer.Config{Stream: natsbus.StreamCase, Durable: statsDurable},
		func(_ context.Context, env *eventsv1.Envelope) error { return handle(env) },
		slog.New(slog.DiscardHandler), prometheus.NewRegistry(), noop.NewTracerProvider())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	stopped := false
	stop = func() {
		if !stopped {
			stopped = true
			cancel()
			if err := <-done; err != nil {
				t.Errorf("consumer: %v", err)
			}
		}
	}
	t.Cleanup(stop)
	return stop
}

func waitForDeadLetters(t *testing.T, bus *testenv.Bus, n uint64) {
	t.Helper()
	testenv.Eventually(t, 20*time.Second, "dead letters in NRM_DLQ", func() bool {
		return bus.StreamInfo(t, natsbus.StreamDLQ).State.Msgs == n
	})
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestCommandNames(t *testing.T) {
	tests := []struct {
		args    []string
		cmd     string
		rest    []string
		unknown bool
	}{
		{nil, "run", nil, false},
		{[]string{"--data-dir", "x"}, "run", []string{"--data-dir", "x"}, false},
		{[]string{"run", "--ephemeral-ports"}, "run", []string{"--ephemeral-ports"}, false},
		{[]string{"events", "list", "--limit", "3"}, "events list", []string{"--limit", "3"}, false},
		{[]string{"events", "replay", "4"}, "events replay", []string{"4"}, false},
		{[]string{"audit", "verify"}, "audit verify", []string{}, false},
		{[]string{"deploy-secrets", "--out", "d"}, "deploy-secrets", []string{"--out", "d"}, false},
		{[]string{"events"}, "", nil, true},
		{[]string{"events", "show"}, "", nil, true},
		{[]string{"audit"}, "", nil, true},
		{[]string{"evnets", "list"}, "", nil, true},
	}
	for _, tt := range tests {
		cmd, rest, err := command(tt.args)
		if tt.unknown {
			if err == nil || !strings.Contains(err.Error(), "unknown command") {
				t.Errorf("command(%q) = %q, %v; want it refused", tt.args, cmd, err)
			}
			continue
		}
		if err != nil || cmd != tt.cmd || strings.Join(rest, " ") != strings.Join(tt.rest, " ") {
			t.Errorf("command(%q) = %q %q %v; want %q %q", tt.args, cmd, rest, err, tt.cmd, tt.rest)
		}
	}
}
