package notify

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/nrm-albania/nrm/services/platform/mongodb"
	"github.com/nrm-albania/nrm/services/platform/testenv"
	secmail "github.com/nrm-albania/nrm/services/secretariat/internal/mail"
	"github.com/nrm-albania/nrm/services/secretariat/internal/mail/mailtest"
)

const from = "secretariat@nrm.local"

// clock is a test's clock, moved by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

// newClock starts a little ahead of the real time, which stamps what Enqueue writes: a
// notification enqueued now is due on it.
func newClock() *clock {
	return &clock{now: time.Now().Add(time.Second).UTC().Truncate(time.Millisecond)}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// sender records what it is given to send and fails as it is told.
type sender struct {
	mu     sync.Mutex
	sent   []sentMessage
	down   bool
	reject map[string]bool
	delay  time.Duration
}

type sentMessage struct{ to, messageID string }

func (s *sender) Send(ctx context.Context, _, to string, raw []byte) error {
	time.Sleep(s.delay)
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.down:
		return errors.New("dial tcp 127.0.0.1:1025: connection refused")
	case s.reject[to]:
		return fmt.Errorf("RCPT TO: %w: 550 no such mailbox", secmail.ErrRejected)
	}
	msg, err := mail.ReadMessage(strings.NewReader(string(raw)))
	if err != nil {
		return err
	}
	s.sent = append(s.sent, sentMessage{to: to, messageID: msg.Header.Get("Message-ID")})
	return nil
}

func (s *sender) setDown(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = down
}

// perRecipient counts the messages sent to each address.
func (s *sender) perRecipient() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for _, m := range s.sent {
		out[m.to]++
	}
	return out
}

func invitation(id string, addresses ...string) Notification {
	n := Notification{
		ID: id, Kind: "invitation", MeetingID: "2026-12",
		Institutions: []string{"ASP-KUFIRI", "MB-DPAM"},
		Subject:      "Ftesë: mbledhja e rregullt e dhjetorit",
		Text:         "Rendi i ditës: VT-2026-00017, statusi.",
		Calendar:     []byte("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n"),
	}
	for i, a := range addresses {
		n.Recipients = append(n.Recipients, Recipient{Institution: "ASP-KUFIRI", Name: fmt.Sprintf("Përfaqësuesi %d", i+1), Address: a})
	}
	return n
}

