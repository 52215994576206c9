package projection

import (
	"context"
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
