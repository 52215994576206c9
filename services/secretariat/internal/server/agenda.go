package server

import (
	"cmp"
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/google/uuid"

	secretariatv1 "github.com/nrm-albania/nrm/proto/nrm/secretariat/v1"
	"github.com/nrm-albania/nrm/services/platform/apierr"
	"github.com/nrm-albania/nrm/services/secretariat/internal/backlog"
	"github.com/nrm-albania/nrm/services/secretariat/internal/meetings"
)

var (
	sourceManual   = secretariatv1.AgendaItemSource_AGENDA_ITEM_SOURCE_MANUAL.String()
	sourceStatus   = secretariatv1.AgendaItemSource_AGENDA_ITEM_SOURCE_STATUS_DECISION.String()
	sourceReferral = secretariatv1.AgendaItemSource_AGENDA_ITEM_SOURCE_REFERRAL_FOLLOW_UP.String()
	sourceAction   = secretariatv1.AgendaItemSource_AGENDA_ITEM_SOURCE_ACTION_ITEM.String()
	sourceMinutes  = secretariatv1.AgendaItemSource_AGENDA_ITEM_SOURCE_MINUTES.String()
	sourceReport   = secretariatv1.AgendaItemSource_AGENDA_ITEM_SOURCE_REPORT_APPROVAL.String()
	sourceData     = secretariatv1.AgendaItemSource_AGENDA_ITEM_SOURCE_DATA_MISSING.String()
)

// recentMeetings bounds the earlier meetings whose circulated minutes an agenda proposes to
// approve: a year of them, far more than ever wait.
const recentMeetings = 24

// proposed are the items the backlog, the circulated minutes and the open action items of
// earlier meetings propose for m's agenda: what the Authority has to look at.
func (s *Meetings) proposed(ctx context.Context, m meetings.Meeting) ([]meetings.Item, error) {
	open, err := s.Backlog.Open(ctx)
	if err != nil {
		return nil, err
	}
	var out []meetings.Item
	recent, _, _, err := s.Meetings.Newest(ctx, 0, recentMeetings)
	if err != nil {
		return nil, err
	}
	for _, r := range recent {
		if r.ID != m.ID && r.State == meetings.MinutesCirculated && (m.Start.IsZero() || r.Start.Before(m.Start)) {
			out = append(out, meetings.Item{ID: itemID("minutes:" + r.ID), Title: "Approval of the minutes of " + r.Reference,
				Source: sourceMinutes, MeetingID: r.ID})
		}
	}
	for _, b := range open {
		source := map[string]string{backlog.KindReferralFollowUp: sourceReferral, backlog.KindReportApproval: sourceReport,
			backlog.KindDataMissing: sourceData}[b.Kind]
		out = append(out, meetings.Item{ID: itemID("backlog:" + b.Key), Title: b.Title, Source: cmp.Or(source, sourceStatus),
			CaseCodes: b.CaseCodes, ReferralIDs: b.ReferralIDs, ReportIDs: b.ReportIDs, BacklogKey: b.Key, Since: b.Since})
	}
	actions, meetingOf, err := s.Meetings.OpenActions(ctx, "")
	if err != nil {
		return nil, err
	}
	for _, a := range actions {
		if meetingOf[a.ID] == m.ID {
			continue
		}
		out = append(out, meetings.Item{ID: itemID("action:" + a.ID), Title: fmt.Sprintf("Action item of %s, due %s: %s", a.Owner, a.Due, a.Title),
			Source: sourceAction, ActionID: a.ID, MeetingID: meetingOf[a.ID]})
	}
	return out, nil
}

// itemID is an agenda item's id: derived from what it carries, so that the same backlog item
// or action is never on an agenda twice.
func itemID(of string) string {
	return uuid.NewSHA1(uuid.NameSpaceURL, []byte("nrm:agenda:"+of)).String()
}

// merge appends to m's agenda the proposed items it does not hold yet and that were not dropped
// from it.
func merge(m meetings.Meeting, proposed []meetings.Item) []meetings.Item {
	out := slices.Clone(m.Agenda)
	for _, p := range proposed {
		if !slices.Contains(m.Dropped, p.ID) && !slices.ContainsFunc(out, func(i meetings.Item) bool { return i.ID == p.ID }) {
			out = append(out, p)
		}
	}
	return out
}

// GetAgenda returns a meeting's agenda.
func (s *Meetings) GetAgenda(ctx context.Context, req *secretariatv1.GetAgendaRequest) (*secretariatv1.GetAgendaResponse, error) {
	m, err := s.load(ctx, req.GetId())
	if err != nil {
		return nil, err
	}
	return &secretariatv1.GetAgendaResponse{Items: itemsProto(m.Agenda), Frozen: !m.AgendaFrozenAt.IsZero()}, nil
}

var (
	caseCode   = regexp.MustCompile(`^VT-[0-9]{4}-[0-9]{5}$`)
	maxItems   = 200
	maxLinks   = 50
	titleLimit = 500
)

// links checks the case codes and referral ids an item or decision names.
func links(v *apierr.Violations, codes, referrals []string) {
	if len(codes) > maxLinks || len(referrals) > maxLinks {
		v.Add("case_codes", "and referral_ids take at most %d each", maxLinks)
	}
	for i, c := range codes {
		if !caseCode.MatchString(c) {
			v.Add(fmt.Sprintf("case_codes[%d]", i), "must be a case code VT-YYYY-NNNNN")
		}
	}
	for i, r := range referrals {
		if _, err := uuid.Parse(r); err != nil {
			v.Add(fmt.Sprintf("referral_ids[%d]", i), "must be a referral id (a UUID)")
		}
	}
}

