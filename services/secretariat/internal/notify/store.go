// Package notify is the secretariat's durable queue of notifications: every invitation,
// addendum, reminder and circulation of minutes is kept with its recipients and the delivery
// state of each, and delivered by e-mail until the mail server has accepted it for every
// recipient, once each, whether the server is down for a day or several replicas deliver at
// once.
//
// Three collections, every write addressed by _id (docs/decisions.md 14, 17):
//
//   - notifications: the notification itself, claimed by its caller-chosen id, with one
//     delivery per recipient. Its in-app inbox reads it.
//   - notification_pending: one entry per notification with a recipient not yet served, and
//     when to try next. Deliverers read only these, so their work grows with what is pending,
//     never with what was ever sent.
//   - notification_leases: the rounds of delivery, <id>@1, <id>@2…, each claimed by an insert
//     and held until a time. A conditional update on a lease field would be simpler, but
//     FerretDB does not make it atomic (docs/decisions.md 4): two deliverers could both win it
//     and both send. An insert is atomic everywhere, so exactly one deliverer holds a round.
//
// Notifications carry case codes and referral ids, never a person: the callers see to that.
// Nothing here logs a subject, a text or an attachment.
package notify

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/nrm-albania/nrm/services/platform/mongodb"
	secmail "github.com/nrm-albania/nrm/services/secretariat/internal/mail"
)

// The collections of the queue.
const (
	NotificationsCollection = "notifications"
	PendingCollection       = "notification_pending"
	LeasesCollection        = "notification_leases"
)

// The states of a delivery.
const (
	// StatePending: not yet accepted by the mail server; it will be tried again.
	StatePending = "pending"
	// StateSent: the mail server accepted the message for the recipient.
	StateSent = "sent"
	// StateFailed: the mail server refused the recipient or the message for good (a 5xx
	// reply); it is not tried again, and the secretariat sees why in LastError.
	StateFailed = "failed"
)

// Notification is one notice to several recipients.
type Notification struct {
	// ID is chosen by the caller from what the notice is, e.g. "invitation/<meeting id>/1", so
	// that a caller that retries enqueues the same notification, which is then sent once.
	ID   string `bson:"_id"`
	Kind string `bson:"kind"` // invitation, addendum, reminder, minutes…
	// MeetingID is the meeting the notice concerns, if any.
	MeetingID string `bson:"meeting_id,omitempty"`
	// Institutions are the codes of the institutions whose in-app inbox shows the notice.
	Institutions []string    `bson:"institutions"`
	Recipients   []Recipient `bson:"recipients"`
	// Subject, Text, Calendar and Attachments make the message (mail.Message).
	Subject     string               `bson:"subject"`
	Text        string               `bson:"text"`
	Calendar    []byte               `bson:"calendar,omitempty"`
	Attachments []secmail.Attachment `bson:"attachments,omitempty"`
	CreatedAt   time.Time            `bson:"created_at"`
	// Deliveries are set by Enqueue, one per distinct address, in the recipients' order.
	Deliveries []Delivery `bson:"deliveries"`
}

// Recipient is a person the notice is sent to: a member's representative or substitute, an
// invitee. Staff contacts, never a victim.
type Recipient struct {
	Institution string `bson:"institution"`
	Name        string `bson:"name"`
	Address     string `bson:"address"`
}

// Delivery is the fate of the notice for one address.
type Delivery struct {
	Address   string    `bson:"address"`
	State     string    `bson:"state"`
	Attempts  int       `bson:"attempts"`
	LastError string    `bson:"last_error,omitempty"`
	SentAt    time.Time `bson:"sent_at,omitempty"`
}

// pending is a notification's entry in notification_pending.
type pending struct {
	ID string `bson:"_id"`
	// NextAt is when a deliverer should try next.
	NextAt time.Time `bson:"next_at"`
	// Round is the last delivery round known to have been claimed; later ones may exist.
	Round int64 `bson:"round"`
	// CreatedAt dates the entry, to recognise one whose notification never came.
	CreatedAt time.Time `bson:"created_at"`
}

// lease is a claimed round of delivery, <notification id>@<round>.
type lease struct {
	ID           string    `bson:"_id"`
	Notification string    `bson:"notification"`
	Holder       string    `bson:"holder"`
	Until        time.Time `bson:"until"`
}

// Store keeps the notifications in the secretariat's database.
type Store struct {
	notifications, pending, leases *mongo.Collection
}

// NewStore returns a store over db.
func NewStore(db *mongo.Database) *Store {
	return &Store{
		notifications: db.Collection(NotificationsCollection),
		pending:       db.Collection(PendingCollection),
		leases:        db.Collection(LeasesCollection),
	}
}

