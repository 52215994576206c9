package projection_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/nrm-albania/nrm/services/platform/testenv"
	"github.com/nrm-albania/nrm/services/reporting/internal/projection"
	"github.com/nrm-albania/nrm/services/reporting/internal/reports"
)

// BenchmarkStatistics measures the case statistics of one year (365 day buckets) and of one
// month, and drafting the month's report (its content built by the report's builders from the
// projection, then rendered as a PDF), with 10,000 and then 100,000 cases stored: 10,000 cases
// identified in each year, the measured year (2025) first, then nine earlier years of history.
// The measured period holds the same cases at both sizes, so what is shown is whether a
// period's figures cost more as the history grows.
//
// Cases are stored in bulk as the projection keeps them (a document per case, a bucket per
// identification day and month), computed in memory through the projection's own transitions
// (tally.Projection.Load), rather than applied event by event.
//
//	go test -run '^$' -bench Statistics -benchtime 10x ./services/reporting/internal/projection/
func BenchmarkStatistics(b *testing.B) {
	ctx := context.Background()
	db := testenv.Database(b)
	p := projection.New(db)
	builders := []reports.Builder{reports.Cases{Stats: p}}
	const perYear, measured = 10_000, 2025
	month, err := reports.Month("2025-06")
	if err != nil {
		b.Fatal(err)
	}
	var wantMonth int64
	seeded := 0
	for _, years := range []int{1, 10} {
		for y := measured - seeded; y > measured-years; y-- {
			start := time.Now()
			n := seedYear(b, p, y, perYear)
			if y == measured {
				wantMonth = n[month.From[:7]]
			}
			b.Logf("seeded %d cases identified in %d in %v", perYear, y, time.Since(start).Round(time.Millisecond))
		}
		seeded = years
		testenv.IndexStore(b)
		cases := years * perYear
		b.Run(fmt.Sprintf("year/cases=%d", cases), func(b *testing.B) {
			for b.Loop() {
				st, err := p.Statistics(ctx, "2025-01-01", "2025-12-31")
				if err != nil || st.Total != perYear {
					b.Fatalf("%d cases in 2025, %v", st.Total, err)
				}
			}
		})
		b.Run(fmt.Sprintf("month/cases=%d", cases), func(b *testing.B) {
			for b.Loop() {
				st, err := p.Statistics(ctx, month.From, month.To)
				if err != nil || st.Total != wantMonth {
					b.Fatalf("%d cases in %s, want %d, %v", st.Total, month.Key(), wantMonth, err)
				}
			}
		})
		b.Run(fmt.Sprintf("report-month/cases=%d", cases), func(b *testing.B) {
			for b.Loop() {
				if s, err := reports.Compose(ctx, builders, month); err != nil || len(s) != len(builders) {
					b.Fatalf("%d sections, %v", len(s), err)
				}
			}
		})
		b.Run(fmt.Sprintf("report-month-pdf/cases=%d", cases), func(b *testing.B) {
			for b.Loop() {
				s, err := reports.Compose(ctx, builders, month)
				if err != nil {
					b.Fatal(err)
				}
				r := reports.New(reports.ID(month), month, s, time.Now())
				if pdf, err := reports.PDF(r); err != nil || len(pdf) == 0 {
					b.Fatalf("%d bytes, %v", len(pdf), err)
				}
			}
		})
	}
}

