package projection

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/nrm-albania/nrm/services/platform/testenv"
)

func TestStatisticsByPeriod(t *testing.T) {
	t.Parallel()
	p := New(testenv.Database(t))
	ctx := context.Background()

	if s, err := p.Statistics(ctx, "", ""); err != nil || s.Total != 0 || !s.AsOf.IsZero() {
		t.Fatalf("empty statistics = %+v, %v; want zero", s, err)
	}

	base := time.Date(2025, 4, 1, 8, 0, 0, 0, time.UTC)
	for i, day := range []string{"2025-01-31", "2025-02-01", "2025-02-01", "2025-02-28", "2025-03-01"} {
		c := event("case-"+string(rune('a'+i)), 1, sample(day))
		c.OccurredAt = base.Add(time.Duration(i) * time.Hour)
		if i == 4 {
			c.Facts.Sex = "SEX_MALE"
		}
		apply(t, p, c)
	}
	hour := func(i int) time.Time { return base.Add(time.Duration(i) * time.Hour) }

	for _, tc := range []struct {
		name, from, to string
		total, male    int64
		asOf           time.Time
	}{
		{"all time", "", "", 5, 1, hour(4)},
		{"from only", "2025-02-01", "", 4, 1, hour(4)},
		{"to only", "", "2025-02-01", 3, 0, hour(2)},
		{"one month", "2025-02-01", "2025-02-28", 3, 0, hour(3)},
		{"one day", "2025-02-01", "2025-02-01", 2, 0, hour(2)},
		{"bounds are inclusive", "2025-01-31", "2025-03-01", 5, 1, hour(4)},
		{"nothing identified", "2025-02-02", "2025-02-27", 0, 0, time.Time{}},
		{"after everything", "2026-01-01", "", 0, 0, time.Time{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := p.Statistics(ctx, tc.from, tc.to)
			if err != nil {
				t.Fatal(err)
			}
			if s.Total != tc.total || s.BySex["SEX_MALE"] != tc.male || s.BySex["SEX_FEMALE"] != tc.total-tc.male {
				t.Errorf("total %d, by sex %v; want %d with %d male", s.Total, s.BySex, tc.total, tc.male)
			}
			if !s.AsOf.Equal(tc.asOf) {
				t.Errorf("as of %v, want %v", s.AsOf, tc.asOf)
			}
		})
	}
}

// Over random cases, moved between days and months by corrections, the statistics of any period
// equal the count of the cases whose latest day falls in it.
func TestStatisticsOfAnyPeriodCountTheLatestDays(t *testing.T) {
	t.Parallel()
	p := New(testenv.Database(t))
	rnd := rand.New(rand.NewPCG(7, 11))
	start := time.Date(2024, 12, 1, 0, 0, 0, 0, time.UTC)
	randomDay := func() string { return start.AddDate(0, 0, rnd.IntN(120)).Format(dayLayout) }
	latest := map[string]string{}
	for i := range 40 {
		id := fmt.Sprintf("case-%02d", i)
		day := randomDay()
		apply(t, p, event(id, 1, sample(day)))
		latest[id] = day
		if i%3 == 0 { // a correction of the identification date
			day = randomDay()
			apply(t, p, event(id, 2, sample(day)))
			latest[id] = day
		}
	}
	for range 60 {
		a, b := randomDay(), randomDay()
		if a > b {
			a, b = b, a
		}
		var want int64
		for _, d := range latest {
			if d >= a && d <= b {
				want++
			}
		}
		if s := statistics(t, p, a, b); s.Total != want {
			t.Errorf("%s..%s: %d cases, want %d", a, b, s.Total, want)
		}
	}
	if s := statistics(t, p, "", ""); s.Total != int64(len(latest)) {
		t.Errorf("all time: %d, want %d", s.Total, len(latest))
	}
}
