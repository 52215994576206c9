package reports

import (
	"context"
	"errors"
	"fmt"

	"github.com/nrm-albania/nrm/services/platform/aggregate"
	"github.com/nrm-albania/nrm/services/reporting/internal/datasets"
)

// MembersData builds the section of the data reported by members: for each month the period
// touches (members report whole months, so a period that starts or ends within a month shows
// that month whole), who submitted, on time or late, with what warnings, who has not, and the
// figures each member submitted.
type MembersData struct {
	Data *datasets.Store
}

// timeliness is how a submission's timeliness reads in a report.
var timeliness = map[datasets.Timeliness]string{datasets.OnTime: "on time", datasets.Late: "late", datasets.NotSubmitted: "not submitted"}

// Build implements Builder.
func (m MembersData) Build(ctx context.Context, p Period) (Section, error) {
	forms, err := m.Data.List(ctx)
	if err != nil {
		return Section{}, err
	}
	var months []datasets.Period
	for _, mp := range p.Months() {
		dp, err := datasets.ParsePeriod("period", mp.From[:7])
		if err != nil {
			return Section{}, err
		}
		months = append(months, dp)
	}
	submissions := Table{Title: "Submissions", Columns: []string{"Member", "Month", "Submitted", "Timeliness", "Warnings"}, Rows: [][]string{}}
	missing := Table{Title: "Members that have not reported", Columns: []string{"Member", "Month"}, Rows: [][]string{}}
	warnings := Table{Title: "Warnings: reported figures the registry counts otherwise", Columns: []string{"Member", "Month", "Element", "Reported", "Registry"}, Rows: [][]string{}}
	var figures []Table
	for _, form := range forms {
		subs := make([]datasets.Submission, len(months))
		for i, dp := range months {
			s, err := m.Data.Submissions.Get(ctx, datasets.SubmissionID(form.Member, dp))
			if err != nil && !errors.Is(err, aggregate.ErrNotFound) {
				return Section{}, fmt.Errorf("read %s's data of %s: %w", form.Member, dp, err)
			}
			subs[i] = s
			if !s.Submitted {
				missing.Rows = append(missing.Rows, []string{form.Member, dp.String()})
			}
			submissions.Rows = append(submissions.Rows, []string{form.Member, dp.String(), yesNo(s.Submitted),
				timeliness[m.Data.Calendar().Timeliness(dp, s.FirstSubmittedAt)], count(int64(len(s.Warnings)))})
			for _, w := range s.Warnings {
				warnings.Rows = append(warnings.Rows, []string{form.Member, dp.String(), w.Element, count(w.Reported), count(w.Registry)})
			}
		}
		figures = append(figures, memberFigures(form, months, subs))
	}
	return Section{Title: "Members' data", Tables: append([]Table{submissions, missing, warnings}, figures...)}, nil
}

// memberFigures is the table of the figures form's member submitted, an element (and each of its
// parts) per row and a month per column; a month not submitted has empty cells, not zeros,
// since nothing was reported. Elements a submission holds that the form no longer has (the form
// changed since) follow the form's, under their codes.
func memberFigures(form datasets.DataSet, months []datasets.Period, subs []datasets.Submission) Table {
	t := Table{Title: "Figures of " + form.Member, Columns: []string{"Element"}, Rows: [][]string{}}
	for _, dp := range months {
		t.Columns = append(t.Columns, dp.String())
	}
	var lines []line
	labels := map[line]string{}
	add := func(l line, label string) {
		if _, ok := labels[l]; !ok {
			lines, labels[l] = append(lines, l), label
		}
	}
	for _, e := range form.Elements {
		add(line{element: e.Code}, e.Name)
		for _, part := range e.Parts {
			add(line{e.Code, part.Code}, e.Name+": "+part.Name)
		}
	}
	cells := map[line][]string{}
	for i, s := range subs {
		for _, v := range s.Values {
			l := line{element: v.Element}
			add(l, v.Element)
			cell(cells, l, len(months))[i] = count(v.Value)
			for _, pv := range v.Parts {
				pl := line{v.Element, pv.Part}
				add(pl, v.Element+": "+pv.Part)
				cell(cells, pl, len(months))[i] = count(pv.Value)
			}
		}
	}
	for _, l := range lines {
		t.Rows = append(t.Rows, append([]string{labels[l]}, cell(cells, l, len(months))...))
	}
	return t
}

// line is a row of a member's figures: an element, or one of its parts.
type line struct{ element, part string }

// cell is the figures of l, one per month, made empty on first use.
func cell(cells map[line][]string, l line, n int) []string {
	if cells[l] == nil {
		cells[l] = make([]string, n)
	}
	return cells[l]
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
