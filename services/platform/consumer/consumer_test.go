package consumer_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/types/known/wrapperspb"

	eventsv1 "github.com/nrm-albania/nrm/proto/nrm/events/v1"
	"github.com/nrm-albania/nrm/services/platform/consumer"
	"github.com/nrm-albania/nrm/services/platform/natsbus"
	"github.com/nrm-albania/nrm/services/platform/outbox"
	"github.com/nrm-albania/nrm/services/platform/telemetry"
	"github.com/nrm-albania/nrm/services/platform/testenv"
)

const (
	durable    = "stats"
	registered = "nrm.case.registered"
	wait       = 20 * time.Second
)

func TestIsPermanent(t *testing.T) {
	base := errors.New("malformed")
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"plain", base, false},
		{"permanent", consumer.Permanent(base), true},
		{"wrapped permanent", fmt.Errorf("event e-1: %w", consumer.Permanent(base)), true},
		{"joined permanent", errors.Join(io.EOF, consumer.Permanent(base)), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := consumer.IsPermanent(tt.err); got != tt.want {
				t.Errorf("IsPermanent(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

func TestPermanentKeepsTheCause(t *testing.T) {
	err := consumer.Permanent(io.ErrUnexpectedEOF)
	if err.Error() != io.ErrUnexpectedEOF.Error() {
		t.Errorf("message %q", err)
	}
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Error("cause not reachable with errors.Is")
	}
}

func TestEventIsAppliedOnceAndAcknowledged(t *testing.T) {
	bus := testenv.NewBus(t)
	h := &recorder{}
	c := run(t, bus, consumer.Config{}, h.handle)
	bus.Publish(t, registered, envelope("e-1"), nil)

	testenv.Eventually(t, wait, "e-1 applied", func() bool { return h.count("e-1") == 1 })
	testenv.Eventually(t, wait, "nothing pending or unacknowledged", func() bool { return idle(t, bus) })
	if n := h.count("e-1"); n != 1 {
		t.Errorf("e-1 handled %d times", n)
	}
	if got := c.metric(t, "nrm_consumer_applied_total"); got != 1 {
		t.Errorf("applied_total %v, want 1", got)
	}
}

func TestFailingEventIsDeadLetteredAfterMaxDeliver(t *testing.T) {
	bus := testenv.NewBus(t)
	h := &recorder{fail: map[string]error{"poison": errors.New("projection store unavailable")}}
	c := run(t, bus, consumer.Config{MaxDeliver: 2, AckWait: 5 * time.Second}, h.handle)
	poison := bus.Publish(t, registered, envelope("poison"), nats.Header{"X-Origin": {"test"}})
	bus.Publish(t, registered, envelope("good"), nil)

	testenv.Eventually(t, wait, "the next good event applied", func() bool { return h.count("good") == 1 })
	dl := deadLetter(t, bus, registered)
	assertDeadLetter(t, bus, dl, poison, "projection store unavailable", "2")
	if dl.Header.Get("X-Origin") != "test" {
		t.Errorf("the original headers are not kept: %v", dl.Header)
	}
	if dl.Header.Get(jetstream.MsgIDHeader) != "" {
		t.Errorf("the dead letter carries the original %s", jetstream.MsgIDHeader)
	}
	testenv.Eventually(t, wait, "nothing pending or unacknowledged", func() bool { return idle(t, bus) })
	if n := h.count("poison"); n != 2 {
		t.Errorf("poison handled %d times, want MaxDeliver = 2", n)
	}
	for name, want := range map[string]float64{
		"nrm_consumer_applied_total":       1,
		"nrm_consumer_retries_total":       1,
		"nrm_consumer_dead_lettered_total": 1,
	} {
		if got := c.metric(t, name); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
}

func TestPermanentErrorIsDeadLetteredOnFirstDelivery(t *testing.T) {
	bus := testenv.NewBus(t)
	h := &recorder{fail: map[string]error{"bad": consumer.Permanent(errors.New("payload is not a CaseRegistered"))}}
	c := run(t, bus, consumer.Config{MaxDeliver: 5}, h.handle)
	bad := bus.Publish(t, registered, envelope("bad"), nil)

	dl := deadLetter(t, bus, registered)
	assertDeadLetter(t, bus, dl, bad, "payload is not a CaseRegistered", "1")
	testenv.Eventually(t, wait, "nothing pending or unacknowledged", func() bool { return idle(t, bus) })
	if n := h.count("bad"); n != 1 {
		t.Errorf("handled %d times, want 1", n)
	}
	if got := c.metric(t, "nrm_consumer_retries_total"); got != 0 {
		t.Errorf("retries_total %v, want 0", got)
	}
}

func TestUndecodablePayloadIsDeadLettered(t *testing.T) {
	bus := testenv.NewBus(t)
	h := &recorder{}
	run(t, bus, consumer.Config{MaxDeliver: 5}, h.handle)
	garbage := bus.PublishRaw(t, registered, []byte{0xff, 0xff, 0xff}, nil)
	bus.Publish(t, registered, envelope("good"), nil)

	dl := deadLetter(t, bus, registered)
	assertDeadLetter(t, bus, dl, garbage, "undecodable envelope", "1")
	testenv.Eventually(t, wait, "the next good event applied", func() bool { return h.count("good") == 1 })
	if got := h.ids(); !slices.Equal(got, []string{"good"}) {
		t.Errorf("handler saw %v, want only good", got)
	}
}

func TestDeadLetterSubjectNamesTheConsumerAndTheOriginalSubject(t *testing.T) {
	bus := testenv.NewBus(t)
	h := &recorder{fail: map[string]error{"x": consumer.Permanent(errors.New("no"))}}
	run(t, bus, consumer.Config{}, h.handle)
	const subject = "nrm.case.closed"
	bus.Publish(t, subject, envelope("x"), nil)

	dl := deadLetter(t, bus, subject)
	want := bus.NS.Subject("nrm.dlq." + durable + "." + subject)
	if dl.Subject != want {
		t.Errorf("dead letter on %s, want %s", dl.Subject, want)
	}
}

func TestSubjectsFilterTheStream(t *testing.T) {
	bus := testenv.NewBus(t)
	h := &recorder{}
	run(t, bus, consumer.Config{Subjects: []string{registered}}, h.handle)
	bus.Publish(t, "nrm.case.closed", envelope("closed"), nil)
	bus.Publish(t, registered, envelope("registered"), nil)

	testenv.Eventually(t, wait, "the registered event applied", func() bool { return h.count("registered") == 1 })
	testenv.Eventually(t, wait, "nothing pending or unacknowledged", func() bool { return idle(t, bus) })
	if got := h.ids(); !slices.Equal(got, []string{"registered"}) {
		t.Errorf("handler saw %v, want only the filtered subject", got)
	}
}

func TestHandlerContinuesATraceInCanonicalHeaders(t *testing.T) {
	bus := testenv.NewBus(t)
	h := &recorder{}
	run(t, bus, consumer.Config{}, h.handle)
	hdr := nats.Header{}
	telemetry.Propagator.Inject(withParentSpan(), propagation.HeaderCarrier(hdr)) // "Traceparent"
	bus.Publish(t, registered, envelope("traced"), hdr)

	testenv.Eventually(t, wait, "traced applied", func() bool { return h.count("traced") == 1 })
	got := h.spanContext("traced")
	if got.TraceID() != parentSpan.TraceID() {
		t.Errorf("handler trace %s, want the publisher's %s", got.TraceID(), parentSpan.TraceID())
	}
	if got.SpanID() == parentSpan.SpanID() {
		t.Error("handler runs in the publisher's span, want a consumer span of its own")
	}
}

func TestHandlerContinuesTheTraceOfAnOutboxEvent(t *testing.T) {
	bus, db := testenv.NewBus(t), testenv.Database(t)
	h := &recorder{}
	run(t, bus, consumer.Config{}, h.handle)
	ev, err := outbox.NewEvent(withParentSpan(), "case.registered", "case-1", 1, 0, wrapperspb.String("x"), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	commitAndRelay(t, db, bus, ev)

	testenv.Eventually(t, wait, "the event applied", func() bool { return h.count(ev.ID) == 1 })
	if got := h.spanContext(ev.ID).TraceID(); got != parentSpan.TraceID() {
		t.Errorf("handler trace %s, want the trace %s of the request that caused the event", got, parentSpan.TraceID())
	}
}

func TestRunWaitsForTheStreamToExist(t *testing.T) {
	nc, err := nats.Connect(testenv.NATSURL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	bus := &testenv.Bus{URL: testenv.NATSURL(t), NC: nc, JS: js, NS: natsbus.Namespace(testenv.Name("t"))}
	t.Cleanup(func() {
		for _, s := range natsbus.Streams(bus.NS, 1) {
			_ = js.DeleteStream(context.Background(), s.Name)
		}
	})
	h := &recorder{}
	run(t, bus, consumer.Config{}, h.handle) // no streams yet: it keeps retrying

	if err := natsbus.Provision(ctxFor(t), js, bus.NS, 1, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	bus.Publish(t, registered, envelope("late"), nil)
	testenv.Eventually(t, wait, "late applied once the stream exists", func() bool { return h.count("late") == 1 })
}

func TestRunReturnsNilWhenTheContextEnds(t *testing.T) {
	bus := testenv.NewBus(t)
	c := newConsumer(t, bus, consumer.Config{}, (&recorder{}).handle)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	testenv.Eventually(t, wait, "the durable consumer exists", func() bool {
		_, err := bus.JS.Consumer(ctxFor(t), bus.NS.Stream(natsbus.StreamCase), durable)
		return err == nil
	})
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v, want nil", err)
		}
	case <-time.After(wait):
		t.Fatal("Run did not return after the context ended")
	}
}

// recorder is a handler that records what it sees and fails the events it is told to.
type recorder struct {
	fail map[string]error

	mu    sync.Mutex
	seen  []string
	spans map[string]trace.SpanContext
}

func (r *recorder) handle(ctx context.Context, env *eventsv1.Envelope) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen = append(r.seen, env.GetId())
	if r.spans == nil {
		r.spans = map[string]trace.SpanContext{}
	}
	r.spans[env.GetId()] = trace.SpanContextFromContext(ctx)
	return r.fail[env.GetId()]
}

// heal makes the event id succeed from now on.
func (r *recorder) heal(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.fail, id)
}

func (r *recorder) count(id string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, s := range r.seen {
		if s == id {
			n++
		}
	}
	return n
}

func (r *recorder) ids() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.seen)
}

