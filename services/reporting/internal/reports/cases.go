package reports

import (
	"cmp"
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/nrm-albania/nrm/services/reporting/internal/projection"
)

// StatisticsReader reads the case statistics of a period; projection.Projection is one.
type StatisticsReader interface {
	Statistics(ctx context.Context, from, to string) (projection.Statistics, error)
}

// Cases builds the section of the cases identified in the period, from the statistics that
// follow every correction, status decision, closure and merge.
type Cases struct {
	Stats StatisticsReader
}

// Build implements Builder.
func (c Cases) Build(ctx context.Context, p Period) (Section, error) {
	st, err := c.Stats.Statistics(ctx, p.From, p.To)
	if err != nil {
		return Section{}, err
	}
	n := st.Counts
	s := Section{Title: "Cases identified", Tables: []Table{
		{Title: "Total", Columns: []string{"Cases", "Number"}, Rows: [][]string{{"Identified in the period", strconv.FormatInt(n.Total, 10)}}},
		breakdown("By trafficking status", "Status", "TRAFFICKING_STATUS_", n.ByStatus, false),
		breakdown("By sex", "Sex", "SEX_", n.BySex, false),
		breakdown("By age band", "Age band", "AGE_BAND_", n.ByAgeBand, false),
		breakdown("By citizenship", "Citizenship", "", n.ByCitizenship, false),
		breakdown("By exploitation type", "Exploitation type", "EXPLOITATION_TYPE_", n.ByExploitationType, true),
		breakdown("By identifying institution", "Institution", "", n.ByIdentifyingInstitution, false),
		breakdown("By prefecture of residence", "Prefecture", "PREFECTURE_", n.ByPrefecture, false),
		breakdown("By scope", "Scope", "TRAFFICKING_SCOPE_", n.ByScope, false),
		breakdown("By case state", "State", "CASE_STATE_", n.ByState, false),
	}}
	if months := p.Months(); len(months) > 1 {
		t := Table{Title: "By month of identification", Columns: []string{"Month", "Cases"}, Chart: true}
		for _, m := range months {
			st, err := c.Stats.Statistics(ctx, m.From, m.To)
			if err != nil {
				return Section{}, err
			}
			t.Rows = append(t.Rows, []string{m.From[:7], strconv.FormatInt(st.Total, 10)})
		}
		s.Tables = append(s.Tables, t)
	}
	return s, nil
}

// breakdown is the table of one dimension, the largest count first (then by label, so that the
// same figures always print the same). A case may count under several values of a dimension
// (exploitation types, citizenships), so a table may add up to more than the total.
func breakdown(title, label, prefix string, counts map[string]int64, chart bool) Table {
	type entry struct {
		label string
		n     int64
	}
	entries := make([]entry, 0, len(counts))
	for k, n := range counts {
		entries = append(entries, entry{valueLabel(prefix, k), n})
	}
	slices.SortFunc(entries, func(a, b entry) int { return cmp.Or(cmp.Compare(b.n, a.n), strings.Compare(a.label, b.label)) })
	t := Table{Title: title, Columns: []string{label, "Cases"}, Rows: [][]string{}, Chart: chart}
	for _, e := range entries {
		t.Rows = append(t.Rows, []string{e.label, strconv.FormatInt(e.n, 10)})
	}
	return t
}

// valueLabel is how a counted value reads in a report: an enum name without its type's prefix,
// in lower case ("EXPLOITATION_TYPE_FORCED_LABOUR": "forced labour"), "not recorded" for an
// unspecified one; codes (institutions, countries) as they are.
func valueLabel(prefix, key string) string {
	if prefix == "" || !strings.HasPrefix(key, prefix) {
		return key
	}
	v := strings.TrimPrefix(key, prefix)
	if v == "UNSPECIFIED" {
		return "not recorded"
	}
	return strings.ToLower(strings.ReplaceAll(v, "_", " "))
}
