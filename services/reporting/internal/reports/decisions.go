package reports

import (
	"context"
	"fmt"

	"github.com/nrm-albania/nrm/services/reporting/internal/decisionstats"
)

// DecisionReader reads the figures of status decisions, closures and reopenings of a period;
// decisionstats.Figures is one.
type DecisionReader interface {
	Statistics(ctx context.Context, from, to string) (decisionstats.Statistics, error)
}

// Decisions builds the section of the status decisions, closures and reopenings dated in the
// period (by their own dates, not the cases' identification).
type Decisions struct {
	Stats DecisionReader
}

// Build implements Builder.
func (d Decisions) Build(ctx context.Context, p Period) (Section, error) {
	st, err := d.Stats.Statistics(ctx, p.From, p.To)
	if err != nil {
		return Section{}, err
	}
	return Section{Title: "Status decisions and closures", Tables: []Table{
		{Title: "Acts in the period", Columns: []string{"Acts", "Number"}, Rows: [][]string{
			{"First status decisions", count(st.First.Total)},
			{"Revisions of a status", count(st.Revisions.Total)},
			{"Closures", count(st.Closures)},
			{"Reopenings", count(st.Reopenings)},
		}},
		counted(breakdown("First decisions by outcome", "Status", "TRAFFICKING_STATUS_", st.First.ByStatus, true), "Decisions"),
		counted(breakdown("First decisions by deciding body", "Deciding body", "DECIDING_BODY_", st.First.ByBody, false), "Decisions"),
		counted(breakdown("Revisions by outcome", "Status", "TRAFFICKING_STATUS_", st.Revisions.ByStatus, false), "Revisions"),
		// The median is the last day of the bin holding the middle decision (decision 32), so the
		// table says so rather than print it as exact.
		{Title: "Time from registration to a first decision", Columns: []string{"Time to decision", "Days"}, Rows: [][]string{
			{"Mean", fmt.Sprintf("%.1f", st.MeanDays())},
			{"Median (at most)", count(st.MedianDays())},
		}},
		counted(breakdown("Closures by reason", "Reason", "CLOSURE_REASON_", st.ClosedByReason, true), "Closures"),
		counted(breakdown("Reopenings by reason", "Reason", "REOPEN_REASON_", st.ReopenedByReason, false), "Reopenings"),
	}}, nil
}