func (r *recorder) spanContext(id string) trace.SpanContext {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.spans[id]
}

type running struct{ reg *prometheus.Registry }

func newConsumer(t *testing.T, bus *testenv.Bus, cfg consumer.Config, h consumer.Handler) *consumer.Consumer {
	t.Helper()
	return newConsumerOn(t, bus, cfg, h, prometheus.NewRegistry())
}

func newConsumerOn(t *testing.T, bus *testenv.Bus, cfg consumer.Config, h consumer.Handler, reg *prometheus.Registry) *consumer.Consumer {
	t.Helper()
	cfg.Stream, cfg.Durable = natsbus.StreamCase, durable
	tp := sdktrace.NewTracerProvider()
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return consumer.New(bus.JS, bus.NS, cfg, h, slog.New(slog.DiscardHandler), reg, tp)
}

// run runs a consumer of the case stream until the test ends, and checks that it stops cleanly.
func run(t *testing.T, bus *testenv.Bus, cfg consumer.Config, h consumer.Handler) *running {
	t.Helper()
	reg := prometheus.NewRegistry()
	c := newConsumerOn(t, bus, cfg, h, reg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run = %v", err)
			}
		case <-time.After(wait):
			t.Error("Run did not return after the context ended")
		}
	})
	return &running{reg: reg}
}