// AddAgendaItem adds an item; after the invitations it is an addendum, sent to the invitees.
func (s *Meetings) AddAgendaItem(ctx context.Context, req *secretariatv1.AddAgendaItemRequest) (*secretariatv1.AddAgendaItemResponse, error) {
	var v apierr.Violations
	title := strings.TrimSpace(req.GetTitle())
	if title == "" || len(title) > titleLimit {
		v.Add("title", "is required, at most %d characters", titleLimit)
	}
	links(&v, req.GetCaseCodes(), req.GetReferralIds())
	if req.GetPosition() < 0 {
		v.Add("position", "must be 1 or more, or 0 for the end")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	item := meetings.Item{ID: uuid.NewString(), Title: title, Source: sourceManual, CaseCodes: req.GetCaseCodes(), ReferralIDs: req.GetReferralIds()}
	m, err := s.execute(ctx, req.GetId(), req.GetExpectedVersion(), nil, func(m meetings.Meeting) (meetings.Meeting, string, error) {
		if err := m.Require("take agenda items", meetings.Scheduled, meetings.InvitationsSent); err != nil {
			return m, "", err
		}
		if len(m.Agenda) >= maxItems {
			return m, "", apierr.FailedPrecondition("AGENDA_FULL", fmt.Sprintf("the agenda holds %d items already", maxItems), nil)
		}
		kind := "agenda_changed"
		if m.State == meetings.InvitationsSent {
			item.Addendum, kind = true, "addendum"
			m.Invitations++
		}
		at := int(req.GetPosition()) - 1
		if at < 0 || at > len(m.Agenda) {
			at = len(m.Agenda)
		}
		m.Agenda = slices.Insert(slices.Clone(m.Agenda), at, item)
		return m, kind, nil
	})
	if err != nil {
		return nil, err
	}
	return &secretariatv1.AddAgendaItemResponse{Meeting: s.view(m), Item: itemsProto([]meetings.Item{item})[0]}, nil
}

// frozen refuses to reorder or drop items once the invitations went out: the invitees have the
// agenda they were sent, and only an addendum may change it.
func frozen(m meetings.Meeting, change string) error {
	if err := m.Require(change, meetings.Scheduled); err != nil {
		if m.State == meetings.InvitationsSent {
			return apierr.FailedPrecondition("AGENDA_FROZEN",
				"the agenda was frozen when the invitations went out: add an item instead (sent as an addendum)",
				map[string]string{"meeting_id": m.ID})
		}
		return err
	}
	return nil
}

func (s *Meetings) itemAt(m meetings.Meeting, id string) (int, error) {
	i := slices.IndexFunc(m.Agenda, func(it meetings.Item) bool { return it.ID == id })
	if i < 0 {
		return 0, apierr.NotFound("agenda item", id)
	}
	return i, nil
}

// MoveAgendaItem moves an item to a position, before the invitations go out.
func (s *Meetings) MoveAgendaItem(ctx context.Context, req *secretariatv1.MoveAgendaItemRequest) (*secretariatv1.MoveAgendaItemResponse, error) {
	m, err := s.execute(ctx, req.GetId(), req.GetExpectedVersion(), nil, func(m meetings.Meeting) (meetings.Meeting, string, error) {
		if err := frozen(m, "reorder its agenda"); err != nil {
			return m, "", err
		}
		i, err := s.itemAt(m, req.GetItemId())
		if err != nil {
			return m, "", err
		}
		to := int(req.GetPosition()) - 1
		if to < 0 || to >= len(m.Agenda) {
			return m, "", apierr.InvalidField("position", "must be 1 to %d", len(m.Agenda))
		}
		item := m.Agenda[i]
		agenda := slices.Delete(slices.Clone(m.Agenda), i, i+1)
		m.Agenda = slices.Insert(agenda, to, item)
		return m, "agenda_changed", nil
	})
	if err != nil {
		return nil, err
	}
	return &secretariatv1.MoveAgendaItemResponse{Meeting: s.view(m)}, nil
}

// DropAgendaItem drops an item, before the invitations go out.
func (s *Meetings) DropAgendaItem(ctx context.Context, req *secretariatv1.DropAgendaItemRequest) (*secretariatv1.DropAgendaItemResponse, error) {
	m, err := s.execute(ctx, req.GetId(), req.GetExpectedVersion(), nil, func(m meetings.Meeting) (meetings.Meeting, string, error) {
		if err := frozen(m, "drop agenda items"); err != nil {
			return m, "", err
		}
		i, err := s.itemAt(m, req.GetItemId())
		if err != nil {
			return m, "", err
		}
		m.Dropped = append(m.Dropped, m.Agenda[i].ID)
		m.Agenda = slices.Delete(slices.Clone(m.Agenda), i, i+1)
		return m, "agenda_changed", nil
	})
	if err != nil {
		return nil, err
	}
	return &secretariatv1.DropAgendaItemResponse{Meeting: s.view(m)}, nil
}

// ListAgendaBacklog lists what the events propose.
func (s *Meetings) ListAgendaBacklog(ctx context.Context, _ *secretariatv1.ListAgendaBacklogRequest) (*secretariatv1.ListAgendaBacklogResponse, error) {
	items, err := s.proposed(ctx, meetings.Meeting{})
	if err != nil {
		return nil, err
	}
	return &secretariatv1.ListAgendaBacklogResponse{Items: itemsProto(items)}, nil
}
