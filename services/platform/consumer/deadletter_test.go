package consumer_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/nrm-albania/nrm/services/platform/admin"
	"github.com/nrm-albania/nrm/services/platform/consumer"
	"github.com/nrm-albania/nrm/services/platform/natsbus"
	"github.com/nrm-albania/nrm/services/platform/testenv"
)

// A dead letter replayed after its cause is fixed reaches the consumer again, although its event
// id is still inside the stream's duplicate window, and leaves the dead-letter stream.
func TestReplayRepublishesADeadLetterAndRemovesIt(t *testing.T) {
	bus := testenv.NewBus(t)
	h := &recorder{fail: map[string]error{"e-1": consumer.Permanent(errors.New("unknown service type"))}}
	run(t, bus, consumer.Config{}, h.handle)
	published := bus.Publish(t, registered, envelope("e-1"), nats.Header{"Traceparent": {"00-0102-01"}})
	dl := deadLetter(t, bus, registered)
	h.heal("e-1")

	got, err := consumer.Replay(ctxFor(t), bus.JS, bus.NS, dl.Sequence)
	if err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, wait, "the replayed event applied", func() bool { return h.count("e-1") == 2 })
	want := consumer.Replayed{DeadLetter: dl.Sequence, Subject: published.Subject, Stream: bus.NS.Stream(natsbus.StreamCase),
		Seq: got.Seq, MsgID: consumer.ReplayMsgID(dl.Sequence, "e-1")}
	if got != want || got.Seq == 0 {
		t.Errorf("Replay = %+v, want %+v", got, want)
	}
	again := streamMsg(t, bus, natsbus.StreamCase, got.Seq)
	if string(again.Data) != string(published.Data) || again.Subject != published.Subject {
		t.Errorf("republished %s %q, want the original %s %q", again.Subject, again.Data, published.Subject, published.Data)
	}
	if again.Header.Get(jetstream.MsgIDHeader) != got.MsgID || again.Header.Get("Traceparent") != "00-0102-01" {
		t.Errorf("republished headers %v: want the replay's message id and the original trace context", again.Header)
	}
	for _, k := range []string{consumer.HeaderDLQReason, consumer.HeaderDLQSubject, consumer.HeaderDLQDeliveries} {
		if again.Header.Get(k) != "" {
			t.Errorf("the republished message keeps the dead-letter header %s", k)
		}
	}
	if _, err := consumer.Replay(ctxFor(t), bus.JS, bus.NS, dl.Sequence); err == nil || !strings.Contains(err.Error(), "already replayed") {
		t.Errorf("a second replay: %v, want that it is gone", err)
	}
}

// A replay that republished but could not delete the dead letter is repeated: within the
// duplicate window the stream drops the second copy, and the dead letter goes.
func TestReplayRepeatedWithinTheDuplicateWindowIsStoredOnce(t *testing.T) {
	bus := testenv.NewBus(t)
	h := &recorder{fail: map[string]error{"e-1": consumer.Permanent(errors.New("no"))}}
	run(t, bus, consumer.Config{}, h.handle)
	bus.Publish(t, registered, envelope("e-1"), nil)
	dl := deadLetter(t, bus, registered)
	// The republish of a first attempt that failed before deleting the dead letter.
	m := nats.NewMsg(bus.NS.Subject(registered))
	m.Data = dl.Data
	ack, err := bus.JS.PublishMsg(ctxFor(t), m, jetstream.WithMsgID(consumer.ReplayMsgID(dl.Sequence, "e-1")))
	if err != nil {
		t.Fatal(err)
	}

	got, err := consumer.Replay(ctxFor(t), bus.JS, bus.NS, dl.Sequence)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Duplicate || got.Seq != ack.Sequence {
		t.Errorf("Replay = %+v, want a duplicate of seq %d", got, ack.Sequence)
	}
	if _, err := dlqStream(t, bus).GetMsg(ctxFor(t), dl.Sequence); !errors.Is(err, jetstream.ErrMsgNotFound) {
		t.Errorf("the dead letter is still there: %v", err)
	}
}

