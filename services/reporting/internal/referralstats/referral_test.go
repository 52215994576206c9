package referralstats

import (
	"context"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/nrm-albania/nrm/services/platform/testenv"
)

var created = time.Date(2025, 3, 10, 8, 0, 0, 0, time.UTC)

// ev is referral id's event at version v in state, created on 2025-03-10 for a shelter.
func ev(id string, v int64, state string, change ...func(*Event)) Event {
	e := Event{ReferralID: id, Version: v, Day: "2025-03-10", ServiceType: "SERVICE_TYPE_SHELTER", Provider: "SHELTER-TR",
		Sender: "ASP-ANTITRAF", Urgency: "REFERRAL_URGENCY_STANDARD", State: state, OccurredAt: created.Add(time.Duration(v) * time.Hour)}
	for _, c := range change {
		c(&e)
	}
	return e
}

// answered makes e the answer, after d.
func answered(d time.Duration) func(*Event) {
	return func(e *Event) { e.Answered, e.AnsweredAfter = true, int64(d/time.Second) }
}

func delivered(typ string) func(*Event) { return func(e *Event) { e.Delivered = typ } }

func overdue(e *Event) { e.Overdue = true }

const (
	pending   = "REFERRAL_STATE_PENDING"
	accepted  = "REFERRAL_STATE_ACCEPTED"
	declined  = "REFERRAL_STATE_DECLINED"
	completed = "REFERRAL_STATE_COMPLETED"
	expired   = "REFERRAL_STATE_EXPIRED"
)

