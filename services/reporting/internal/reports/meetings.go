package reports

import (
	"context"
	"errors"
	"maps"

	"github.com/nrm-albania/nrm/services/reporting/internal/meetingstats"
	"github.com/nrm-albania/nrm/services/reporting/internal/procedure"
)

// MeetingReader reads the meeting figures of a range of months; meetingstats.Figures is one.
type MeetingReader interface {
	Statistics(ctx context.Context, from, to string) (meetingstats.Statistics, error)
}

// Meetings builds the section of the Authority's meetings, their decisions and action items.
// Meetings count by month, so a period counts the meetings of every month it touches.
type Meetings struct {
	Stats MeetingReader
	// Rules give the members, with the rules of procedure in force on the period's last day:
	// each is listed in the attendance whether it attended or not, since an absence is what the
	// Authority looks for there. Before the first rules arrive, the attendance lists those that
	// attended.
	Rules interface {
		On(ctx context.Context, day string) (procedure.Rules, error)
	}
}

// actionStates are always shown, at zero when none is in that state: an empty list would not
// say that nothing is overdue.
var actionStates = []string{"ACTION_STATE_OPEN", "ACTION_STATE_OVERDUE", "ACTION_STATE_DONE"}

// Build implements Builder.
func (m Meetings) Build(ctx context.Context, p Period) (Section, error) {
	st, err := m.Stats.Statistics(ctx, p.From[:7], p.To[:7])
	if err != nil {
		return Section{}, err
	}
	rules, err := m.Rules.On(ctx, p.To)
	if err != nil && !errors.Is(err, procedure.ErrUnknown) {
		return Section{}, err
	}
	attendance := Table{Title: "Attendance per member", Columns: []string{"Member", "Meetings attended"}, Rows: [][]string{}}
	for _, code := range rules.Members {
		attendance.Rows = append(attendance.Rows, []string{code, count(st.Attendance[code])})
	}
	attendance.Rows = append(attendance.Rows, breakdown("", "", "", without(st.Attendance, rules.Members), false).Rows...)
	var decisions int64
	for _, n := range st.DecisionsByKind {
		decisions += n
	}
	actions := Table{Title: "Action items", Columns: []string{"State", "Action items"}, Rows: [][]string{}}
	for _, s := range actionStates {
		actions.Rows = append(actions.Rows, []string{valueLabel("ACTION_STATE_", s), count(st.ActionsByState[s])})
	}
	actions.Rows = append(actions.Rows, breakdown("", "", "ACTION_STATE_", without(st.ActionsByState, actionStates), false).Rows...)
	missed := Table{Title: "Months without a regular meeting", Columns: []string{"Month"}, Rows: [][]string{}}
	for _, month := range st.MissedMonths {
		missed.Rows = append(missed.Rows, []string{month})
	}
	return Section{Title: "Meetings and actions", Tables: []Table{
		counted(breakdown("Meetings held by kind", "Kind", "MEETING_KIND_", st.HeldByKind, false), "Meetings"),
		attendance,
		{Title: "Decisions", Columns: []string{"Decisions", "Number"}, Rows: [][]string{
			{"Recorded", count(decisions)},
			{"Adopted", count(st.DecisionsAdopted)},
		}},
		counted(breakdown("Decisions by kind", "Kind", "DECISION_KIND_", st.DecisionsByKind, false), "Decisions"),
		actions,
		missed,
	}}, nil
}

// without is counts less the keys listed: the rest, after the rows that are always shown.
func without(counts map[string]int64, keys []string) map[string]int64 {
	rest := maps.Clone(counts)
	for _, k := range keys {
		delete(rest, k)
	}
	return rest
}
