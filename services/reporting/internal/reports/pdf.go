package reports

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nrm-albania/nrm/services/platform/pdfdoc"
	"github.com/nrm-albania/nrm/services/platform/workdays"
)

// PDF renders the report from its record. The same record renders to the same bytes (pdfdoc),
// so the hash kept at submission identifies the document sent.
func PDF(r Report) ([]byte, error) {
	local := func(t time.Time) string { return t.In(workdays.Tirana).Format("2006-01-02 15:04") }
	status, created := fmt.Sprintf("DRAFT, revision %d, not approved", r.Revision), r.DraftedAt
	switch r.State {
	case Approved:
		status = fmt.Sprintf("Approved by all %d members, revision %d", len(r.Approvers), r.Revision)
	case Submitted:
		status = fmt.Sprintf("Approved by all %d members, revision %d; submitted %s to %s", len(r.Approvers), r.Revision,
			local(r.Submission.At), strings.Join(r.Submission.Recipients, "; "))
		created = r.Submission.At
	case Circulated:
		status = fmt.Sprintf("Circulated for approval, revision %d: %d of %d members approved", r.Revision, len(r.Approvers)-len(r.Pending()), len(r.Approvers))
	}
	d := pdfdoc.Document{
		Title:     "Report of the Responsible Authority, " + r.Period,
		Subtitle:  "Responsible Authority for victims and potential victims of trafficking",
		Reference: fmt.Sprintf("NRM report %s revision %d", r.Period, r.Revision),
		Created:   created,
		Blocks: []pdfdoc.Block{pdfdoc.List{Items: []pdfdoc.Item{
			{Label: "Period", Value: r.From + " to " + r.To},
			{Label: "Drafted", Value: local(r.DraftedAt) + " (Tirana)"},
			{Label: "Status", Value: status},
		}}},
	}
	for _, s := range r.Sections {
		d.Blocks = append(d.Blocks, pdfdoc.Heading{Text: s.Title})
		for _, t := range s.Tables {
			d.Blocks = append(d.Blocks, pdfdoc.Paragraph{Text: t.Title}, pdfdoc.Table{Columns: t.Columns, Rows: t.Rows})
			if c, ok := chart(t); ok {
				d.Blocks = append(d.Blocks, c)
			}
		}
	}
	var approvals [][]string
	for _, a := range r.Approvals {
		if a.Revision == r.Revision {
			approvals = append(approvals, []string{a.Institution, local(a.At)})
		}
	}
	if len(approvals) > 0 {
		d.Blocks = append(d.Blocks, pdfdoc.Heading{Text: "Approvals"},
			pdfdoc.Table{Columns: []string{"Member institution", "Approved (Tirana)"}, Rows: approvals})
	}
	pdf, err := pdfdoc.Render(d)
	if err != nil {
		return nil, fmt.Errorf("render the report %s: %w", r.Period, err)
	}
	return pdf, nil
}

// chart is the bar chart of a table that asks for one: a bar per row, of its first figure.
func chart(t Table) (pdfdoc.BarChart, bool) {
	if !t.Chart || len(t.Rows) == 0 {
		return pdfdoc.BarChart{}, false
	}
	c := pdfdoc.BarChart{Title: t.Title}
	for _, row := range t.Rows {
		if len(row) < 2 {
			continue
		}
		v, err := strconv.ParseFloat(row[1], 64)
		if err != nil || v < 0 {
			continue
		}
		c.Labels, c.Values = append(c.Labels, row[0]), append(c.Values, v)
	}
	return c, len(c.Labels) > 0
}
