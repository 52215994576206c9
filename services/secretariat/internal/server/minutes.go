package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"google.golang.org/genproto/googleapis/api/httpbody"

	secretariatv1 "github.com/nrm-albania/nrm/proto/nrm/secretariat/v1"
	"github.com/nrm-albania/nrm/services/platform/apierr"
	"github.com/nrm-albania/nrm/services/platform/authz"
	"github.com/nrm-albania/nrm/services/platform/pdfdoc"
	"github.com/nrm-albania/nrm/services/platform/workdays"
	"github.com/nrm-albania/nrm/services/secretariat/internal/meetings"
)

const maxNotes = 50000

func notes(s string) (string, error) {
	s = strings.TrimSpace(s)
	if len(s) > maxNotes {
		return "", apierr.InvalidField("notes", "must be at most %d characters", maxNotes)
	}
	return s, nil
}

// DraftMinutes drafts the minutes of a held meeting.
func (s *Meetings) DraftMinutes(ctx context.Context, req *secretariatv1.DraftMinutesRequest) (*secretariatv1.DraftMinutesResponse, error) {
	text, err := notes(req.GetNotes())
	if err != nil {
		return nil, err
	}
	now := s.stamp()
	m, err := s.execute(ctx, req.GetId(), 0, nil, func(m meetings.Meeting) (meetings.Meeting, string, error) {
		if err := m.Require("have its minutes drafted", meetings.Held); err != nil {
			return m, "", err
		}
		m.State, m.Minutes = meetings.MinutesDrafted, &meetings.Minutes{Notes: text, Revision: 1, DraftedAt: now}
		return m, "minutes_drafted", nil
	})
	if err != nil {
		return nil, err
	}
	return &secretariatv1.DraftMinutesResponse{Meeting: s.view(m)}, nil
}

// AmendMinutes changes the notes of minutes not yet approved; circulated ones are drafted again.
func (s *Meetings) AmendMinutes(ctx context.Context, req *secretariatv1.AmendMinutesRequest) (*secretariatv1.AmendMinutesResponse, error) {
	text, err := notes(req.GetNotes())
	if err != nil {
		return nil, err
	}
	m, err := s.execute(ctx, req.GetId(), req.GetExpectedVersion(), nil, func(m meetings.Meeting) (meetings.Meeting, string, error) {
		if err := m.Require("have its minutes amended", meetings.MinutesDrafted, meetings.MinutesCirculated); err != nil {
			return m, "", err
		}
		minutes := *m.Minutes
		minutes.Notes, minutes.Revision, minutes.CirculatedAt = text, minutes.Revision+1, time.Time{}
		m.State, m.Minutes = meetings.MinutesDrafted, &minutes
		return m, "minutes_amended", nil
	})
	if err != nil {
		return nil, err
	}
	return &secretariatv1.AmendMinutesResponse{Meeting: s.view(m)}, nil
}

// CirculateMinutes sends the drafted minutes to the members.
func (s *Meetings) CirculateMinutes(ctx context.Context, req *secretariatv1.CirculateMinutesRequest) (*secretariatv1.CirculateMinutesResponse, error) {
	now := s.stamp()
	m, err := s.execute(ctx, req.GetId(), 0, nil, func(m meetings.Meeting) (meetings.Meeting, string, error) {
		if err := m.Require("have its minutes circulated", meetings.MinutesDrafted); err != nil {
			return m, "", err
		}
		minutes := *m.Minutes
		minutes.CirculatedAt = now
		m.State, m.Minutes = meetings.MinutesCirculated, &minutes
		return m, "minutes_circulated", nil
	})
	if err != nil {
		return nil, err
	}
	return &secretariatv1.CirculateMinutesResponse{Meeting: s.view(m), NotificationId: NoticeID("minutes", m.ID, m.Version)}, nil
}

