package notify

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/nrm-albania/nrm/services/platform/mongodb"
	secmail "github.com/nrm-albania/nrm/services/secretariat/internal/mail"
)

// DelivererOptions tune a Deliverer. Zero values take the defaults in brackets.
type DelivererOptions struct {
	// From is the sender of every message; required when there is a mail server.
	From string
	// Interval between two looks at the pending notifications when nothing wakes the
	// deliverer [10s].
	Interval time.Duration
	// MinBackoff and MaxBackoff bound the wait after a round with a failed delivery: it doubles
	// with the attempts, from MinBackoff up to MaxBackoff [30s, 1h].
	MinBackoff, MaxBackoff time.Duration
	// Lease is how long a round of delivery is held by the deliverer that claimed it. Sending
	// stops at three quarters of it, so that a round never outlives its lease by the length of
	// a send; it must exceed a send's timeout by a margin, and the replicas' clocks must agree
	// to well within it [5m].
	Lease time.Duration
	// Abandon is the age at which a pending entry whose notification never came (its Enqueue
	// stopped half-way and was not retried) is dropped [24h].
	Abandon time.Duration
	// Now is the clock of leases, backoff and ages [time.Now].
	Now func() time.Time
	// Log receives the delivery failures, never the content [discard].
	Log *slog.Logger
	// Registerer, when set, receives the metrics.
	Registerer prometheus.Registerer
}

// Deliverer sends the pending notifications through a mail server.
//
// Each notification is delivered in rounds. A deliverer claims the next round (an insert of
// <id>@<n> in notification_leases, which one writer alone can make), reads the notification
// again, sends one message to each recipient not yet served, records each outcome in the
// notification at once, and then either drops the pending entry (no one left to serve) or sets
// when to try again, with an exponential backoff. Of several replicas, only the one that holds
// the round sends, and no one sends to a recipient recorded as sent.
//
// What remains is at-least-once in one window: the mail server accepted a message, and the
// deliverer stopped (crash, lost database, lease run out) before it recorded "sent". The next
// round sends that recipient the message again. It is the same message: its Message-ID
// (mail.MessageID of "<notification id>/<address>") is derived from the notification and the
// recipient, so that the receiving server or the person can recognise the copy.
//
// With no mail server (a nil mail.Sender) nothing is sent: notifications stay pending, shown
// in the in-app inbox, and go out once a server is configured.
type Deliverer struct {
	store  *Store
	sender secmail.Sender
	opts   DelivererOptions
	holder string
	poke   chan struct{}
	// draining serialises Drain.
	draining sync.Mutex

	pendingGauge prometheus.Gauge
	sent         prometheus.Counter
	failures     *prometheus.CounterVec
}

// NewDeliverer returns a deliverer of the notifications in store through sender (nil: mail
// is off).
func NewDeliverer(store *Store, sender secmail.Sender, o DelivererOptions) (*Deliverer, error) {
	if sender != nil {
		if a, err := mail.ParseAddress(o.From); err != nil || a.Address != o.From {
			return nil, fmt.Errorf("notification sender %q is not an e-mail address", o.From)
		}
	}
	o.Interval = positive(o.Interval, 10*time.Second)
	o.MinBackoff = positive(o.MinBackoff, 30*time.Second)
	o.MaxBackoff = positive(o.MaxBackoff, time.Hour)
	o.Lease = positive(o.Lease, 5*time.Minute)
	o.Abandon = positive(o.Abandon, 24*time.Hour)
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	host, _ := os.Hostname()
	d := &Deliverer{
		store: store, sender: sender, opts: o, poke: make(chan struct{}, 1),
		holder: fmt.Sprintf("%s/%d/%s", host, os.Getpid(), rand.Text()[:8]),
		pendingGauge: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "nrm_notifications_pending", Help: "Notifications with a recipient the mail server has not accepted yet.",
		}),
		sent: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "nrm_notification_messages_sent_total", Help: "Messages the mail server accepted, one per recipient.",
		}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "nrm_notification_delivery_failures_total",
			Help: "Failed deliveries to one recipient: transient (tried again) or permanent (refused for good).",
		}, []string{"kind"}),
	}
	if o.Registerer != nil {
		if err := registerAll(o.Registerer, d.pendingGauge, d.sent, d.failures); err != nil {
			return nil, fmt.Errorf("notification metrics: %w", err)
		}
	}
	return d, nil
}

func registerAll(r prometheus.Registerer, cs ...prometheus.Collector) error {
	for _, c := range cs {
		if err := r.Register(c); err != nil {
			return err
		}
	}
	return nil
}