func deliverer(t *testing.T, st *Store, s secmail.Sender, c *clock) *Deliverer {
	t.Helper()
	o := DelivererOptions{From: from, MinBackoff: time.Minute, MaxBackoff: 8 * time.Minute, Lease: time.Minute, Abandon: time.Hour}
	if c != nil {
		o.Now = c.Now
	}
	d, err := NewDeliverer(st, s, o)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func drain(t *testing.T, d *Deliverer) {
	t.Helper()
	if err := d.Drain(t.Context()); err != nil {
		t.Fatalf("Drain: %v", err)
	}
}

func enqueue(t *testing.T, st *Store, n Notification) {
	t.Helper()
	if err := st.Enqueue(t.Context(), n); err != nil {
		t.Fatalf("Enqueue: %v", err)
	}
}

func get(t *testing.T, st *Store, id string) Notification {
	t.Helper()
	n, err := st.Get(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func count(t *testing.T, c *mongo.Collection) int64 {
	t.Helper()
	n, err := c.CountDocuments(t.Context(), bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func states(n Notification) map[string]string {
	out := map[string]string{}
	for _, d := range n.Deliveries {
		out[d.Address] = d.State
	}
	return out
}

func TestDeliveredOnceToEachRecipient(t *testing.T) {
	st, s, c := NewStore(testenv.Database(t)), &sender{}, newClock()
	d := deliverer(t, st, s, c)
	// The representative is also listed as an invitee: one message.
	enqueue(t, st, invitation("invitation/2026-12/1", "perfaqesuesi@asp.gov.al", "zevendesi@asp.gov.al", "perfaqesuesi@asp.gov.al"))
	drain(t, d)
	drain(t, d)

	want := map[string]int{"perfaqesuesi@asp.gov.al": 1, "zevendesi@asp.gov.al": 1}
	if got := s.perRecipient(); !maps.Equal(got, want) {
		t.Fatalf("sent %v, want %v", got, want)
	}
	if s.sent[0].messageID != secmail.MessageID("invitation/2026-12/1/perfaqesuesi@asp.gov.al") {
		t.Errorf("Message-ID %s", s.sent[0].messageID)
	}
	n := get(t, st, "invitation/2026-12/1")
	for _, del := range n.Deliveries {
		if del.State != StateSent || del.Attempts != 1 || del.SentAt.IsZero() || del.LastError != "" {
			t.Errorf("delivery %+v, want sent at the first attempt", del)
		}
	}
	if p, l := count(t, st.pending), count(t, st.leases); p != 0 || l != 0 {
		t.Errorf("%d pending entries and %d rounds left behind", p, l)
	}
	if v := testutil.ToFloat64(d.sent); v != 2 {
		t.Errorf("sent metric %v, want 2", v)
	}
}

func TestMailServerDownThenBack(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{})
	srv.Stop()
	st, c := NewStore(testenv.Database(t)), newClock()
	d := deliverer(t, st, &secmail.SMTP{Addr: srv.Addr, TLS: secmail.TLSStartTLS, Timeout: 5 * time.Second}, c)
	recipients := []string{"a@asp.gov.al", "b@asp.gov.al", "c@mb.gov.al"}
	enqueue(t, st, invitation("invitation/2026-12/1", recipients...))

	drain(t, d)
	n := get(t, st, "invitation/2026-12/1")
	for _, del := range n.Deliveries {
		if del.State != StatePending || del.Attempts != 1 || !strings.Contains(del.LastError, "refused") {
			t.Errorf("with the server down: %+v, want pending after one attempt, with the error", del)
		}
	}
	// Backoff: nothing is tried again before a minute has passed.
	c.Advance(30 * time.Second)
	drain(t, d)
	if n := get(t, st, n.ID); n.Deliveries[0].Attempts != 1 {
		t.Errorf("tried again before the backoff: %+v", n.Deliveries[0])
	}
	c.Advance(time.Minute)
	drain(t, d)
	if n := get(t, st, n.ID); n.Deliveries[0].Attempts != 2 {
		t.Errorf("not tried again after the backoff: %+v", n.Deliveries[0])
	}

	srv.Restart()
	c.Advance(2 * time.Minute) // the second wait is twice the first
	drain(t, d)
	drain(t, d)
	got := map[string]int{}
	for _, m := range srv.Messages() {
		got[m.To]++
	}
	if want := map[string]int{"a@asp.gov.al": 1, "b@asp.gov.al": 1, "c@mb.gov.al": 1}; !maps.Equal(got, want) {
		t.Fatalf("the server received %v, want %v", got, want)
	}
	if n := get(t, st, n.ID); !maps.Equal(states(n), map[string]string{"a@asp.gov.al": StateSent, "b@asp.gov.al": StateSent, "c@mb.gov.al": StateSent}) {
		t.Errorf("states %v", states(n))
	}
	if v := testutil.ToFloat64(d.failures.WithLabelValues("transient")); v != 6 {
		t.Errorf("transient failures %v, want 6 (3 recipients, 2 attempts)", v)
	}
}

func TestConcurrentDeliverersSendEachMessageOnce(t *testing.T) {
	st, s := NewStore(testenv.Database(t)), &sender{delay: 5 * time.Millisecond}
	want := map[string]int{}
	for i := range 4 {
		var addresses []string
		for j := range 3 {
			a := fmt.Sprintf("r%d@institution%d.gov.al", j, i)
			addresses = append(addresses, a)
			want[a] = 1
		}
		enqueue(t, st, invitation(fmt.Sprintf("invitation/m%d/1", i), addresses...))
	}
	var wg sync.WaitGroup
	for range 4 {
		d := deliverer(t, st, s, nil) // replicas: each its own deliverer, on the real clock
		wg.Go(func() {
			for range 5 {
				if err := d.Drain(t.Context()); err != nil {
					t.Errorf("Drain: %v", err)
				}
			}
		})
	}
	wg.Wait()
	if got := s.perRecipient(); !maps.Equal(got, want) {
		t.Errorf("sent %v, want each once: %v", got, want)
	}
}

func TestARoundHeldByAnotherDelivererIsLeftToIt(t *testing.T) {
	st, s, c := NewStore(testenv.Database(t)), &sender{}, newClock()
	d := deliverer(t, st, s, c)
	enqueue(t, st, invitation("reminder/a1", "a@asp.gov.al"))
	if err := mongodb.Claim(t.Context(), st.leases, lease{ID: "reminder/a1@1", Notification: "reminder/a1", Holder: "other", Until: c.Now().Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	drain(t, d)
	if len(s.perRecipient()) != 0 {
		t.Fatal("sent while another deliverer held the round")
	}
	c.Advance(2 * time.Minute) // the other deliverer died: its lease runs out
	drain(t, d)
	if got := s.perRecipient(); got["a@asp.gov.al"] != 1 {
		t.Errorf("sent %v after the lease ran out, want one message", got)
	}
}

func TestARecipientRefusedForGood(t *testing.T) {
	st, s, c := NewStore(testenv.Database(t)), &sender{reject: map[string]bool{"gone@asp.gov.al": true}}, newClock()
	d := deliverer(t, st, s, c)
	enqueue(t, st, invitation("minutes/2026-11", "a@asp.gov.al", "gone@asp.gov.al"))
	drain(t, d)
	n := get(t, st, "minutes/2026-11")
	if !maps.Equal(states(n), map[string]string{"a@asp.gov.al": StateSent, "gone@asp.gov.al": StateFailed}) {
		t.Errorf("states %v", states(n))
	}
	if !strings.Contains(n.Deliveries[1].LastError, "550") {
		t.Errorf("the refusal is not recorded: %+v", n.Deliveries[1])
	}
	if count(t, st.pending) != 0 {
		t.Error("a notification with nobody left to serve is still pending")
	}
}

func TestWithoutAMailServerEverythingWaits(t *testing.T) {
	st := NewStore(testenv.Database(t))
	d := deliverer(t, st, nil, nil)
	enqueue(t, st, invitation("invitation/2026-12/1", "a@asp.gov.al"))
	drain(t, d)
	if n := get(t, st, "invitation/2026-12/1"); n.Deliveries[0].State != StatePending || n.Deliveries[0].Attempts != 0 {
		t.Errorf("delivery %+v, want pending, untried", n.Deliveries[0])
	}
	if v := testutil.ToFloat64(d.pendingGauge); v != 1 {
		t.Errorf("pending metric %v, want 1", v)
	}
}

func TestEnqueueTwiceKeepsOneNotification(t *testing.T) {
	st, s := NewStore(testenv.Database(t)), &sender{}
	first := invitation("invitation/2026-12/1", "a@asp.gov.al")
	enqueue(t, st, first)
	retry := first
	retry.Subject = "changed on the retry"
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			if err := st.Enqueue(t.Context(), retry); err != nil {
				t.Errorf("Enqueue again: %v", err)
			}
		})
	}
	wg.Wait()
	if n := count(t, st.notifications); n != 1 {
		t.Errorf("%d notifications, want 1", n)
	}
	if n := get(t, st, first.ID); n.Subject != first.Subject {
		t.Errorf("subject %q: the retry replaced the notification", n.Subject)
	}
	drain(t, deliverer(t, st, s, nil))
	enqueue(t, st, retry) // after it was delivered
	drain(t, deliverer(t, st, s, nil))
	if got := s.perRecipient(); got["a@asp.gov.al"] != 1 {
		t.Errorf("sent %v, want one message", got)
	}
}

func TestAnEnqueueStoppedHalfWay(t *testing.T) {
	st, s, c := NewStore(testenv.Database(t)), &sender{}, newClock()
	d := deliverer(t, st, s, c)
	// What an Enqueue leaves when it stops after the pending entry.
	if err := st.claimPending(t.Context(), pending{ID: "reminder/a1", NextAt: c.Now(), CreatedAt: c.Now()}); err != nil {
		t.Fatal(err)
	}
	drain(t, d)
	if count(t, st.pending) != 1 {
		t.Fatal("the entry was dropped while its Enqueue may still be retried")
	}
	enqueue(t, st, invitation("reminder/a1", "a@asp.gov.al")) // the retry
	drain(t, d)
	if got := s.perRecipient(); got["a@asp.gov.al"] != 1 {
		t.Errorf("sent %v after the retry, want one message", got)
	}

	// Never retried: dropped after a while.
	if err := st.claimPending(t.Context(), pending{ID: "reminder/a2", NextAt: c.Now(), CreatedAt: c.Now()}); err != nil {
		t.Fatal(err)
	}
	c.Advance(2 * time.Hour)
	drain(t, d)
	if n := count(t, st.pending); n != 0 {
		t.Errorf("%d pending entries, want the orphan dropped", n)
	}
}

func TestInvalidNotificationsAreRefused(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Notification)
		want string
	}{
		{"no id", func(n *Notification) { n.ID = " " }, "no id"},
		{"no kind", func(n *Notification) { n.Kind = "" }, "no kind"},
		{"no recipients", func(n *Notification) { n.Recipients = nil }, "no recipients"},
		{"an invalid address", func(n *Notification) { n.Recipients[1].Address = "zevendesi at asp" }, "recipient 2"},
		{"an address with a name", func(n *Notification) { n.Recipients[0].Address = "A <a@asp.gov.al>" }, "recipient 1"},
		{"no subject", func(n *Notification) { n.Subject = "" }, "subject"},
		{"a calendar that is no invitation", func(n *Notification) { n.Calendar = []byte("BEGIN:VCALENDAR\r\n") }, "METHOD"},
		{"an attachment without a type", func(n *Notification) { n.Attachments = []secmail.Attachment{{Name: "a.pdf"}} }, "attachment 1"},
	}
	st := NewStore(testenv.Database(t))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := invitation("invitation/2026-12/1", "a@asp.gov.al", "b@asp.gov.al")
			tt.edit(&n)
			err := st.Enqueue(t.Context(), n)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one saying %q", err, tt.want)
			}
			if p, m := count(t, st.pending), count(t, st.notifications); p != 0 || m != 0 {
				t.Errorf("%d pending entries and %d notifications written", p, m)
			}
		})
	}
}

