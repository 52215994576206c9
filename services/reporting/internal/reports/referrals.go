package reports

import (
	"context"
	"fmt"
	"strconv"

	"github.com/nrm-albania/nrm/services/reporting/internal/referralstats"
)

// ReferralReader reads the referral figures of a period; referralstats.Figures is one.
type ReferralReader interface {
	Statistics(ctx context.Context, from, to string) (referralstats.Statistics, error)
}

// Referrals builds the section of the referrals made in the period (by the day of their
// creation, in Tirana) and the services delivered under them.
type Referrals struct {
	Stats ReferralReader
}

// Build implements Builder.
func (r Referrals) Build(ctx context.Context, p Period) (Section, error) {
	st, err := r.Stats.Statistics(ctx, p.From, p.To)
	if err != nil {
		return Section{}, err
	}
	return Section{Title: "Referrals and services", Tables: []Table{
		{Title: "Referrals made in the period", Columns: []string{"Referrals", "Number"}, Rows: [][]string{
			{"Made", count(st.Total)},
			{"Overdue", count(st.Overdue)},
			{"Answered", count(st.Answered)},
		}},
		counted(breakdown("By service type", "Service type", "SERVICE_TYPE_", st.ByServiceType, true), "Referrals"),
		counted(breakdown("By provider", "Provider", "", st.ByProvider, false), "Referrals"),
		counted(breakdown("By state", "State", "REFERRAL_STATE_", st.ByState, true), "Referrals"),
		// The median is the upper bound of the bin holding the middle answer (decision 36), so
		// the table says so rather than print it as exact.
		{Title: "Time to response", Columns: []string{"Time to response", "Hours"}, Rows: [][]string{
			{"Mean", hours(st.MeanResponse())},
			{"Median (at most)", hours(st.MedianResponse())},
		}},
		counted(breakdown("Services delivered by type", "Service type", "SERVICE_TYPE_", st.DeliveredByType, true), "Services"),
	}}, nil
}

// counted names what a breakdown's figures count, where they are not cases.
func counted(t Table, what string) Table {
	t.Columns[1] = what
	return t
}

func count(n int64) string { return strconv.FormatInt(n, 10) }

// hours prints seconds as hours to one decimal: answers are awaited in hours and days.
func hours(seconds int64) string { return fmt.Sprintf("%.1f", float64(seconds)/3600) }
