package server

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	secretariatv1 "github.com/nrm-albania/nrm/proto/nrm/secretariat/v1"
	"github.com/nrm-albania/nrm/services/platform/aggregate"
	"github.com/nrm-albania/nrm/services/platform/auth"
	"github.com/nrm-albania/nrm/services/platform/workdays"
	"github.com/nrm-albania/nrm/services/secretariat/internal/backlog"
	"github.com/nrm-albania/nrm/services/secretariat/internal/meetings"
	"github.com/nrm-albania/nrm/services/secretariat/internal/notify"
)

// watcher is the principal of the secretariat's watch in histories, events and the audit trail.
var watcher = &auth.Principal{Institution: "NRM", Subject: "secretariat/watch", Roles: []auth.Role{auth.RoleService}}

// monthsBack bounds how far back the watch records closed months: a service stopped for a
// while catches up on the months it missed, never on the years before it was installed.
const monthsBack = 12

// Watch looks once at what the secretariat must remind or record, each exactly once however
// many replicas watch and however often: the chair is reminded when the month has no regular
// meeting scheduled by the rules' day; each closed month is recorded, with meeting.month_missed
// when no regular meeting was held in it; each open action item's owner is reminded before its
// due date, and once it is overdue action.overdue is published and the owner and the chair told.
func (s *Meetings) Watch(ctx context.Context) error {
	ctx = auth.NewContext(ctx, watcher)
	now := s.Now()
	return errors.Join(s.remindMonth(ctx, now), s.closeMonths(ctx, now), s.watchActions(ctx, now), s.remindMissingData(ctx),
		s.remindReportApproval(ctx, now))
}

// approvalReminderLead is how long before the end of the rules' approval period the members
// are reminded of a report awaiting their approval.
const approvalReminderLead = 2 * 24 * time.Hour