// metric returns the value of the consumer's counter name.
func (r *running) metric(t *testing.T, name string) float64 {
	t.Helper()
	mfs, err := r.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				return m.GetCounter().GetValue()
			}
		}
	}
	t.Fatalf("metric %s not found", name)
	return 0
}

func envelope(id string) *eventsv1.Envelope {
	return &eventsv1.Envelope{Id: id, Type: "case.registered", AggregateId: "case-" + id, AggregateVersion: 1}
}

// deadLetter waits for the dead letter of a message published on subject and returns it.
func deadLetter(t *testing.T, bus *testenv.Bus, subject string) *jetstream.RawStreamMsg {
	t.Helper()
	dlqSubject := bus.NS.Subject(natsbus.SubjectDLQPrefix + durable + "." + subject)
	var dl *jetstream.RawStreamMsg
	testenv.Eventually(t, wait, "a dead letter on "+dlqSubject, func() bool {
		s, err := bus.JS.Stream(ctxFor(t), bus.NS.Stream(natsbus.StreamDLQ))
		if err != nil {
			t.Fatal(err)
		}
		dl, err = s.GetLastMsgForSubject(ctxFor(t), dlqSubject)
		return err == nil
	})
	return dl
}

func assertDeadLetter(t *testing.T, bus *testenv.Bus, dl *jetstream.RawStreamMsg, original *nats.Msg, reason, deliveries string) {
	t.Helper()
	if string(dl.Data) != string(original.Data) {
		t.Errorf("dead letter data %q, want the original %q", dl.Data, original.Data)
	}
	if got := dl.Header.Get("Nrm-Dlq-Reason"); !strings.Contains(got, reason) {
		t.Errorf("Nrm-Dlq-Reason %q, want it to contain %q", got, reason)
	}
	if got := dl.Header.Get("Nrm-Dlq-Subject"); got != original.Subject {
		t.Errorf("Nrm-Dlq-Subject %q, want %q", got, original.Subject)
	}
	if got := dl.Header.Get("Nrm-Dlq-Deliveries"); got != deliveries {
		t.Errorf("Nrm-Dlq-Deliveries %q, want %s", got, deliveries)
	}
	if want := bus.NS.Subject(natsbus.SubjectDLQPrefix + durable + "." + strings.TrimPrefix(original.Subject, bus.NS.Subject(""))); dl.Subject != want {
		t.Errorf("dead letter on %s, want %s", dl.Subject, want)
	}
}

