package decisionstats

import (
	"context"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/nrm-albania/nrm/services/platform/testenv"
)

var at = time.Date(2025, 3, 10, 8, 0, 0, 0, time.UTC)

const (
	victim    = "TRAFFICKING_STATUS_VICTIM"
	notVictim = "TRAFFICKING_STATUS_NOT_A_VICTIM"
	potential = "TRAFFICKING_STATUS_POTENTIAL_VICTIM"
	interview = "DECIDING_BODY_JOINT_INTERVIEW"
	court     = "DECIDING_BODY_COURT"

	reintegrated = "CLOSURE_REASON_REINTEGRATED"
	lostContact  = "CLOSURE_REASON_LOST_CONTACT"
	retrafficked = "REOPEN_REASON_RE_TRAFFICKING"
)

// decided is case id's status decision at version v: status by a joint interview on day, the
// case registered on 2025-03-01.
func decided(id string, v int64, status, day string, change ...func(*Act)) Act {
	a := Act{CaseID: id, Version: v, Kind: Decision, Day: day, Status: status, Body: interview,
		Registered: "2025-03-01", OccurredAt: at.Add(time.Duration(v) * time.Hour)}
	for _, c := range change {
		c(&a)
	}
	return a
}

func revision(a *Act) { a.Revision = true }

func by(body string) func(*Act) { return func(a *Act) { a.Body = body } }

func closed(id string, v int64, reason, day string) Act {
	return Act{CaseID: id, Version: v, Kind: Closure, Day: day, Reason: reason, OccurredAt: at.Add(time.Duration(v) * time.Hour)}
}

func reopened(id string, v int64, reason, day string) Act {
	return Act{CaseID: id, Version: v, Kind: Reopening, Day: day, Reason: reason, OccurredAt: at.Add(time.Duration(v) * time.Hour)}
}