func positive(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// Notify wakes the deliverer after an Enqueue, so that the notice goes out now rather than at
// the next look. It never blocks.
func (d *Deliverer) Notify() {
	select {
	case d.poke <- struct{}{}:
	default:
	}
}

// Run delivers until ctx ends; it is the service's worker.
func (d *Deliverer) Run(ctx context.Context) error {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-d.poke:
		case <-timer.C:
		}
		if err := d.Drain(ctx); err != nil && ctx.Err() == nil {
			d.opts.Log.Warn("notifications: a pass over the queue failed; will retry", "error", err, "retry_in", d.opts.Interval)
		}
		timer.Reset(d.opts.Interval)
	}
}

// Drain makes one pass over the pending notifications, delivering those that are due. A
// failed delivery is recorded and waits for its next attempt; the error returned is the
// queue's own (the database).
func (d *Deliverer) Drain(ctx context.Context) error {
	d.draining.Lock()
	defer d.draining.Unlock()
	cur, err := d.store.pending.Find(ctx, bson.D{})
	if err != nil {
		return fmt.Errorf("read the pending notifications: %w", mongodb.Classify(err))
	}
	var entries []pending
	if err := cur.All(ctx, &entries); err != nil {
		return fmt.Errorf("read the pending notifications: %w", mongodb.Classify(err))
	}
	d.pendingGauge.Set(float64(len(entries)))
	if d.sender == nil {
		return nil
	}
	var errs []error
	for _, p := range entries {
		if ctx.Err() != nil {
			break
		}
		if d.opts.Now().Before(p.NextAt) {
			continue
		}
		if err := d.deliver(ctx, p); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// deliver serves the notification of the pending entry p, if no other deliverer is.
func (d *Deliverer) deliver(ctx context.Context, p pending) error {
	n, found, err := d.notification(ctx, p.ID)
	switch {
	case err != nil:
		return err
	case !found:
		return d.dropOrphan(ctx, p)
	case !hasPending(n):
		return d.finish(ctx, p.ID)
	}
	round, ok, err := d.claimRound(ctx, p)
	if err != nil || !ok {
		return err
	}
	// Read again under the lease: another deliverer may have served recipients since.
	if n, _, err = d.notification(ctx, p.ID); err != nil {
		return err
	}
	// Sends stop well before the lease ends (on this machine's clock: the context's deadline
	// must be real time even when Now is not).
	sendCtx, cancel := context.WithTimeout(ctx, d.opts.Lease*3/4)
	defer cancel()
	failed := false
	for i := range n.Deliveries {
		if n.Deliveries[i].State != StatePending || sendCtx.Err() != nil {
			continue
		}
		failed = d.send(sendCtx, &n, i) || failed
		if err := d.recordDeliveries(ctx, n); err != nil {
			return err // the lease runs out; the next round starts from what was recorded
		}
	}
	if !hasPending(n) {
		return d.finish(ctx, n.ID)
	}
	next := d.opts.Now()
	if failed {
		next = next.Add(d.backoff(n))
	}
	if _, err := d.store.pending.UpdateOne(ctx, bson.D{{Key: "_id", Value: n.ID}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "next_at", Value: next}, {Key: "round", Value: round}}}}); err != nil {
		return fmt.Errorf("reschedule notification %s: %w", n.ID, mongodb.Classify(err))
	}
	// Release the round, so that the next one need not wait for the lease to run out.
	if _, err := d.store.leases.UpdateOne(ctx, bson.D{{Key: "_id", Value: mongodb.VersionID(n.ID, round)}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "until", Value: d.opts.Now()}}}}); err != nil {
		return fmt.Errorf("release round %d of notification %s: %w", round, n.ID, mongodb.Classify(err))
	}
	return nil
}

// send sends delivery i of n and records the outcome in n; it reports a failure.
func (d *Deliverer) send(ctx context.Context, n *Notification, i int) (failed bool) {
	del := &n.Deliveries[i]
	del.Attempts++
	raw, err := d.message(*n, del.Address).Render(d.opts.Now())
	if err == nil {
		err = d.sender.Send(ctx, d.opts.From, del.Address, raw)
	}
	switch {
	case err == nil:
		del.State, del.LastError, del.SentAt = StateSent, "", d.opts.Now().UTC()
		d.sent.Inc()
		return false
	case errors.Is(err, secmail.ErrRejected):
		del.State, del.LastError = StateFailed, err.Error()
		d.failures.WithLabelValues("permanent").Inc()
		d.opts.Log.Warn("notification refused for good by the mail server",
			"notification", n.ID, "recipient", del.Address, "error", err)
	default:
		del.LastError = err.Error()
		d.failures.WithLabelValues("transient").Inc()
		d.opts.Log.Warn("notification not delivered; will retry",
			"notification", n.ID, "recipient", del.Address, "attempts", del.Attempts, "error", err)
	}
	return true
}

