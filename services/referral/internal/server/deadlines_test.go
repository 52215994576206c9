package server

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	caseregistryv1 "github.com/nrm-albania/nrm/proto/nrm/caseregistry/v1"
	referralv1 "github.com/nrm-albania/nrm/proto/nrm/referral/v1"
	"github.com/nrm-albania/nrm/services/platform/auth"
	"github.com/nrm-albania/nrm/services/platform/piicrypto"
	"github.com/nrm-albania/nrm/services/platform/testenv"
	"github.com/nrm-albania/nrm/services/referral/internal/cases"
	"github.com/nrm-albania/nrm/services/referral/internal/deadlines"
	"github.com/nrm-albania/nrm/services/referral/internal/providers"
	"github.com/nrm-albania/nrm/services/referral/internal/referrals"
)

// oneCase is a registry that knows one adult's case, with consent to referral.
type oneCase cases.Case

func (c oneCase) Case(context.Context, string) (cases.Case, error) { return cases.Case(c), nil }

type quietRelay struct{}

func (quietRelay) Notify() {}

// clock is a settable time source shared by the servers of a test.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Set(t time.Time)         { c.mu.Lock(); c.now = t; c.mu.Unlock() }
func (c *clock) Advance(d time.Duration) { c.Set(c.Now().Add(d)) }

func keys(t *testing.T) (*piicrypto.MasterKeys, *piicrypto.IndexKey) {
	t.Helper()
	k := func() string { b := make([]byte, 32); _, _ = rand.Read(b); return base64.StdEncoding.EncodeToString(b) }
	mk, err := piicrypto.ParseMasterKeys("k1:" + k())
	if err != nil {
		t.Fatal(err)
	}
	ik, err := piicrypto.ParseIndexKey(k())
	if err != nil {
		t.Fatal(err)
	}
	return mk, ik
}

// deadlineServers returns n servers over one fresh database, as replicas, on clk.
func deadlineServers(t *testing.T, clk *clock, n int) []*Server {
	t.Helper()
	db := testenv.Database(t)
	ps := providers.New(db)
	if err := ps.Seed(context.Background(), providers.Defaults(), clk.Now()); err != nil {
		t.Fatal(err)
	}
	mk, ik := keys(t)
	c := oneCase{ID: uuid.NewString(), Code: "VT-2026-00007", ReferralConsent: caseregistryv1.ConsentDecision_CONSENT_DECISION_GIVEN.String()}
	var out []*Server
	for range n {
		s := New(Deps{Providers: ps, Referrals: referrals.New(db), Cases: c, Keys: mk, Index: ik,
			Deadlines: deadlines.Policy{Emergency: 24 * time.Hour, StandardDays: 5}, Grace: 48 * time.Hour,
			Relay: quietRelay{}, Log: slog.New(slog.DiscardHandler)})
		s.now = clk.Now
		out = append(out, s)
	}
	return out
}

func police() context.Context {
	return auth.NewContext(context.Background(), &auth.Principal{Institution: "ASP-ANTITRAF", Subject: "officer-7", Roles: []auth.Role{auth.RoleCaseworker}})
}

func emergency(caseID string) *referralv1.CreateReferralRequest {
	return &referralv1.CreateReferralRequest{CaseId: caseID, ServiceType: referralv1.ServiceType_SERVICE_TYPE_SHELTER,
		ProviderCode: "KKSAT", Urgency: referralv1.ReferralUrgency_REFERRAL_URGENCY_EMERGENCY, Reason: "tonight"}
}

// kinds is the history of a referral, by kind of change.
func kinds(t *testing.T, s *Server, id string) []string {
	t.Helper()
	h, err := s.Referrals.History(context.Background(), id, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range h {
		out = append(out, e.Change.Kind)
	}
	return out
}

// A pending referral is overdue once past its deadline and expires once past the grace, whether
// the sweep runs again, on several replicas at once, or after a restart.
func TestAnUnansweredReferralIsOverdueOnceThenExpiresOnce(t *testing.T) {
	clk := &clock{now: time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)}
	replicas := deadlineServers(t, clk, 3)
	s := replicas[0]
	ctx := context.Background()
	caseID := s.Cases.(oneCase).ID
	made, err := s.CreateReferral(police(), emergency(caseID))
	if err != nil {
		t.Fatal(err)
	}
	id := made.GetReferral().GetId()
	if due := made.GetReferral().GetDueAt().AsTime(); !due.Equal(clk.Now().Add(24 * time.Hour)) {
		t.Fatalf("due %s", due)
	}
	answered, err := s.CreateReferral(police(), emergency(caseID))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AcceptReferral(auth.NewContext(ctx, &auth.Principal{Institution: "KKSAT", Subject: "s", Roles: []auth.Role{auth.RoleCaseworker}}),
		&referralv1.AcceptReferralRequest{Id: answered.GetReferral().GetId()}); err != nil {
		t.Fatal(err)
	}

	sweepAll := func() {
		t.Helper()
		var wg sync.WaitGroup
		for _, r := range replicas {
			wg.Go(func() {
				if err := r.Sweep(ctx); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
	}
	clk.Advance(23 * time.Hour)
	sweepAll()
	if got := kinds(t, s, id); len(got) != 1 {
		t.Fatalf("before the deadline: %v", got)
	}
	clk.Advance(2 * time.Hour)
	sweepAll()
	sweepAll()
	// A restart: a new server over the same database, on the same clock.
	restarted := deadlineServers(t, clk, 1)[0]
	restarted.Referrals, restarted.Providers, restarted.Cases = s.Referrals, s.Providers, s.Cases
	if err := restarted.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if got := kinds(t, s, id); len(got) != 2 || got[1] != "overdue" {
		t.Fatalf("past the deadline: %v, want overdue once", got)
	}
	r, err := s.Referrals.Get(ctx, id)
	if err != nil || !r.Overdue || r.State != referrals.Pending {
		t.Fatalf("overdue referral: %+v, %v", r, err)
	}
	clk.Advance(48 * time.Hour)
	sweepAll()
	sweepAll()
	if got := kinds(t, s, id); len(got) != 3 || got[2] != "expired" {
		t.Fatalf("past the grace: %v, want expired once", got)
	}
	h, _ := s.Referrals.History(ctx, id, 2, 1)
	if by := h[0].Change; by.Institution != "NRM" || by.Subject != "referral/deadlines" {
		t.Errorf("the expiry is recorded as %s/%s", by.Institution, by.Subject)
	}
	if got := kinds(t, s, answered.GetReferral().GetId()); len(got) != 2 {
		t.Errorf("an accepted referral was swept: %v", got)
	}
	if pending, err := s.Referrals.Pending(ctx); err != nil || len(pending) != 0 {
		t.Errorf("pending entries left: %v, %v", pending, err)
	}
	if _, err := s.AcceptReferral(auth.NewContext(ctx, &auth.Principal{Institution: "KKSAT", Subject: "s", Roles: []auth.Role{auth.RoleCaseworker}}),
		&referralv1.AcceptReferralRequest{Id: id}); err == nil {
		t.Error("an expired referral was accepted")
	}
}
