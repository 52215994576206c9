package outbox

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.opentelemetry.io/otel/propagation"

	"github.com/nrm-albania/nrm/services/platform/mongodb"
	"github.com/nrm-albania/nrm/services/platform/natsbus"
)

// RelayOptions tunes a Relay. Zero values take the defaults in brackets.
type RelayOptions struct {
	// Interval between scans when nothing pokes the relay [1s].
	Interval time.Duration
	// Grace is how old a pointer to a missing event must be before it is dropped as an orphan.
	// It must exceed the longest aggregate write [1m].
	Grace time.Duration
	// Batch is the number of pointers read per scan [256].
	Batch int
	// MaxBackoff caps the wait after a failed publish [5s].
	MaxBackoff time.Duration
}

// Relay publishes pending events from a service's database to JetStream.
type Relay struct {
	db   *mongo.Database
	js   jetstream.JetStream
	ns   natsbus.Namespace
	log  *slog.Logger
	opts RelayOptions
	poke chan struct{}
	now  func() time.Time

	backlog   prometheus.Gauge
	oldest    prometheus.Gauge
	published prometheus.Counter
	failures  prometheus.Counter
	orphans   prometheus.Counter
}

// NewRelay returns a relay for db, registering its metrics on reg.
func NewRelay(db *mongo.Database, js jetstream.JetStream, ns natsbus.Namespace, log *slog.Logger, reg prometheus.Registerer, o RelayOptions) *Relay {
	if o.Interval <= 0 {
		o.Interval = time.Second
	}
	if o.Grace <= 0 {
		o.Grace = time.Minute
	}
	if o.Batch <= 0 {
		o.Batch = 256
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 5 * time.Second
	}
	r := &Relay{
		db: db, js: js, ns: ns, log: log, opts: o, poke: make(chan struct{}, 1), now: time.Now,
		backlog: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "nrm_outbox_backlog", Help: "Events announced and not yet published to JetStream.",
		}),
		oldest: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "nrm_outbox_oldest_pending_seconds", Help: "Age of the oldest unpublished event.",
		}),
		published: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "nrm_outbox_published_total", Help: "Events published and acknowledged by JetStream.",
		}),
		failures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "nrm_outbox_publish_failures_total", Help: "Failed publish attempts (retried).",
		}),
		orphans: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "nrm_outbox_orphans_dropped_total", Help: "Pointers dropped because their write never committed.",
		}),
	}
	reg.MustRegister(r.backlog, r.oldest, r.published, r.failures, r.orphans)
	return r
}

// Notify wakes the relay after a commit so events go out at once rather than at the next scan.
// It never blocks.
func (r *Relay) Notify() {
	select {
	case r.poke <- struct{}{}:
	default:
	}
}

// Run publishes until ctx ends.
func (r *Relay) Run(ctx context.Context) error {
	wait := r.opts.Interval
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-r.poke:
		case <-timer.C:
		}
		err := r.Drain(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			r.log.Warn("outbox relay could not publish; will retry", "error", err, "retry_in", wait)
			wait = min(wait*2, r.opts.MaxBackoff)
		default:
			wait = r.opts.Interval
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(wait)
	}
}

// Drain publishes everything announced so far, in batches, and reports the first failure.
func (r *Relay) Drain(ctx context.Context) error {
	for {
		n, err := r.drainBatch(ctx)
		if err != nil || n < r.opts.Batch {
			r.observeBacklog(ctx)
			return err
		}
	}
}

func (r *Relay) observeBacklog(ctx context.Context) {
	pointers := r.db.Collection(PointerCollection)
	n, err := pointers.CountDocuments(ctx, bson.D{})
	if err != nil {
		return
	}
	r.backlog.Set(float64(n))
	var first pointer
	err = pointers.FindOne(ctx, bson.D{}, options.FindOne().SetSort(bson.D{{Key: "created_at", Value: 1}})).Decode(&first)
	if err != nil {
		r.oldest.Set(0)
		return
	}
	r.oldest.Set(r.now().Sub(first.CreatedAt).Seconds())
}

type aggregateKey struct{ collection, id string }