// message is n's message to address, its id the notification's and the address's.
func (d *Deliverer) message(n Notification, address string) secmail.Message {
	to := address
	for _, r := range n.Recipients {
		if r.Address == address && r.Name != "" {
			to = (&mail.Address{Name: r.Name, Address: address}).String()
			break
		}
	}
	return secmail.Message{
		ID: n.ID + "/" + address, From: d.opts.From, To: to,
		Subject: n.Subject, Text: n.Text, Calendar: n.Calendar, Attachments: n.Attachments,
	}
}

// backoff is the wait before the next round: MinBackoff doubled for each attempt the most
// tried pending recipient has had beyond the first, at most MaxBackoff.
func (d *Deliverer) backoff(n Notification) time.Duration {
	attempts := 0
	for _, del := range n.Deliveries {
		if del.State == StatePending {
			attempts = max(attempts, del.Attempts)
		}
	}
	wait := d.opts.MinBackoff
	for i := 1; i < attempts && wait < d.opts.MaxBackoff; i++ {
		wait *= 2
	}
	return min(wait, d.opts.MaxBackoff)
}

// claimRound claims the round after the last one claimed, unless that one is still held. The
// rounds are dense, so the last is found by following them from the entry's.
func (d *Deliverer) claimRound(ctx context.Context, p pending) (int64, bool, error) {
	var last lease
	id := func(n int64) string { return mongodb.VersionID(p.ID, n) }
	round, err := mongodb.Follow(ctx, d.store.leases, id, max(p.Round-1, 0), func(_ int64, raw bson.Raw) (bool, error) {
		return true, bson.Unmarshal(raw, &last)
	})
	if err != nil {
		return 0, false, fmt.Errorf("rounds of notification %s: %w", p.ID, mongodb.Classify(err))
	}
	now := d.opts.Now()
	if round > 0 && now.Before(last.Until) {
		return 0, false, nil // another deliverer holds it
	}
	round++
	l := lease{ID: id(round), Notification: p.ID, Holder: d.holder, Until: now.Add(d.opts.Lease)}
	switch err := mongodb.Claim(ctx, d.store.leases, l); {
	case errors.Is(err, mongodb.ErrTaken):
		return 0, false, nil
	case err != nil:
		return 0, false, fmt.Errorf("claim round %d of notification %s: %w", round, p.ID, mongodb.Classify(err))
	}
	return round, true, nil
}

func (d *Deliverer) notification(ctx context.Context, id string) (Notification, bool, error) {
	var n Notification
	found, err := mongodb.FindByID(ctx, d.store.notifications, id, &n)
	if err != nil {
		return Notification{}, false, fmt.Errorf("read notification %s: %w", id, err)
	}
	return n, found, nil
}

// recordDeliveries writes n's deliveries. The holder of the round is their only writer.
func (d *Deliverer) recordDeliveries(ctx context.Context, n Notification) error {
	if _, err := d.store.notifications.UpdateOne(ctx, bson.D{{Key: "_id", Value: n.ID}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "deliveries", Value: n.Deliveries}}}}); err != nil {
		return fmt.Errorf("record the deliveries of notification %s: %w", n.ID, mongodb.Classify(err))
	}
	return nil
}

// finish drops a served notification's rounds, then its pending entry: stopped in between, the
// entry is still there and the next pass finishes.
func (d *Deliverer) finish(ctx context.Context, id string) error {
	if _, err := d.store.leases.DeleteMany(ctx, bson.D{{Key: "notification", Value: id}}); err != nil {
		return fmt.Errorf("drop the rounds of notification %s: %w", id, mongodb.Classify(err))
	}
	if _, err := d.store.pending.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}}); err != nil {
		return fmt.Errorf("drop the pending entry of notification %s: %w", id, mongodb.Classify(err))
	}
	return nil
}

// dropOrphan drops an entry whose notification has not come after DelivererOptions.Abandon,
// then looks again: if the notification came meanwhile, it puts the entry back (see
// Store.Enqueue).
func (d *Deliverer) dropOrphan(ctx context.Context, p pending) error {
	if d.opts.Now().Sub(p.CreatedAt) < d.opts.Abandon {
		return nil
	}
	if err := d.finish(ctx, p.ID); err != nil {
		return err
	}
	_, found, err := d.notification(ctx, p.ID)
	if err != nil || !found {
		return err
	}
	p.NextAt = d.opts.Now()
	return d.store.claimPending(ctx, p)
}

func hasPending(n Notification) bool {
	for _, del := range n.Deliveries {
		if del.State == StatePending {
			return true
		}
	}
	return false
}