func TestBackoffDoublesUpToItsCap(t *testing.T) {
	d := deliverer(t, nil, &sender{}, nil) // MinBackoff 1m, MaxBackoff 8m
	for _, tt := range []struct {
		attempts []int
		want     time.Duration
	}{
		{[]int{1}, time.Minute},
		{[]int{2}, 2 * time.Minute},
		{[]int{1, 3}, 4 * time.Minute},
		{[]int{4}, 8 * time.Minute},
		{[]int{30}, 8 * time.Minute},
	} {
		var n Notification
		for _, a := range tt.attempts {
			n.Deliveries = append(n.Deliveries, Delivery{State: StatePending, Attempts: a})
		}
		n.Deliveries = append(n.Deliveries, Delivery{State: StateSent, Attempts: 50}) // served: not counted
		if got := d.backoff(n); got != tt.want {
			t.Errorf("attempts %v: backoff %s, want %s", tt.attempts, got, tt.want)
		}
	}
}

func TestMetricsRegister(t *testing.T) {
	reg := prometheus.NewRegistry()
	if _, err := NewDeliverer(NewStore(testenv.Database(t)), nil, DelivererOptions{Registerer: reg}); err != nil {
		t.Fatal(err)
	}
	if _, err := NewDeliverer(nil, &sender{}, DelivererOptions{From: "secretariat"}); err == nil {
		t.Error("a sender that is not an address was taken")
	}
}