// drainBatch handles up to Batch pointers, aggregate by aggregate in the order their oldest
// pointer was announced. It returns how many pointers it read.
func (r *Relay) drainBatch(ctx context.Context) (int, error) {
	cur, err := r.db.Collection(PointerCollection).Find(ctx, bson.D{},
		options.Find().SetSort(bson.D{{Key: "created_at", Value: 1}, {Key: "_id", Value: 1}}).SetLimit(int64(r.opts.Batch)))
	if err != nil {
		return 0, fmt.Errorf("read outbox pointers: %w", err)
	}
	var ptrs []pointer
	if err := cur.All(ctx, &ptrs); err != nil {
		return 0, fmt.Errorf("read outbox pointers: %w", err)
	}
	var order []aggregateKey
	byAggregate := map[aggregateKey][]pointer{}
	for _, p := range ptrs {
		k := aggregateKey{p.Collection, p.AggregateID}
		if _, seen := byAggregate[k]; !seen {
			order = append(order, k)
		}
		byAggregate[k] = append(byAggregate[k], p)
	}
	var errs []error
	for _, k := range order {
		if err := r.relayAggregate(ctx, k, byAggregate[k]); err != nil {
			errs = append(errs, err)
		}
	}
	return len(ptrs), errors.Join(errs...)
}

// relayAggregate publishes one aggregate's announced events in Seq order, stopping at the first
// event it cannot publish yet, so that a later event never overtakes an earlier one.
func (r *Relay) relayAggregate(ctx context.Context, k aggregateKey, ptrs []pointer) error {
	slices.SortFunc(ptrs, func(a, b pointer) int { return cmp.Compare(a.Event.Seq, b.Event.Seq) })
	for _, p := range ptrs {
		if !p.Confirmed {
			if r.now().Sub(p.CreatedAt) < r.opts.Grace {
				return nil // its write may still be in flight
			}
			stored, committed, err := r.committed(ctx, p)
			if err != nil {
				return err
			}
			if !committed {
				if err := r.dropPointer(ctx, p.ID); err != nil {
					return err
				}
				r.orphans.Inc()
				r.log.Info("dropped outbox pointer whose write never committed", "event_id", p.ID,
					"collection", p.Collection, "aggregate_id", p.AggregateID)
				continue
			}
			// The committed copy, not the announced one: writers racing for the same version
			// announce the same event id, and the first announcement may be the loser's.
			p.Event = stored
		}
		if err := r.publish(ctx, p.ID, p.Event); err != nil {
			return fmt.Errorf("publish event %s of %s/%s: %w", p.ID, k.collection, k.id, err)
		}
		if err := r.dropPointer(ctx, p.ID); err != nil {
			return err
		}
	}
	return nil
}

// committed reports whether the document the pointer names holds the event — whether the write
// that announced it committed — and returns the event as committed. Only unconfirmed pointers
// past their grace period need this lookup.
func (r *Relay) committed(ctx context.Context, p pointer) (Event, bool, error) {
	id := p.Document
	if id == "" {
		id = p.AggregateID
	}
	var doc struct {
		Outbox map[string]Event `bson:"outbox"`
	}
	err := r.db.Collection(p.Collection).FindOne(ctx, bson.D{{Key: "_id", Value: id}},
		options.FindOne().SetProjection(bson.D{{Key: Field, Value: 1}})).Decode(&doc)
	switch {
	case mongodb.IsNotFound(err):
		return Event{}, false, nil
	case err != nil:
		return Event{}, false, fmt.Errorf("load %s/%s: %w", p.Collection, id, err)
	}
	e, ok := doc.Outbox[p.ID]
	return e, ok, nil
}

func (r *Relay) dropPointer(ctx context.Context, id string) error {
	if _, err := r.db.Collection(PointerCollection).DeleteOne(ctx, bson.D{{Key: "_id", Value: id}}); err != nil {
		return fmt.Errorf("delete outbox pointer %s: %w", id, err)
	}
	return nil
}

func (r *Relay) publish(ctx context.Context, id string, e Event) error {
	msg := nats.NewMsg(r.ns.Subject(e.Subject))
	msg.Data = e.Data
	// The consumer extracts the trace context with an HTTP-style carrier, whose keys are
	// canonical ("Traceparent"); NATS headers are case-sensitive, so write them the same way.
	carrier := propagation.HeaderCarrier(msg.Header)
	for k, v := range e.Headers {
		carrier.Set(k, v)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := r.js.PublishMsg(ctx, msg, jetstream.WithMsgID(id)); err != nil {
		r.failures.Inc()
		return err
	}
	r.published.Inc()
	return nil
}