// idle reports whether the consumer has nothing left to deliver and nothing awaiting an ack.
func idle(t *testing.T, bus *testenv.Bus) bool {
	t.Helper()
	c, err := bus.JS.Consumer(ctxFor(t), bus.NS.Stream(natsbus.StreamCase), durable)
	if err != nil {
		return false
	}
	info := c.CachedInfo()
	return info.NumPending == 0 && info.NumAckPending == 0 && info.NumRedelivered == 0
}

var parentSpan = trace.NewSpanContext(trace.SpanContextConfig{
	TraceID:    trace.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
	SpanID:     trace.SpanID{1, 2, 3, 4, 5, 6, 7, 8},
	TraceFlags: trace.FlagsSampled,
})

// withParentSpan is the context of a request being traced.
func withParentSpan() context.Context {
	return trace.ContextWithSpanContext(context.Background(), parentSpan)
}

// commitAndRelay writes an aggregate with its event the way a service does and relays it.
func commitAndRelay(t *testing.T, db *mongo.Database, bus *testenv.Bus, ev outbox.Pending) {
	t.Helper()
	ctx := ctxFor(t)
	const things = "things"
	announced, err := outbox.Announce(ctx, db, things, "case-1", []outbox.Pending{ev}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	doc := bson.D{{Key: "_id", Value: "case-1"}, {Key: outbox.Field, Value: outbox.Map([]outbox.Pending{ev})}}
	if _, err := db.Collection(things).InsertOne(ctx, doc); err != nil {
		t.Fatal(err)
	}
	if err := announced.Confirm(ctx); err != nil {
		t.Fatal(err)
	}
	relay := outbox.NewRelay(db, bus.JS, bus.NS, slog.New(slog.DiscardHandler), prometheus.NewRegistry(), outbox.RelayOptions{})
	if err := relay.Drain(ctx); err != nil {
		t.Fatal(err)
	}
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// At a first start the streams are created beside the consumers: a consumer whose stream does
// not exist yet waits for it, saying so at info level (not as a warning), and consumes once it
// exists.
func TestAConsumerWaitsQuietlyForItsStream(t *testing.T) {
	bus := testenv.NewBus(t)
	ctx := ctxFor(t)
	if err := bus.JS.DeleteStream(ctx, bus.NS.Stream(natsbus.StreamCase)); err != nil {
		t.Fatal(err)
	}
	var logs testenv.LogBuffer
	h := &recorder{}
	cfg := consumer.Config{Stream: natsbus.StreamCase, Durable: durable}
	tp := sdktrace.NewTracerProvider()
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	c := consumer.New(bus.JS, bus.NS, cfg, h.handle, slog.New(slog.NewTextHandler(&logs, nil)), prometheus.NewRegistry(), tp)
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(runCtx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v", err)
		}
	}()

	testenv.Eventually(t, wait, "the consumer said it waits", func() bool { return strings.Contains(logs.String(), "consumer stopped; restarting") })
	if err := natsbus.Provision(ctx, bus.JS, bus.NS, 1, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	bus.Publish(t, registered, envelope("e-1"), nil)
	testenv.Eventually(t, wait, "e-1 applied once the stream exists", func() bool { return h.count("e-1") == 1 })
	if out := logs.String(); strings.Contains(out, "level=WARN") || !strings.Contains(out, "level=INFO") {
		t.Errorf("waiting for the stream was not logged at info level alone:\n%s", out)
	}
}