// What is not a dead letter of the namespace is refused, and nothing is published or deleted.
func TestReplayRefusesWhatIsNotADeadLetter(t *testing.T) {
	bus := testenv.NewBus(t)
	dlqSubject := bus.NS.Subject(natsbus.SubjectDLQPrefix + durable + "." + registered)
	put := func(subject string, hdr nats.Header) uint64 {
		m := nats.NewMsg(subject)
		m.Data = []byte("x")
		for k, v := range hdr {
			m.Header[k] = v
		}
		ack, err := bus.JS.PublishMsg(ctxFor(t), m)
		if err != nil {
			t.Fatal(err)
		}
		return ack.Sequence
	}
	noHeader := put(dlqSubject, nil)
	otherNamespace := put(dlqSubject, nats.Header{consumer.HeaderDLQSubject: {"elsewhere.nrm.case.registered"}})
	loop := put(dlqSubject, nats.Header{consumer.HeaderDLQSubject: {dlqSubject}})

	tests := []struct {
		name string
		seq  uint64
		want string
	}{
		{"sequence zero", 0, "starts at 1"},
		{"no such message", 999, "no message 999"},
		{"no original subject", noHeader, "not a dead letter"},
		{"original subject in another namespace", otherNamespace, "not a dead letter"},
		{"original subject is a dead-letter subject", loop, "not a dead letter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := consumer.Replay(ctxFor(t), bus.JS, bus.NS, tt.seq)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Replay(%d) = %v, want an error containing %q", tt.seq, err, tt.want)
			}
		})
	}
	if n := bus.StreamInfo(t, natsbus.StreamCase).State.Msgs; n != 0 {
		t.Errorf("%d messages published to the case stream", n)
	}
	if n := bus.StreamInfo(t, natsbus.StreamDLQ).State.Msgs; n != 3 {
		t.Errorf("%d messages left in the dead-letter stream, want the 3 refused", n)
	}
}

func dlqStream(t *testing.T, bus *testenv.Bus) jetstream.Stream {
	t.Helper()
	s, err := bus.JS.Stream(ctxFor(t), bus.NS.Stream(natsbus.StreamDLQ))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func streamMsg(t *testing.T, bus *testenv.Bus, stream string, seq uint64) *jetstream.RawStreamMsg {
	t.Helper()
	s, err := bus.JS.Stream(ctxFor(t), bus.NS.Stream(stream))
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.GetMsg(ctxFor(t), seq)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// The consumer's /metrics counts its dead letters waiting in NRM_DLQ, and none once replayed.
func TestDeadLetterDepthIsExported(t *testing.T) {
	bus := testenv.NewBus(t)
	h := &recorder{fail: map[string]error{"e-1": consumer.Permanent(errors.New("no")), "e-2": consumer.Permanent(errors.New("no"))}}
	c := run(t, bus, consumer.Config{}, h.handle)
	// Another consumer's dead letter is not this one's.
	bus.PublishRaw(t, natsbus.SubjectDLQPrefix+"other."+registered, []byte("x"), nats.Header{consumer.HeaderDLQSubject: {bus.NS.Subject(registered)}})
	bus.Publish(t, registered, envelope("e-1"), nil)
	bus.Publish(t, registered, envelope("e-2"), nil)

	metrics := httptest.NewServer(admin.Handler(c.reg, nil, func() bool { return false }))
	t.Cleanup(metrics.Close)
	depth := func() string {
		resp, err := http.Get(metrics.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		for line := range strings.Lines(string(b)) {
			if v, ok := strings.CutPrefix(line, `nrm_consumer_dead_letters{consumer="`+durable+`"} `); ok {
				return strings.TrimSpace(v)
			}
		}
		return ""
	}
	testenv.Eventually(t, wait, "two dead letters counted", func() bool { return depth() == "2" })
	h.heal("e-1")
	h.heal("e-2")
	for _, seq := range []uint64{2, 3} {
		if _, err := consumer.Replay(ctxFor(t), bus.JS, bus.NS, seq); err != nil {
			t.Fatal(err)
		}
	}
	testenv.Eventually(t, wait, "no dead letter counted after the replays", func() bool { return depth() == "0" })
}