// Enqueue keeps n for delivery: its deliveries all pending, CreatedAt now unless set. Enqueuing
// an id that exists does nothing, whatever n holds: a retried caller never sends twice. An
// invalid notification is refused, naming every problem, and nothing is written.
//
// It writes the pending entry first, then claims the notification. A caller stopped between
// the two leaves an entry without a notification, which its retry completes; an entry whose
// notification has not come after DelivererOptions.Abandon is dropped by the deliverer. The
// other order could leave a notification that no deliverer ever looks at. The drop and a late
// retry could still cross (the deliverer finding no notification, the retry finding the
// entry), so each checks after its write: Enqueue that the entry is still there, the deliverer
// that no notification came meanwhile, and whichever sees the other puts the entry back.
func (s *Store) Enqueue(ctx context.Context, n Notification) error {
	if err := prepare(&n); err != nil {
		return err
	}
	var existing Notification
	found, err := mongodb.FindByID(ctx, s.notifications, n.ID, &existing)
	if err != nil {
		return wrap(n.ID, "look for", err)
	}
	if found {
		return nil
	}
	entry := pending{ID: n.ID, NextAt: n.CreatedAt, CreatedAt: n.CreatedAt}
	if err := s.claimPending(ctx, entry); err != nil {
		return err
	}
	switch err := mongodb.Claim(ctx, s.notifications, n); {
	case errors.Is(err, mongodb.ErrTaken):
		return nil // a concurrent Enqueue of the same id won
	case err != nil:
		return wrap(n.ID, "store", mongodb.Classify(err))
	}
	var p pending
	found, err = mongodb.FindByID(ctx, s.pending, n.ID, &p)
	if err != nil {
		return wrap(n.ID, "check the pending entry of", err)
	}
	if !found {
		return s.claimPending(ctx, entry)
	}
	return nil
}

// claimPending writes the pending entry unless one exists.
func (s *Store) claimPending(ctx context.Context, p pending) error {
	if err := mongodb.Claim(ctx, s.pending, p); err != nil && !errors.Is(err, mongodb.ErrTaken) {
		return wrap(p.ID, "queue", mongodb.Classify(err))
	}
	return nil
}

// Get returns the notification id, or an error wrapping mongodb.ErrNotFound.
func (s *Store) Get(ctx context.Context, id string) (Notification, error) {
	var n Notification
	found, err := mongodb.FindByID(ctx, s.notifications, id, &n)
	if err != nil {
		return Notification{}, wrap(id, "read", err)
	}
	if !found {
		return Notification{}, fmt.Errorf("notification %s: %w", id, mongodb.ErrNotFound)
	}
	return n, nil
}

// prepare validates n and sets its deliveries and creation time.
func prepare(n *Notification) error {
	var errs []error
	if strings.TrimSpace(n.ID) == "" {
		errs = append(errs, errors.New("no id"))
	}
	if strings.TrimSpace(n.Kind) == "" {
		errs = append(errs, errors.New("no kind"))
	}
	if strings.TrimSpace(n.Subject) == "" || strings.ContainsAny(n.Subject, "\r\n") {
		errs = append(errs, errors.New("the subject must be one line of text"))
	}
	if len(n.Recipients) == 0 {
		errs = append(errs, errors.New("no recipients"))
	}
	n.Deliveries = nil
	seen := map[string]bool{}
	for i, r := range n.Recipients {
		if a, err := mail.ParseAddress(r.Address); err != nil || a.Address != r.Address {
			errs = append(errs, fmt.Errorf("recipient %d: %q is not an e-mail address such as perfaqesuesi@asp.gov.al", i+1, r.Address))
			continue
		}
		// A person listed twice (a representative who is also an invitee) is written to once.
		if key := strings.ToLower(r.Address); !seen[key] {
			seen[key] = true
			n.Deliveries = append(n.Deliveries, Delivery{Address: r.Address, State: StatePending})
		}
	}
	if n.Calendar != nil {
		if _, err := secmail.CalendarMethod(n.Calendar); err != nil {
			errs = append(errs, err)
		}
	}
	for i, a := range n.Attachments {
		if err := a.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("attachment %d: %w", i+1, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("notification %q refused: %w", n.ID, err)
	}
	if n.CreatedAt.IsZero() {
		n.CreatedAt = time.Now()
	}
	// The store keeps milliseconds; so does the value the caller compares with what it reads.
	n.CreatedAt = n.CreatedAt.UTC().Truncate(time.Millisecond)
	return nil
}

func wrap(id, what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s notification %s: %w", what, id, err)
}
