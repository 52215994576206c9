package meetings

import (
	"fmt"
	"sync"

	"slices"
	"testing"
	"time"

	"github.com/nrm-albania/nrm/services/platform/testenv"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestPresentAt(t *testing.T) {
	t0 := time.Date(2026, 12, 15, 9, 0, 0, 0, time.UTC)
	m := Meeting{Attendance: []Attendance{
		{Institution: "MB-DPAM", Presence: "PRESENCE_REPRESENTATIVE", ArrivedAt: t0},
		{Institution: "KKSAT", Presence: "PRESENCE_SUBSTITUTE", ArrivedAt: t0.Add(30 * time.Minute)},
		{Institution: "MAS", Presence: "PRESENCE_REPRESENTATIVE", ArrivedAt: t0, LeftAt: t0.Add(time.Hour)},
		{Institution: "AKPA", Presence: "PRESENCE_ABSENT"},
	}}
	cases := []struct {
		at   time.Duration
		want []string
	}{
		{-time.Minute, nil},
		{0, []string{"MB-DPAM", "MAS"}},
		{45 * time.Minute, []string{"MB-DPAM", "KKSAT", "MAS"}},
		{time.Hour, []string{"MB-DPAM", "KKSAT"}}, // left at that moment
	}
	for _, tt := range cases {
		if got := m.Present(t0.Add(tt.at)); !slices.Equal(got, tt.want) {
			t.Errorf("Present(+%s) = %v, want %v", tt.at, got, tt.want)
		}
	}
}

func TestRequire(t *testing.T) {
	cases := []struct {
		state  string
		allow  []string
		code   codes.Code
		reason string
	}{
		{Scheduled, []string{Scheduled}, codes.OK, ""},
		{Held, []string{Scheduled, InvitationsSent}, codes.FailedPrecondition, "INVALID_STATE"},
		{MinutesApproved, []string{MinutesDrafted}, codes.FailedPrecondition, "MINUTES_APPROVED"},
	}
	for _, tt := range cases {
		err := Meeting{ID: "m", State: tt.state}.Require("change", tt.allow...)
		if status.Code(err) != tt.code {
			t.Errorf("%s: %v, want %v", tt.state, err, tt.code)
		}
		if err != nil && !containsReason(err, tt.reason) {
			t.Errorf("%s: %v, want reason %s", tt.state, err, tt.reason)
		}
	}
}

func containsReason(err error, reason string) bool {
	for _, d := range status.Convert(err).Details() {
		if i, ok := d.(interface{ GetReason() string }); ok && i.GetReason() == reason {
			return true
		}
	}
	return false
}

func TestWasHeld(t *testing.T) {
	for state, want := range map[string]bool{Scheduled: false, InvitationsSent: false, InSession: false, Held: true,
		MinutesDrafted: true, MinutesCirculated: true, MinutesApproved: true, Cancelled: false} {
		if got := (Meeting{State: state}).Was(); got != want {
			t.Errorf("%s: Was = %v, want %v", state, got, want)
		}
	}
}

func TestMonthIsTirana(t *testing.T) {
	// 23:30 UTC on 30 November is already December in Tirana.
	if m := Month(time.Date(2026, 11, 30, 23, 30, 0, 0, time.UTC), mustTirana(t)); m != "2026-12" {
		t.Errorf("Month = %s, want 2026-12", m)
	}
}

func mustTirana(t *testing.T) *time.Location {
	loc, err := time.LoadLocation("Europe/Tirane")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestReferencesAreClaimedOnce(t *testing.T) {
	s := New(testenv.Database(t))
	ctx := t.Context()
	var wg sync.WaitGroup
	won := make(chan string, 8)
	for i := range 8 {
		wg.Go(func() {
			id := fmt.Sprintf("m-%d", i)
			if ok, err := s.ClaimReference(ctx, "MB-2026-12-R", id); err != nil {
				t.Error(err)
			} else if ok {
				won <- id
			}
		})
	}
	wg.Wait()
	close(won)
	var winners []string
	for id := range won {
		winners = append(winners, id)
	}
	if len(winners) != 1 {
		t.Fatalf("%d meetings took MB-2026-12-R: %v", len(winners), winners)
	}
	if ok, err := s.ClaimReference(ctx, "MB-2026-12-R", winners[0]); err != nil || !ok {
		t.Errorf("the winner's retry: %v %v", ok, err)
	}
}