// ApproveMinutes approves circulated minutes as the rules say, and freezes them as a PDF whose
// hash goes to the audit trail.
func (s *Meetings) ApproveMinutes(ctx context.Context, req *secretariatv1.ApproveMinutesRequest) (*secretariatv1.ApproveMinutesResponse, error) {
	fresh, err := s.load(ctx, req.GetId())
	if err != nil {
		return nil, err
	}
	r, err := s.Rules.On(ctx, fresh.Start.In(workdays.Tirana).Format(time.DateOnly))
	if err != nil {
		return nil, err
	}
	now := s.stamp()
	at := ""
	switch r.MinutesApproval {
	case secretariatv1.MinutesApproval_MINUTES_APPROVAL_NEXT_MEETING.String():
		next, err := s.load(ctx, req.GetAtMeetingId())
		if err != nil {
			return nil, apierr.InvalidField("at_meeting_id", "must name the later meeting at which the minutes are approved (rules of procedure, version %d)", r.Version)
		}
		if !next.Start.After(fresh.Start) || next.State != meetings.InSession {
			return nil, apierr.FailedPrecondition("NOT_AT_A_LATER_MEETING",
				fmt.Sprintf("minutes are approved at a later meeting in session (rules of procedure, version %d); %s is %s", r.Version, next.Reference, next.State),
				map[string]string{"at_meeting_id": next.ID, "rules_version": fmt.Sprint(r.Version)})
		}
		if q, missing, err := s.quorum(ctx, next, now); err != nil {
			return nil, err
		} else if !q.Reached {
			return nil, apierr.FailedPrecondition("NO_QUORUM", "no approval without a quorum: "+missing, map[string]string{"at_meeting_id": next.ID})
		}
		at = next.ID
	default: // by circulation, once the members have had their days to comment
		if fresh.Minutes != nil && !fresh.Minutes.CirculatedAt.IsZero() {
			if due := fresh.Minutes.CirculatedAt.AddDate(0, 0, int(r.MinutesCirculationDays)); now.Before(due) {
				return nil, apierr.FailedPrecondition("CIRCULATION_PERIOD",
					fmt.Sprintf("members have until %s to comment on the circulated minutes (rules of procedure, version %d)", due.In(workdays.Tirana).Format(time.DateTime), r.Version),
					map[string]string{"comments_until": due.Format(time.RFC3339), "rules_version": fmt.Sprint(r.Version)})
			}
		}
	}
	var digest string
	m, err := s.execute(ctx, req.GetId(), fresh.Version, nil, func(m meetings.Meeting) (meetings.Meeting, string, error) {
		if err := m.Require("have its minutes approved", meetings.MinutesCirculated); err != nil {
			return m, "", err
		}
		minutes := *m.Minutes
		minutes.ApprovedAt, minutes.ApprovedAtMeeting = now, at
		m.Minutes = &minutes
		pdf, err := s.minutesPDF(m)
		if err != nil {
			return m, "", err
		}
		sum := sha256.Sum256(pdf)
		digest = hex.EncodeToString(sum[:])
		m.State, m.Minutes.PDF, m.Minutes.PDFSHA256 = meetings.MinutesApproved, pdf, digest
		return m, "minutes_approved", nil
	})
	if err != nil {
		return nil, err
	}
	authz.NoteObjects(ctx, "sha256:"+digest)
	return &secretariatv1.ApproveMinutesResponse{Meeting: s.view(m)}, nil
}

// ExportMinutes returns the minutes as a PDF: the frozen one, or a draft marked as such.
func (s *Meetings) ExportMinutes(ctx context.Context, req *secretariatv1.ExportMinutesRequest) (*httpbody.HttpBody, error) {
	m, err := s.load(ctx, req.GetId())
	if err != nil {
		return nil, err
	}
	if m.Minutes == nil {
		return nil, apierr.FailedPrecondition("NO_MINUTES", fmt.Sprintf("meeting %s has no minutes yet", m.Reference), map[string]string{"meeting_id": m.ID})
	}
	pdf := m.Minutes.PDF
	if pdf == nil {
		if pdf, err = s.minutesPDF(m); err != nil {
			return nil, err
		}
	}
	return &httpbody.HttpBody{ContentType: "application/pdf", Data: pdf}, nil
}

