package outbox

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
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
	// Grace is how long the relay watches an unconfirmed pointer before it looks for the event
	// in the committed document, and then how long it waits between two looks. It should exceed
	// the usual aggregate write, so that the look is rarely needed [1m].
	Grace time.Duration
	// Abandon is how long the relay keeps looking for an event whose document does not exist
	// before it gives the pointer up as a write that failed. A write that lands even later is
	// still published, by the writer's Confirm, unless the writer also crashed before that [24h].
	Abandon time.Duration
	// Now is the relay's clock [time.Now]. Every age the relay judges is measured on it alone,
	// from when it first saw the pointer: the writer's clock (the pointer's created_at) may be
	// another machine's, or a test's.
	Now func() time.Time
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
	// draining serialises Drain, which keeps watched: per pointer id, what this relay has seen
	// of it.
	draining sync.Mutex
	watched  map[string]watch

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
	if o.Abandon <= 0 {
		o.Abandon = 24 * time.Hour
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Batch <= 0 {
		o.Batch = 256
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 5 * time.Second
	}
	r := &Relay{
		db: db, js: js, ns: ns, log: log, opts: o, poke: make(chan struct{}, 1), watched: map[string]watch{},
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
			Name: "nrm_outbox_orphans_dropped_total", Help: "Pointers dropped because their write did not commit (or, after RelayOptions.Abandon, was never found).",
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

// watch is what the relay knows of a pointer: when it first saw it and, for an unconfirmed one
// whose document it did not find, when to look again. Both on the relay's clock.
type watch struct {
	since, next time.Time
}

// Drain publishes everything announced so far, in batches, and reports the failures. It reads
// the pointers in announcement order, batch after batch, so that pointers it must keep waiting
// (unresolved ones, up to RelayOptions.Abandon) never stop it from reaching those behind them.
func (r *Relay) Drain(ctx context.Context) error {
	r.draining.Lock()
	defer r.draining.Unlock()
	d := drain{seen: map[string]bool{}, held: map[aggregateKey]bool{}}
	var after *pointer
	for {
		ptrs, err := r.readBatch(ctx, after)
		if err != nil {
			r.observeBacklog(ctx)
			return err
		}
		for _, p := range ptrs {
			d.seen[p.ID] = true
			if _, ok := r.watched[p.ID]; !ok {
				r.watched[p.ID] = watch{since: r.opts.Now()}
			}
		}
		if err := r.relayBatch(ctx, &d, ptrs); err != nil {
			r.observeBacklog(ctx)
			return err
		}
		if len(ptrs) < r.opts.Batch {
			break
		}
		after = &ptrs[len(ptrs)-1]
	}
	// Forget the pointers that are gone (published by another replica, say).
	for id := range r.watched {
		if !d.seen[id] {
			delete(r.watched, id)
		}
	}
	r.observeBacklog(ctx)
	return nil
}

// drain is one pass of Drain over the pointers.
type drain struct {
	seen map[string]bool
	// held are the aggregates with an event that cannot go yet: their later events, in later
	// batches too, wait.
	held map[aggregateKey]bool
}

func (r *Relay) observeBacklog(ctx context.Context) {
	n, err := Backlog(ctx, r.db)
	if err != nil {
		return
	}
	r.backlog.Set(float64(n))
	var oldest time.Duration
	now := r.opts.Now()
	for _, w := range r.watched {
		oldest = max(oldest, now.Sub(w.since))
	}
	r.oldest.Set(oldest.Seconds())
}

type aggregateKey struct{ collection, id string }

// readBatch reads up to Batch pointers in announcement order, those after after if it is set.
func (r *Relay) readBatch(ctx context.Context, after *pointer) ([]pointer, error) {
	filter := bson.D{}
	if after != nil {
		filter = bson.D{{Key: "$or", Value: bson.A{
			bson.D{{Key: "created_at", Value: bson.D{{Key: "$gt", Value: after.CreatedAt}}}},
			bson.D{{Key: "created_at", Value: after.CreatedAt}, {Key: "_id", Value: bson.D{{Key: "$gt", Value: after.ID}}}},
		}}}
	}
	cur, err := r.db.Collection(PointerCollection).Find(ctx, filter,
		options.Find().SetSort(bson.D{{Key: "created_at", Value: 1}, {Key: "_id", Value: 1}}).SetLimit(int64(r.opts.Batch)))
	if err != nil {
		return nil, fmt.Errorf("read outbox pointers: %w", err)
	}
	var ptrs []pointer
	if err := cur.All(ctx, &ptrs); err != nil {
		return nil, fmt.Errorf("read outbox pointers: %w", err)
	}
	return ptrs, nil
}

// relayBatch handles a batch of pointers, aggregate by aggregate in the order their oldest
// pointer was announced.
func (r *Relay) relayBatch(ctx context.Context, d *drain, ptrs []pointer) error {
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
		if d.held[k] {
			continue
		}
		held, err := r.relayAggregate(ctx, k, byAggregate[k])
		if err != nil {
			errs = append(errs, err)
		}
		if held || err != nil {
			d.held[k] = true
		}
	}
	return errors.Join(errs...)
}

// relayAggregate publishes one aggregate's announced events in Seq order, stopping at the first
// event it cannot publish yet, so that a later event never overtakes an earlier one. held
// reports that it stopped at such an event.
func (r *Relay) relayAggregate(ctx context.Context, k aggregateKey, ptrs []pointer) (held bool, err error) {
	slices.SortFunc(ptrs, func(a, b pointer) int { return cmp.Compare(a.Event.Seq, b.Event.Seq) })
	for _, p := range ptrs {
		if !p.Confirmed {
			stored, ok, err := r.resolve(ctx, p)
			if err != nil || !ok {
				return true, err
			}
			if stored == nil {
				continue // dropped
			}
			// The committed copy, not the announced one: writers racing for the same version
			// announce the same event id, and the first announcement may be the loser's.
			p.Event = *stored
		}
		if err := r.publish(ctx, p.ID, p.Event); err != nil {
			return true, fmt.Errorf("publish event %s of %s/%s: %w", p.ID, k.collection, k.id, err)
		}
		if err := r.dropPointer(ctx, p.ID); err != nil {
			return true, err
		}
		delete(r.watched, p.ID)
	}
	return false, nil
}

// resolve decides about an unconfirmed pointer. ok false: not yet, the event waits. Otherwise
// stored is the committed event to publish, or nil when the pointer was dropped because its
// write did not commit.
//
// Only one outcome is final before Abandon: the document exists without the event. The commit
// is the insert of that document (the protocol, see the package comment), so another write took
// it and this one can never land. A missing document proves nothing: the write may still be on
// its way (a stalled connection, a retried write), so the pointer stays, looked at again every
// Grace, and holds back its aggregate's later events, as an unconfirmed event always does. Only
// after Abandon is it given up, and even then a write that lands is published if its writer
// lives to Confirm, which announces it again.
func (r *Relay) resolve(ctx context.Context, p pointer) (stored *Event, ok bool, err error) {
	w := r.watched[p.ID]
	now := r.opts.Now()
	if now.Sub(w.since) < r.opts.Grace || now.Before(w.next) {
		return nil, false, nil // its write may still be in flight
	}
	e, state, err := r.committed(ctx, p)
	switch {
	case err != nil:
		return nil, false, err
	case state == eventCommitted:
		return &e, true, nil
	case state == documentMissing && now.Sub(w.since) < r.opts.Abandon:
		r.watched[p.ID] = watch{since: w.since, next: now.Add(r.opts.Grace)}
		return nil, false, nil
	}
	if err := r.dropPointer(ctx, p.ID); err != nil {
		return nil, false, err
	}
	delete(r.watched, p.ID)
	r.orphans.Inc()
	r.log.Warn("dropped outbox pointer whose write did not commit", "event_id", p.ID,
		"collection", p.Collection, "aggregate_id", p.AggregateID, "document_found", state == documentWithoutEvent)
	return nil, true, nil
}

// commitState is what the relay found in the document a pointer names.
type commitState int

const (
	documentMissing      commitState = iota // the write has not landed, or never will
	documentWithoutEvent                    // another write took the document
	eventCommitted                          // the write committed the event
)

// committed looks in the document the pointer names for the event, and returns it as
// committed. Only unconfirmed pointers past their grace period need this lookup.
func (r *Relay) committed(ctx context.Context, p pointer) (Event, commitState, error) {
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
		return Event{}, documentMissing, nil
	case err != nil:
		return Event{}, documentMissing, fmt.Errorf("load %s/%s: %w", p.Collection, id, err)
	}
	e, ok := doc.Outbox[p.ID]
	if !ok {
		return Event{}, documentWithoutEvent, nil
	}
	return e, eventCommitted, nil
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