// remindReportApproval reminds every member, once per report, of a report circulated and
// still awaiting approval when the approval period the rules of procedure of its circulation
// day give (report_approval_days) is about to end.
func (s *Meetings) remindReportApproval(ctx context.Context, now time.Time) error {
	items, err := s.Backlog.Open(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, it := range items {
		if it.Kind != backlog.KindReportApproval || len(it.ReportIDs) == 0 {
			continue
		}
		// The rules of the circulation day, as the reporting service applies them.
		r, err := s.Rules.On(ctx, it.Since.In(workdays.Tirana).Format(time.DateOnly))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		deadline := it.Since.AddDate(0, 0, int(r.ReportApprovalDays))
		if now.Before(deadline.Add(-approvalReminderLead)) {
			continue
		}
		id := it.ReportIDs[0]
		errs = append(errs, s.remind(ctx, "reminder/report/"+id+"/approval", "reminder", s.Members,
			"Report "+id+" awaiting your approval by "+deadline.In(workdays.Tirana).Format("2 January 2006"),
			fmt.Sprintf("The report %s was circulated on %s. The rules of procedure (version %d) give the members %d days to approve it "+
				"or return it with a comment; if your institution has not answered yet, please do so in the system.",
				id, it.Since.In(workdays.Tirana).Format("2 January 2006"), r.Version, r.ReportApprovalDays)))
	}
	return errors.Join(errs...)
}

// remindMissingData reminds each member the reporting service announced as not having reported
// a month's data (the backlog's data_missing items), once per member and month.
func (s *Meetings) remindMissingData(ctx context.Context) error {
	items, err := s.Backlog.Open(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, it := range items {
		if it.Kind != backlog.KindDataMissing {
			continue
		}
		period := it.Key[strings.LastIndex(it.Key, "/")+1:]
		errs = append(errs, s.remind(ctx, "reminder/data/"+it.Institution+"/"+period, "reminder", []string{it.Institution},
			"Monthly data for "+period+" not yet reported",
			fmt.Sprintf("%s has not reported its data for %s, which was due. Submit it in the system (data sets); the month locks "+
				"on the reporting service's lock day, after which the secretariat must reopen it.", it.Institution, period)))
	}
	return errors.Join(errs...)
}

func (s *Meetings) remindMonth(ctx context.Context, now time.Time) error {
	local := now.In(workdays.Tirana)
	r, err := s.Rules.On(ctx, local.Format(time.DateOnly))
	if err != nil {
		return err
	}
	month := local.Format("2006-01")
	if local.Day() < int(r.MeetingReminderDay) {
		return nil
	}
	ms, err := s.Meetings.OfMonth(ctx, month)
	if err != nil {
		return err
	}
	if _, scheduled := meetings.RegularOf(ms, month, func(m meetings.Meeting) bool { return m.State != meetings.Cancelled }); scheduled {
		return nil
	}
	return s.remind(ctx, "reminder/meeting/"+month, "reminder", []string{s.Chair},
		"No regular meeting scheduled for "+month,
		fmt.Sprintf("The Authority meets at least monthly (point 7), and no regular meeting is scheduled for %s. "+
			"The rules of procedure (version %d) ask for it to be scheduled by day %d.", month, r.Version, r.MeetingReminderDay))
}

// closeMonths records each closed month since the later of monthsBack ago and the installation.
func (s *Meetings) closeMonths(ctx context.Context, now time.Time) error {
	all, err := s.Rules.All(ctx)
	if err != nil || len(all) == 0 {
		return err
	}
	installed := all[0].AdoptedAt.In(workdays.Tirana).Format("2006-01")
	local := now.In(workdays.Tirana)
	first := time.Date(local.Year(), local.Month(), 1, 12, 0, 0, 0, workdays.Tirana)
	current := first.Format("2006-01")
	var errs []error
	for back := monthsBack; back >= 1; back-- {
		month := first.AddDate(0, -back, 0).Format("2006-01")
		if month < installed || month >= current {
			continue
		}
		if _, err := s.Months.Get(ctx, month); err == nil {
			continue
		} else if !errors.Is(err, aggregate.ErrNotFound) {
			errs = append(errs, err)
			continue
		}
		errs = append(errs, s.closeMonth(ctx, month, now))
	}
	return errors.Join(errs...)
}

func (s *Meetings) closeMonth(ctx context.Context, month string, now time.Time) error {
	ms, err := s.Meetings.OfMonth(ctx, month)
	if err != nil {
		return err
	}
	at := now.UTC().Truncate(time.Millisecond)
	rec := meetings.MonthRecord{ID: month, Version: 1, ClosedAt: at, UpdatedAt: at}
	if m, ok := meetings.RegularOf(ms, month, meetings.Meeting.Was); ok {
		rec.Compliant, rec.Held = true, m.ID
	}
	var events []aggregate.Event
	if !rec.Compliant {
		events = append(events, aggregate.Event{Type: "meeting.month_missed", Payload: &secretariatv1.MeetingChanged{Month: month}})
	}
	pending, err := aggregate.Envelop(ctx, month, 1, events, at)
	if err != nil {
		return err
	}
	_, err = s.Months.Create(ctx, rec, meetings.Change{Kind: "closed"}.By(watcher.Institution, watcher.Subject, at), pending)
	if errors.Is(err, aggregate.ErrExists) { // another replica recorded it
		return nil
	}
	if err != nil {
		return err
	}
	s.Relay.Notify()
	if !rec.Compliant {
		s.Log.WarnContext(ctx, "a month closed without a regular meeting held", "month", month)
	}
	return nil
}

func (s *Meetings) watchActions(ctx context.Context, now time.Time) error {
	actions, meetingOf, err := s.Meetings.OpenActions(ctx, "")
	if err != nil {
		return err
	}
	today := now.In(workdays.Tirana).Format(time.DateOnly)
	soon := now.In(workdays.Tirana).AddDate(0, 0, s.ActionReminderDays).Format(time.DateOnly)
	var errs []error
	for _, a := range actions {
		switch {
		case a.Due < today && !a.Overdue:
			errs = append(errs, s.overdue(ctx, meetingOf[a.ID], a))
		case a.Due >= today && a.Due <= soon:
			errs = append(errs, s.remind(ctx, "reminder/action/"+a.ID+"/due", "reminder", []string{a.Owner},
				"Action item due "+a.Due+": "+a.Title,
				fmt.Sprintf("The action item %q, given to %s, is due on %s. Mark it done in the system when it is.", a.Title, a.Owner, a.Due)))
		}
	}
	return errors.Join(errs...)
}

// overdue publishes action.overdue for a, once, and tells its owner and the chair.
func (s *Meetings) overdue(ctx context.Context, meetingID string, a meetings.Action) error {
	_, err := s.execute(ctx, meetingID, 0, nil, func(m meetings.Meeting) (meetings.Meeting, string, error) {
		i := slices.IndexFunc(m.Actions, func(x meetings.Action) bool { return x.ID == a.ID })
		if i < 0 || m.Actions[i].Done || m.Actions[i].Overdue {
			return m, "", errNoop // done meanwhile, or another replica was first
		}
		m.Actions = slices.Clone(m.Actions)
		m.Actions[i].Overdue = true
		return m, "action_overdue", nil
	})
	if errors.Is(err, errNoop) {
		return nil
	}
	if err != nil {
		return err
	}
	return s.remind(ctx, "reminder/action/"+a.ID+"/overdue", "reminder", []string{a.Owner, s.Chair},
		"Action item overdue since "+a.Due+": "+a.Title,
		fmt.Sprintf("The action item %q, given to %s, was due on %s and is not done. It stays on the agenda until it is.", a.Title, a.Owner, a.Due))
}

// remind queues a notification to the representatives of institutions, under an id that makes
// it once.
func (s *Meetings) remind(ctx context.Context, id, kind string, institutions []string, subject, text string) error {
	reps, err := s.Representations.All(ctx)
	if err != nil {
		return err
	}
	n := notify.Notification{ID: id, Kind: kind, Subject: subject, Text: text, CreatedAt: s.stamp()}
	for _, r := range reps {
		if slices.Contains(institutions, r.Institution) {
			n.Institutions = append(n.Institutions, r.Institution)
			n.Recipients = append(n.Recipients, recipients(r)...)
		}
	}
	if len(n.Recipients) == 0 {
		s.Log.WarnContext(ctx, "a reminder has no one to go to: set the institutions' representatives", "notification_id", id,
			"institutions", strings.Join(institutions, ","))
		return nil
	}
	return s.queue(ctx, n)
}

// queue enqueues n, lists it in its institutions' inboxes and wakes the deliverer.
func (s *Meetings) queue(ctx context.Context, n notify.Notification) error {
	if err := s.Notifications.Enqueue(ctx, n); err != nil {
		return err
	}
	for _, inst := range n.Institutions {
		if err := s.Inbox.Add(ctx, "inbox/"+inst, n.ID); err != nil {
			return err
		}
	}
	s.Wake()
	return nil
}