func TestFiguresCountEachAct(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		events []Act
		want   Statistics
	}{
		{
			name:   "a decision delivered twice counts once",
			events: []Act{decided("c1", 2, victim, "2025-03-05"), decided("c1", 2, victim, "2025-03-05")},
			want: Statistics{First: Decisions{Total: 1, ByStatus: map[string]int64{victim: 1}, ByBody: map[string]int64{interview: 1}},
				DaysToDecision: 4, Histogram: map[string]int64{"le_7d": 1}},
		},
		{
			name: "a revision is counted apart, with no time to decision",
			events: []Act{decided("c1", 2, victim, "2025-03-05"),
				decided("c1", 5, potential, "2025-09-01", revision, by(court)), decided("c1", 5, potential, "2025-09-01", revision, by(court))},
			want: Statistics{First: Decisions{Total: 1, ByStatus: map[string]int64{victim: 1}, ByBody: map[string]int64{interview: 1}},
				Revisions:      Decisions{Total: 1, ByStatus: map[string]int64{potential: 1}, ByBody: map[string]int64{court: 1}},
				DaysToDecision: 4, Histogram: map[string]int64{"le_7d": 1}},
		},
		{
			name: "out of order: the revision before the decision it revises, each counted",
			events: []Act{decided("c1", 3, victim, "2025-04-20", revision),
				decided("c1", 2, notVictim, "2025-04-01"), decided("c1", 3, victim, "2025-04-20", revision)},
			want: Statistics{First: Decisions{Total: 1, ByStatus: map[string]int64{notVictim: 1}, ByBody: map[string]int64{interview: 1}},
				Revisions:      Decisions{Total: 1, ByStatus: map[string]int64{victim: 1}, ByBody: map[string]int64{interview: 1}},
				DaysToDecision: 31, Histogram: map[string]int64{"le_60d": 1}},
		},
		{
			name: "times to decision fall in their bins, the bounds inclusive",
			events: []Act{decided("c1", 2, victim, "2025-03-08"), decided("c2", 2, victim, "2025-03-15"),
				decided("c3", 2, victim, "2025-03-31"), decided("c4", 2, victim, "2025-05-30"),
				decided("c5", 2, victim, "2025-05-31"), decided("c6", 2, victim, "2025-08-28"),
				decided("c7", 2, notVictim, "2025-08-29")},
			want: Statistics{First: Decisions{Total: 7, ByStatus: map[string]int64{victim: 6, notVictim: 1}, ByBody: map[string]int64{interview: 7}},
				DaysToDecision: 7 + 14 + 30 + 90 + 91 + 180 + 181,
				Histogram:      map[string]int64{"le_7d": 1, "le_14d": 1, "le_30d": 1, "le_90d": 1, "le_180d": 2, "gt_180d": 1}},
		},
		{
			name:   "a decision dated before the registration takes 0 days",
			events: []Act{decided("c1", 2, victim, "2025-02-27")},
			want: Statistics{First: Decisions{Total: 1, ByStatus: map[string]int64{victim: 1}, ByBody: map[string]int64{interview: 1}},
				Histogram: map[string]int64{"le_7d": 1}},
		},
		{
			name: "closures and reopenings by reason, each once",
			events: []Act{closed("c1", 3, reintegrated, "2025-03-20"), reopened("c1", 4, retrafficked, "2025-05-02"),
				closed("c1", 6, lostContact, "2025-06-01"), closed("c1", 3, reintegrated, "2025-03-20"),
				closed("c2", 2, reintegrated, "2025-03-21"), reopened("c1", 4, retrafficked, "2025-05-02")},
			want: Statistics{Closures: 3, ClosedByReason: map[string]int64{reintegrated: 2, lostContact: 1},
				Reopenings: 1, ReopenedByReason: map[string]int64{retrafficked: 1}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := New(testenv.Database(t))
			ctx := context.Background()
			for _, a := range tc.events {
				if err := a.Validate(); err != nil {
					t.Fatal(err)
				}
				if _, err := f.Apply(ctx, a); err != nil {
					t.Fatal(err)
				}
			}
			got, err := f.Statistics(ctx, "", "")
			if err != nil {
				t.Fatal(err)
			}
			got.AsOf = time.Time{}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("figures:\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// A period counts the acts dated in it, whenever the case was registered or the event arrived.
func TestStatisticsPeriod(t *testing.T) {
	t.Parallel()
	f := New(testenv.Database(t))
	ctx := context.Background()
	for _, a := range []Act{
		decided("c1", 2, victim, "2025-03-31"),
		decided("c2", 2, notVictim, "2025-04-01", by(court)),
		decided("c1", 4, potential, "2025-04-30", revision),
		closed("c2", 3, "CLOSURE_REASON_NOT_A_VICTIM", "2025-04-15"),
		closed("c1", 5, reintegrated, "2025-05-01"),
	} {
		if _, err := f.Apply(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	got, err := f.Statistics(ctx, "2025-04-01", "2025-04-30")
	if err != nil {
		t.Fatal(err)
	}
	want := Statistics{First: Decisions{Total: 1, ByStatus: map[string]int64{notVictim: 1}, ByBody: map[string]int64{court: 1}},
		Revisions:      Decisions{Total: 1, ByStatus: map[string]int64{potential: 1}, ByBody: map[string]int64{interview: 1}},
		DaysToDecision: 31, Histogram: map[string]int64{"le_60d": 1},
		Closures: 1, ClosedByReason: map[string]int64{"CLOSURE_REASON_NOT_A_VICTIM": 1},
		AsOf: at.Add(4 * time.Hour)}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("April:\n got %+v\nwant %+v", got, want)
	}
}

func TestMedianAndMeanDays(t *testing.T) {
	for _, tc := range []struct {
		name      string
		histogram map[string]int64
		days      int64
		median    int64
		mean      float64
	}{
		{"nothing decided", nil, 0, 0, 0},
		{"one decision", map[string]int64{"le_14d": 1}, 10, 14, 10},
		{"the middle of three", map[string]int64{"le_7d": 1, "le_30d": 1, "le_180d": 1}, 3 + 20 + 100, 30, 41},
		{"two: the lower middle", map[string]int64{"le_7d": 1, "le_90d": 1}, 2 + 70, 7, 36},
		{"past every bin", map[string]int64{"gt_180d": 2}, 400 + 500, 360, 450},
	} {
		var n int64
		for _, c := range tc.histogram {
			n += c
		}
		s := Statistics{First: Decisions{Total: n}, DaysToDecision: tc.days, Histogram: tc.histogram}
		if got := s.MedianDays(); got != tc.median {
			t.Errorf("%s: median %d, want %d", tc.name, got, tc.median)
		}
		if got := s.MeanDays(); got != tc.mean {
			t.Errorf("%s: mean %v, want %v", tc.name, got, tc.mean)
		}
	}
}

func TestActValidate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		act   Act
		valid bool
	}{
		{"a decision", decided("c1", 2, victim, "2025-03-05"), true},
		{"a closure", closed("c1", 2, reintegrated, "2025-03-05"), true},
		{"a reopening", reopened("c1", 2, retrafficked, "2025-03-05"), true},
		{"no case id", decided("", 2, victim, "2025-03-05"), false},
		{"version zero", decided("c1", 0, victim, "2025-03-05"), false},
		{"no decision date", decided("c1", 2, victim, ""), false},
		{"no registration date", decided("c1", 2, victim, "2025-03-05", func(a *Act) { a.Registered = "" }), false},
		{"no deciding body", decided("c1", 2, victim, "2025-03-05", by("")), false},
		{"a closure without a reason", closed("c1", 2, "", "2025-03-05"), false},
		{"a closure without a date", closed("c1", 2, reintegrated, "03/05/2025"), false},
		{"an unknown kind", Act{CaseID: "c1", Version: 2, Kind: "merger", Day: "2025-03-05"}, false},
	} {
		if err := tc.act.Validate(); (err == nil) != tc.valid {
			t.Errorf("%s: Validate() = %v", tc.name, err)
		}
	}
}

// Whatever the order of delivery, and however often, each act counts once.
func TestAnyOrderGivesTheSameFigures(t *testing.T) {
	t.Parallel()
	acts := []Act{decided("c1", 2, victim, "2025-03-05"), closed("c1", 3, reintegrated, "2025-03-20"),
		reopened("c1", 4, retrafficked, "2025-05-02"), decided("c1", 5, potential, "2025-05-03", revision),
		decided("c2", 2, notVictim, "2025-04-01", by(court)), closed("c2", 3, "CLOSURE_REASON_NOT_A_VICTIM", "2025-04-02")}
	want := Statistics{First: Decisions{Total: 2, ByStatus: map[string]int64{victim: 1, notVictim: 1}, ByBody: map[string]int64{interview: 1, court: 1}},
		Revisions:      Decisions{Total: 1, ByStatus: map[string]int64{potential: 1}, ByBody: map[string]int64{interview: 1}},
		DaysToDecision: 4 + 31, Histogram: map[string]int64{"le_7d": 1, "le_60d": 1},
		Closures: 2, ClosedByReason: map[string]int64{reintegrated: 1, "CLOSURE_REASON_NOT_A_VICTIM": 1},
		Reopenings: 1, ReopenedByReason: map[string]int64{retrafficked: 1}, AsOf: at.Add(5 * time.Hour)}
	rng := rand.New(rand.NewPCG(13, 32))
	for i := range 4 {
		order := append(slices.Clone(acts), acts...)
		rng.Shuffle(len(order), func(a, b int) { order[a], order[b] = order[b], order[a] })
		f := New(testenv.Database(t))
		ctx := context.Background()
		for _, a := range order {
			if _, err := f.Apply(ctx, a); err != nil {
				t.Fatal(err)
			}
		}
		got, err := f.Statistics(ctx, "", "")
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("order %d:\n got %+v\nwant %+v", i, got, want)
		}
	}
}