// minutesPDF renders the minutes from the meeting's record. The same record renders to the same
// bytes (pdfdoc), so the hash kept at approval identifies them.
func (s *Meetings) minutesPDF(m meetings.Meeting) ([]byte, error) {
	local := func(t time.Time) string { return t.In(workdays.Tirana).Format("2006-01-02 15:04") }
	status := fmt.Sprintf("DRAFT, revision %d, not approved", m.Minutes.Revision)
	created := m.Minutes.DraftedAt
	if !m.Minutes.ApprovedAt.IsZero() {
		status, created = fmt.Sprintf("Approved %s, revision %d", local(m.Minutes.ApprovedAt), m.Minutes.Revision), m.Minutes.ApprovedAt
	}
	where := m.Place
	if m.OnlineLink != "" {
		where = strings.TrimSpace(where + " " + m.OnlineLink)
	}
	d := pdfdoc.Document{
		Title:     "Minutes of meeting " + m.Reference,
		Subtitle:  "Responsible Authority for victims and potential victims of trafficking",
		Reference: m.Reference + " minutes",
		Created:   created,
		Blocks: []pdfdoc.Block{
			pdfdoc.List{Items: []pdfdoc.Item{
				{Label: "Meeting", Value: strings.ToLower(strings.TrimPrefix(m.Kind, "MEETING_KIND_"))},
				{Label: "Time", Value: local(m.Start) + " to " + local(m.End) + " (Tirana)"},
				{Label: "Place", Value: where},
				{Label: "Rules of procedure", Value: fmt.Sprintf("version %d", m.RulesVersion)},
				{Label: "Status", Value: status},
			}},
			pdfdoc.Heading{Text: "Attendance"},
		},
	}
	rows := [][]string{}
	for _, a := range m.Attendance {
		rows = append(rows, []string{a.Institution, strings.ToLower(strings.TrimPrefix(a.Presence, "PRESENCE_")), orEmpty(a.ArrivedAt, local), orEmpty(a.LeftAt, local)})
	}
	d.Blocks = append(d.Blocks, pdfdoc.Table{Columns: []string{"Institution", "Presence", "Arrived", "Left"}, Rows: rows})
	if q := m.OpeningQuorum; q != nil {
		d.Blocks = append(d.Blocks, pdfdoc.Paragraph{Text: fmt.Sprintf("Quorum at the opening: %d members present, %d required; reached: %v.", q.Present, q.Required, q.Reached)})
	}
	d.Blocks = append(d.Blocks, pdfdoc.Heading{Text: "Agenda"})
	agenda := [][]string{}
	for i, it := range m.Agenda {
		agenda = append(agenda, []string{fmt.Sprint(i + 1), it.Title, strings.Join(append(slices.Clone(it.CaseCodes), it.ReferralIDs...), ", ")})
	}
	d.Blocks = append(d.Blocks, pdfdoc.Table{Columns: []string{"#", "Item", "Cases and referrals"}, Rows: agenda})
	d.Blocks = append(d.Blocks, pdfdoc.Heading{Text: "Decisions"})
	for i, dec := range m.Decisions {
		how := "by consensus"
		if !dec.Consensus {
			how = fmt.Sprintf("by vote (%d votes)", len(dec.Votes))
		}
		adopted := "adopted"
		if !dec.Adopted {
			adopted = "not adopted"
		}
		d.Blocks = append(d.Blocks, pdfdoc.Paragraph{Text: fmt.Sprintf("Decision %d (%s, %s, %s; quorum %d of %d): %s",
			i+1, strings.ToLower(strings.TrimPrefix(dec.Kind, "DECISION_KIND_")), how, adopted, dec.Quorum.Present, dec.Quorum.Required, dec.Text)})
	}
	if len(m.Actions) > 0 {
		d.Blocks = append(d.Blocks, pdfdoc.Heading{Text: "Action items"})
		actions := [][]string{}
		for _, a := range m.Actions {
			actions = append(actions, []string{a.Owner, a.Title, a.Due})
		}
		d.Blocks = append(d.Blocks, pdfdoc.Table{Columns: []string{"Owner", "Action", "Due"}, Rows: actions})
	}
	if m.Minutes.Notes != "" {
		d.Blocks = append(d.Blocks, pdfdoc.Heading{Text: "Notes"}, pdfdoc.Paragraph{Text: m.Minutes.Notes})
	}
	pdf, err := pdfdoc.Render(d)
	if err != nil {
		return nil, fmt.Errorf("render the minutes of %s: %w", m.Reference, err)
	}
	return pdf, nil
}

// orEmpty is f(t), or "" for no time.
func orEmpty(t time.Time, f func(time.Time) string) string {
	if t.IsZero() {
		return ""
	}
	return f(t)
}