func TestFiguresFollowEachReferral(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		events []Event
		want   Statistics
	}{
		{
			name:   "created then accepted: pending moves to accepted once, however often delivered",
			events: []Event{ev("r1", 1, pending), ev("r1", 2, accepted, answered(2*time.Hour)), ev("r1", 2, accepted, answered(2*time.Hour)), ev("r1", 1, pending)},
			want: Statistics{Total: 1, ByState: map[string]int64{accepted: 1}, Answered: 1, ResponseSeconds: 7200,
				ResponseHistogram: map[string]int64{"le_4h": 1}},
		},
		{
			name:   "out of order: completed before its acceptance, the answer still counts",
			events: []Event{ev("r1", 3, completed), ev("r1", 2, accepted, answered(30*time.Minute)), ev("r1", 1, pending)},
			want: Statistics{Total: 1, ByState: map[string]int64{completed: 1}, Answered: 1, ResponseSeconds: 1800,
				ResponseHistogram: map[string]int64{"le_1h": 1}},
		},
		{
			name: "each service delivered counts once, the same delivery delivered twice too",
			events: []Event{ev("r1", 1, pending), ev("r1", 2, accepted, answered(time.Hour)),
				ev("r1", 3, accepted, delivered("SERVICE_TYPE_SHELTER")), ev("r1", 3, accepted, delivered("SERVICE_TYPE_SHELTER")),
				ev("r1", 5, completed), ev("r1", 4, accepted, delivered("SERVICE_TYPE_MEDICAL"))},
			want: Statistics{Total: 1, ByState: map[string]int64{completed: 1}, Answered: 1, ResponseSeconds: 3600,
				ResponseHistogram: map[string]int64{"le_1h": 1},
				DeliveredByType:   map[string]int64{"SERVICE_TYPE_SHELTER": 1, "SERVICE_TYPE_MEDICAL": 1}},
		},
		{
			name:   "overdue, then expired: counted overdue, never answered",
			events: []Event{ev("r1", 1, pending), ev("r1", 2, pending, overdue), ev("r1", 3, expired, overdue)},
			want:   Statistics{Total: 1, Overdue: 1, ByState: map[string]int64{expired: 1}},
		},
		{
			name: "two referrals: the mean and the histogram of their answers",
			events: []Event{ev("r1", 1, pending), ev("r2", 1, pending), ev("r1", 2, accepted, answered(time.Hour)),
				ev("r2", 2, declined, answered(47*time.Hour), func(e *Event) { e.Provider = "CLINIC-DR" })},
			want: Statistics{Total: 2, ByState: map[string]int64{accepted: 1, declined: 1}, Answered: 2, ResponseSeconds: 48 * 3600,
				ResponseHistogram: map[string]int64{"le_1h": 1, "le_3d": 1}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := New(testenv.Database(t))
			ctx := context.Background()
			for _, e := range tc.events {
				if err := e.Validate(); err != nil {
					t.Fatal(err)
				}
				if _, err := f.Apply(ctx, e); err != nil {
					t.Fatal(err)
				}
			}
			got, err := f.Statistics(ctx, "", "")
			if err != nil {
				t.Fatal(err)
			}
			// The dimensions every case here has alike are checked once, in TestStatisticsPeriod.
			got.ByServiceType, got.BySender, got.ByUrgency, got.ByProvider, got.AsOf = nil, nil, nil, nil, time.Time{}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("figures:\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// A period counts the referrals created in it, by day of creation, with every dimension.
func TestStatisticsPeriod(t *testing.T) {
	t.Parallel()
	f := New(testenv.Database(t))
	ctx := context.Background()
	on := func(day string) func(*Event) { return func(e *Event) { e.Day = day } }
	for _, e := range []Event{
		ev("r1", 1, pending, on("2025-03-09")),
		ev("r2", 1, pending, on("2025-03-10")),
		ev("r3", 1, pending, on("2025-03-11"), func(e *Event) { e.Provider, e.Urgency = "CLINIC-DR", "REFERRAL_URGENCY_EMERGENCY" }),
	} {
		if _, err := f.Apply(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	got, err := f.Statistics(ctx, "2025-03-10", "2025-03-11")
	if err != nil {
		t.Fatal(err)
	}
	want := Statistics{Total: 2, ByServiceType: map[string]int64{"SERVICE_TYPE_SHELTER": 2},
		ByProvider: map[string]int64{"SHELTER-TR": 1, "CLINIC-DR": 1}, ByState: map[string]int64{pending: 2},
		BySender: map[string]int64{"ASP-ANTITRAF": 2}, ByUrgency: map[string]int64{"REFERRAL_URGENCY_STANDARD": 1, "REFERRAL_URGENCY_EMERGENCY": 1},
		AsOf: created.Add(time.Hour)}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("2025-03-10..11:\n got %+v\nwant %+v", got, want)
	}
}

func TestMedianResponse(t *testing.T) {
	for _, tc := range []struct {
		name      string
		histogram map[string]int64
		want      int64
	}{
		{"nothing answered", nil, 0},
		{"one answer", map[string]int64{"le_4h": 1}, 4 * 3600},
		{"the middle of three", map[string]int64{"le_1h": 1, "le_24h": 1, "le_7d": 1}, 24 * 3600},
		{"two: the lower middle", map[string]int64{"le_1h": 1, "le_3d": 1}, 3600},
		{"past every bin", map[string]int64{"gt_7d": 3}, 14 * 24 * 3600},
	} {
		var n int64
		for _, c := range tc.histogram {
			n += c
		}
		s := Statistics{Answered: n, ResponseHistogram: tc.histogram}
		if got := s.MedianResponse(); got != tc.want {
			t.Errorf("%s: median %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestEventValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*Event)
		valid  bool
	}{
		{"valid", func(*Event) {}, true},
		{"no id", func(e *Event) { e.ReferralID = "" }, false},
		{"version zero", func(e *Event) { e.Version = 0 }, false},
		{"no day", func(e *Event) { e.Day = "" }, false},
		{"dot in a provider code", func(e *Event) { e.Provider = "A.B" }, false},
		{"no provider", func(e *Event) { e.Provider = "" }, false},
		{"answered before created", func(e *Event) { e.Answered, e.AnsweredAfter = true, -5 }, false},
		{"a delivery of a bad type", func(e *Event) { e.Delivered = "$x" }, false},
	} {
		e := ev("r1", 1, pending)
		tc.change(&e)
		if err := e.Validate(); (err == nil) != tc.valid {
			t.Errorf("%s: Validate() = %v", tc.name, err)
		}
	}
}

// Whatever the order of delivery, the figures are those of the newest state, each answer and
// each delivery once.
func TestAnyOrderGivesTheSameFigures(t *testing.T) {
	t.Parallel()
	events := []Event{ev("r1", 1, pending), ev("r1", 2, pending, overdue), ev("r1", 3, accepted, overdue, answered(26*time.Hour)),
		ev("r1", 4, accepted, overdue, delivered("SERVICE_TYPE_SHELTER")), ev("r1", 5, completed, overdue), ev("r2", 1, pending)}
	want := Statistics{Total: 2, Overdue: 1, ByState: map[string]int64{completed: 1, pending: 1}, Answered: 1, ResponseSeconds: 26 * 3600,
		ResponseHistogram: map[string]int64{"le_3d": 1}, DeliveredByType: map[string]int64{"SERVICE_TYPE_SHELTER": 1}}
	rng := rand.New(rand.NewPCG(13, 36))
	for i := range 6 {
		order := slices.Clone(events)
		rng.Shuffle(len(order), func(a, b int) { order[a], order[b] = order[b], order[a] })
		f := New(testenv.Database(t))
		ctx := context.Background()
		for _, e := range order {
			if _, err := f.Apply(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		got, err := f.Statistics(ctx, "", "")
		if err != nil {
			t.Fatal(err)
		}
		got.ByServiceType, got.BySender, got.ByUrgency, got.ByProvider, got.AsOf = nil, nil, nil, nil, time.Time{}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("order %d:\n got %+v\nwant %+v", i, got, want)
		}
	}
}
