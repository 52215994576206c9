// Package consumer applies events from JetStream with a durable, explicit-ack consumer.
//
// Delivery is at least once: JetStream redelivers a message whose ack was lost. Handlers are
// therefore required to be idempotent per (aggregate id, aggregate version), which together with
// the ack gives exactly-once effects. A message that fails MaxDeliver times, or that can never
// succeed (Permanent), is copied to the dead-letter subject nrm.dlq.<durable>.<subject> and
// terminated, so one poison message cannot stall the stream.
package consumer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/proto"

	eventsv1 "github.com/nrm-albania/nrm/proto/nrm/events/v1"
	"github.com/nrm-albania/nrm/services/platform/natsbus"
	"github.com/nrm-albania/nrm/services/platform/telemetry"
)

// Handler applies one event. It must be idempotent per aggregate version.
type Handler func(ctx context.Context, env *eventsv1.Envelope) error

type permanent struct{ err error }

func (p permanent) Error() string { return p.err.Error() }
func (p permanent) Unwrap() error { return p.err }

// IsPermanent reports whether err was marked with Permanent.
func IsPermanent(err error) bool {
	var p permanent
	return errors.As(err, &p)
}

// Permanent marks an error that no redelivery can fix (a malformed event, say): the message goes
// to the dead-letter subject at once.
func Permanent(err error) error { return permanent{err} }

// Config describes a durable consumer.
type Config struct {
	// Stream to consume, e.g. natsbus.StreamCase.
	Stream string
	// Durable is the consumer's name; it is also its identity in metrics and dead letters.
	Durable string
	// Subjects filters the stream, without namespace; empty means all.
	Subjects []string
	// MaxDeliver bounds deliveries before dead-lettering [5].
	MaxDeliver int
	// AckWait is how long JetStream waits for an ack before redelivering [30s].
	AckWait time.Duration
	// Ready, when set, holds consumption back until it is closed. The service runtime closes it
	// once the streams are provisioned (app.Runtime.Consumer), so that a first start creates the
	// streams before any consumer asks for one.
	Ready <-chan struct{}
}

// Consumer runs one durable consumer.
type Consumer struct {
	js      jetstream.JetStream
	ns      natsbus.Namespace
	cfg     Config
	handle  Handler
	log     *slog.Logger
	tracer  trace.Tracer
	pending prometheus.Gauge
	applied prometheus.Counter
	retried prometheus.Counter
	dead    prometheus.Counter
	// deadLetters is how many of the consumer's dead letters the dead-letter stream holds.
	deadLetters prometheus.Gauge
}

// New returns a consumer, registering its metrics on reg.
func New(js jetstream.JetStream, ns natsbus.Namespace, cfg Config, h Handler, log *slog.Logger, reg prometheus.Registerer, tp trace.TracerProvider) *Consumer {
	if cfg.MaxDeliver <= 0 {
		cfg.MaxDeliver = 5
	}
	if cfg.AckWait <= 0 {
		cfg.AckWait = 30 * time.Second
	}
	labels := prometheus.Labels{"consumer": cfg.Durable}
	c := &Consumer{
		js: js, ns: ns, cfg: cfg, handle: h, log: log.With("consumer", cfg.Durable), tracer: tp.Tracer("nrm/consumer"),
		pending: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "nrm_consumer_pending_messages", Help: "Messages not yet delivered or acknowledged (consumer lag).", ConstLabels: labels,
		}),
		applied: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "nrm_consumer_applied_total", Help: "Events applied and acknowledged.", ConstLabels: labels,
		}),
		retried: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "nrm_consumer_retries_total", Help: "Events that failed and will be redelivered.", ConstLabels: labels,
		}),
		dead: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "nrm_consumer_dead_lettered_total", Help: "Events sent to the dead-letter subject.", ConstLabels: labels,
		}),
		deadLetters: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "nrm_consumer_dead_letters", Help: "The consumer's dead letters waiting in the dead-letter stream.", ConstLabels: labels,
		}),
	}
	reg.MustRegister(c.pending, c.applied, c.retried, c.dead, c.deadLetters)
	return c
}

// Run consumes, once Config.Ready is closed, until ctx ends. While NATS or the stream is
// unavailable it keeps retrying.
func (c *Consumer) Run(ctx context.Context) error {
	if c.cfg.Ready != nil {
		select {
		case <-ctx.Done():
			return nil
		case <-c.cfg.Ready:
		}
	}
	wait := 250 * time.Millisecond
	for {
		err := c.consume(ctx)
		if ctx.Err() != nil {
			return nil
		}
		level := slog.LevelWarn
		if streamMissing(err) {
			// A consumer run without Ready may start before its stream is provisioned; it
			// waits for the stream without alarming anyone.
			level = slog.LevelInfo
		}
		c.log.Log(ctx, level, "consumer stopped; restarting", "error", err, "retry_in", wait)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
		wait = min(wait*2, 5*time.Second)
	}
}

// streamMissing reports whether err says that the consumer's stream does not exist.
func streamMissing(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamNotFound
}