// The values the seeded cases take, roughly in the proportions of the Authority's cases.
var (
	sexes         = []string{"SEX_FEMALE", "SEX_FEMALE", "SEX_FEMALE", "SEX_MALE", "SEX_MALE", "SEX_OTHER_OR_UNDISCLOSED"}
	ageBands      = []string{"AGE_BAND_ADULT", "AGE_BAND_ADULT", "AGE_BAND_CHILD", "AGE_BAND_UNKNOWN"}
	exploitations = []string{"EXPLOITATION_TYPE_SEXUAL", "EXPLOITATION_TYPE_FORCED_LABOUR", "EXPLOITATION_TYPE_FORCED_BEGGING",
		"EXPLOITATION_TYPE_FORCED_CRIMINALITY", "EXPLOITATION_TYPE_FORCED_MARRIAGE", "EXPLOITATION_TYPE_DOMESTIC_SERVITUDE",
		"EXPLOITATION_TYPE_CHILD_LABOUR", "EXPLOITATION_TYPE_OTHER", "EXPLOITATION_TYPE_UNKNOWN"}
	citizenships = []string{"AL", "AL", "AL", "AL", "XK", "MK", "GR", "IT", "BD", "PK", "SY"}
	statuses     = []string{"TRAFFICKING_STATUS_POTENTIAL_VICTIM", "TRAFFICKING_STATUS_POTENTIAL_VICTIM", "TRAFFICKING_STATUS_VICTIM",
		"TRAFFICKING_STATUS_NOT_A_VICTIM"}
	states       = []string{"CASE_STATE_OPEN", "CASE_STATE_OPEN", "CASE_STATE_CLOSED", "CASE_STATE_REOPENED"}
	institutions = []string{"ASP-ANTITRAF", "ASP-KUFIRI", "ASP-DHF-MINORE", "ASP-KIBERNETIK", "MEPJ-KONSULLORE",
		"PROKURORIA-TIRANE", "QENDRA-VATRA", "SHERBIMI-SOCIAL"}
	prefectures = []string{"PREFECTURE_BERAT", "PREFECTURE_DIBER", "PREFECTURE_DURRES", "PREFECTURE_ELBASAN", "PREFECTURE_FIER",
		"PREFECTURE_GJIROKASTER", "PREFECTURE_KORCE", "PREFECTURE_KUKES", "PREFECTURE_LEZHE", "PREFECTURE_SHKODER",
		"PREFECTURE_TIRANE", "PREFECTURE_TIRANE", "PREFECTURE_VLORE", "PREFECTURE_ABROAD", "PREFECTURE_UNKNOWN"}
	scopes = []string{"TRAFFICKING_SCOPE_INTERNAL", "TRAFFICKING_SCOPE_INTERNAL", "TRAFFICKING_SCOPE_TRANSNATIONAL", "TRAFFICKING_SCOPE_UNKNOWN"}
)

// seedYear stores n cases identified in year, spread evenly over its days, in bulk as the
// projection keeps them, and returns how many fell in each month ("YYYY-MM").
func seedYear(b *testing.B, p *projection.Projection, year, n int) map[string]int64 {
	b.Helper()
	rng := rand.New(rand.NewPCG(uint64(year), 13))
	pick := func(values []string) string { return values[rng.IntN(len(values))] }
	first := time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC)
	days := first.AddDate(1, 0, -1).YearDay()
	months := make(map[string]int64)
	events := make([]projection.Event, 0, n)
	for i := range n {
		at := first.AddDate(0, 0, i*days/n)
		types := []string{pick(exploitations)}
		if rng.IntN(5) == 0 {
			types = append(types, pick(exploitations))
		}
		cits := []string{pick(citizenships)}
		if rng.IntN(10) == 0 {
			cits = append(cits, pick(citizenships))
		}
		day := at.Format(time.DateOnly)
		months[day[:7]]++
		events = append(events, projection.Event{CaseID: uuid.NewString(), Version: 1, OccurredAt: at.Add(10 * time.Hour),
			Facts: projection.Facts{Day: day, Sex: pick(sexes), AgeBand: pick(ageBands),
				ExploitationTypes: types, Citizenships: cits, Status: pick(statuses), State: pick(states),
				IdentifyingInstitution: pick(institutions), Prefecture: pick(prefectures), Scope: pick(scopes)}})
	}
	if err := p.Load(context.Background(), events); err != nil {
		b.Fatal(err)
	}
	return months
}
