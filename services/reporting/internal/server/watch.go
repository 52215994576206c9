package server

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nrm-albania/nrm/services/platform/workdays"
	"github.com/nrm-albania/nrm/services/reporting/internal/reports"
)

// Watch is what the reports do of themselves, at each look: the Authority reports monthly, so
// once a month has ended (in Tirana) its report is drafted if no one has drafted it yet, and
// drafted again while it waits, a draft, as its figures change (the members' data comes in over
// the first days of the month); and,
// where the rules of procedure a report was circulated under take silence as consent, once its
// approval period is over it is approved tacitly by the approvers that have not answered.
type Watch struct {
	Reports   *Reports
	AutoDraft bool
}

// Look does what is due at the Reports' clock. It is idempotent: the report of a month has one id,
// a draft whose figures have not changed is left as it is, and a circulated one is never
// touched, so any replica may look, as often as it likes.
func (w Watch) Look(ctx context.Context) error {
	var errs []error
	if w.AutoDraft {
		errs = append(errs, w.draftLastMonth(ctx))
	}
	errs = append(errs, w.approveTacitly(ctx))
	return errors.Join(errs...)
}

// draftLastMonth drafts the report of the month before the Reports' clock, in Tirana, if there
// is none: on the first look after the month ends.
func (w Watch) draftLastMonth(ctx context.Context) error {
	l := w.Reports.Now().In(workdays.Tirana)
	p, err := reports.Month(time.Date(l.Year(), l.Month()-1, 1, 0, 0, 0, 0, time.UTC).Format("2006-01"))
	if err != nil {
		return err
	}
	if _, err := w.Reports.KeepDrafted(ctx, p); err != nil {
		return fmt.Errorf("draft the report of %s: %w", p.Key(), err)
	}
	return nil
}

// tacitPerChange bounds the tacit approvals of one change: each is an event, and a change
// carries at most 16 (package outbox), report.final among them.
const tacitPerChange = 15

// approveTacitly records the tacit approvals of every report whose approval period is over,
// under a rule that allows them: tacitPerChange per change, as many changes as it takes. The
// reports are a few dozen a year, read whole (Store.All).
func (w Watch) approveTacitly(ctx context.Context) error {
	all, err := w.Reports.Store.All(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, r := range all {
		if r.State != reports.Circulated || r.Rule == nil || !r.Rule.Tacit {
			continue
		}
		for changed := true; changed; {
			changed = false
			_, err := w.Reports.execute(ctx, r.ID, 0, func(r reports.Report) (reports.Report, []string, error) {
				next, ok := r.ApproveTacitly(w.Reports.stamp(), tacitPerChange)
				if !ok {
					return r, nil, nil
				}
				changed = true
				if next.State == reports.Approved {
					return next, []string{"report.approved", "report.final"}, nil
				}
				return next, []string{"report.approved"}, nil
			})
			if err != nil {
				errs = append(errs, fmt.Errorf("approve the report of %s tacitly: %w", r.Period, err))
				break
			}
		}
	}
	return errors.Join(errs...)
}