func (c *Consumer) consume(ctx context.Context) error {
	subjects := make([]string, len(c.cfg.Subjects))
	for i, s := range c.cfg.Subjects {
		subjects[i] = c.ns.Subject(s)
	}
	cc := jetstream.ConsumerConfig{
		Durable:       c.cfg.Durable,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       c.cfg.AckWait,
		MaxDeliver:    c.cfg.MaxDeliver,
		DeliverPolicy: jetstream.DeliverAllPolicy,
		MaxAckPending: 256,
	}
	// One subject goes in FilterSubject: servers before 2.10 (Debian's, say) know no other.
	if len(subjects) == 1 {
		cc.FilterSubject = subjects[0]
	} else {
		cc.FilterSubjects = subjects
	}
	cons, err := c.js.CreateOrUpdateConsumer(ctx, c.ns.Stream(c.cfg.Stream), cc)
	if err != nil {
		return fmt.Errorf("create consumer %s on %s: %w", c.cfg.Durable, c.cfg.Stream, err)
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(64))
	if err != nil {
		return fmt.Errorf("pull from %s: %w", c.cfg.Durable, err)
	}
	defer it.Stop()
	// The watcher lives as long as this attempt: a restart after an error starts a new one.
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	go c.watchLag(watchCtx, cons, it)
	for {
		msg, err := it.Next()
		if err != nil {
			if errors.Is(err, jetstream.ErrMsgIteratorClosed) && ctx.Err() != nil {
				return nil
			}
			return err
		}
		c.process(ctx, msg)
	}
}

// watchLag publishes the consumer's lag and its dead letters' count every few seconds, and stops
// the iterator when ctx ends.
func (c *Consumer) watchLag(ctx context.Context, cons jetstream.Consumer, it jetstream.MessagesContext) {
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			it.Stop()
			return
		case <-t.C:
			qctx, cancel := context.WithTimeout(ctx, time.Second)
			info, err := cons.Info(qctx)
			cancel()
			if err == nil {
				c.pending.Set(float64(info.NumPending + uint64(info.NumAckPending)))
			}
			qctx, cancel = context.WithTimeout(ctx, time.Second)
			n, err := c.countDeadLetters(qctx)
			cancel()
			if err == nil {
				c.deadLetters.Set(float64(n))
			}
		}
	}
}

// countDeadLetters counts the messages on the consumer's dead-letter subjects. They are counted
// while they wait, so a replay (Replay deletes them) or their expiry brings the count down.
func (c *Consumer) countDeadLetters(ctx context.Context) (uint64, error) {
	s, err := c.js.Stream(ctx, c.ns.Stream(natsbus.StreamDLQ))
	if err != nil {
		return 0, err
	}
	info, err := s.Info(ctx, jetstream.WithSubjectFilter(c.deadLetterSubject(">")))
	if err != nil {
		return 0, err
	}
	var n uint64
	for _, count := range info.State.Subjects {
		n += count
	}
	return n, nil
}

// deadLetterSubject is where the consumer's dead letter of a message on subject (without
// namespace) goes.
func (c *Consumer) deadLetterSubject(subject string) string {
	return c.ns.Subject(natsbus.SubjectDLQPrefix + c.cfg.Durable + "." + subject)
}

func (c *Consumer) process(ctx context.Context, msg jetstream.Msg) {
	ctx = telemetry.Propagator.Extract(ctx, propagation.HeaderCarrier(msg.Headers()))
	ctx, span := c.tracer.Start(ctx, "consume "+msg.Subject(), trace.WithSpanKind(trace.SpanKindConsumer))
	defer span.End()

	meta, err := msg.Metadata()
	if err != nil {
		c.deadLetter(ctx, msg, 0, fmt.Errorf("no jetstream metadata: %w", err))
		return
	}
	var env eventsv1.Envelope
	if err := proto.Unmarshal(msg.Data(), &env); err != nil {
		c.deadLetter(ctx, msg, meta.NumDelivered, Permanent(fmt.Errorf("undecodable envelope: %w", err)))
		return
	}
	err = c.handle(ctx, &env)
	switch {
	case err == nil:
		if err := msg.DoubleAck(ctx); err != nil {
			// The effect is applied; a redelivery will be recognised and acknowledged.
			c.log.WarnContext(ctx, "ack failed", "event_id", env.GetId(), "error", err)
		}
		c.applied.Inc()
	case IsPermanent(err) || meta.NumDelivered >= uint64(c.cfg.MaxDeliver):
		c.deadLetter(ctx, msg, meta.NumDelivered, err)
	default:
		c.retried.Inc()
		delay := time.Duration(meta.NumDelivered) * time.Second
		c.log.WarnContext(ctx, "event not applied; will be redelivered", "event_id", env.GetId(),
			"type", env.GetType(), "delivery", meta.NumDelivered, "error", err)
		_ = msg.NakWithDelay(delay)
	}
}

// deadLetter copies msg to the dead-letter subject with the reason, then terminates it. If the
// copy cannot be stored the message is left for redelivery rather than lost.
func (c *Consumer) deadLetter(ctx context.Context, msg jetstream.Msg, delivered uint64, cause error) {
	original := strings.TrimPrefix(msg.Subject(), c.ns.Subject(""))
	dl := nats.NewMsg(c.deadLetterSubject(original))
	dl.Data = msg.Data()
	for k, v := range msg.Headers() {
		if k == jetstream.MsgIDHeader {
			continue
		}
		dl.Header[k] = v
	}
	dl.Header.Set(HeaderDLQReason, cause.Error())
	dl.Header.Set(HeaderDLQSubject, msg.Subject())
	dl.Header.Set(HeaderDLQDeliveries, strconv.FormatUint(delivered, 10))
	if _, err := c.js.PublishMsg(ctx, dl); err != nil {
		c.log.ErrorContext(ctx, "dead-lettering failed; message left for redelivery", "subject", msg.Subject(), "error", err)
		_ = msg.NakWithDelay(5 * time.Second)
		return
	}
	_ = msg.Term()
	c.dead.Inc()
	c.log.ErrorContext(ctx, "event dead-lettered", "subject", msg.Subject(), "deliveries", delivered, "reason", cause)
}
