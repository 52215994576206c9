package server

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	secretariatv1 "github.com/nrm-albania/nrm/proto/nrm/secretariat/v1"
	"github.com/nrm-albania/nrm/services/platform/apierr"
	"github.com/nrm-albania/nrm/services/platform/workdays"
	"github.com/nrm-albania/nrm/services/secretariat/internal/meetings"
)

// quorum is the quorum of m at t by the rules of the meeting's day.
func (s *Meetings) quorum(ctx context.Context, m meetings.Meeting, t time.Time) (meetings.Quorum, string, error) {
	r, err := s.Rules.On(ctx, m.Start.In(workdays.Tirana).Format(time.DateOnly))
	if err != nil {
		return meetings.Quorum{}, "", err
	}
	present := m.Present(t)
	n := 0
	for _, p := range present {
		if slices.Contains(s.Members, p) {
			n++
		}
	}
	q := r.QuorumOf(n, slices.Contains(present, s.Chair))
	return meetings.Quorum{Reached: q.Reached, Present: q.Present, Required: q.Required, ChairPresent: q.ChairPresent,
		RulesVersion: q.RulesVersion, At: t}, q.MissingReason, nil
}

// inSession are the states in which attendance is taken: from the invitations to the close.
var inSession = []string{meetings.InvitationsSent, meetings.InSession}

// RecordAttendance records an institution's presence or absence.
func (s *Meetings) RecordAttendance(ctx context.Context, req *secretariatv1.RecordAttendanceRequest) (*secretariatv1.RecordAttendanceResponse, error) {
	if req.GetPresence() == secretariatv1.Presence_PRESENCE_UNSPECIFIED || secretariatv1.Presence_name[int32(req.GetPresence())] == "" {
		return nil, apierr.InvalidField("presence", "must be PRESENCE_REPRESENTATIVE, PRESENCE_SUBSTITUTE or PRESENCE_ABSENT")
	}
	now := s.stamp()
	a := meetings.Attendance{Institution: req.GetInstitution(), Presence: req.GetPresence().String()}
	if req.GetPresence() != secretariatv1.Presence_PRESENCE_ABSENT {
		a.ArrivedAt = now
		if req.GetArrivedAt() != nil {
			a.ArrivedAt = req.GetArrivedAt().AsTime().UTC().Truncate(time.Millisecond)
		}
		if req.GetLeftAt() != nil {
			a.LeftAt = req.GetLeftAt().AsTime().UTC().Truncate(time.Millisecond)
			if !a.LeftAt.After(a.ArrivedAt) {
				return nil, apierr.InvalidField("left_at", "must be after arrived_at")
			}
		}
	}
	m, err := s.execute(ctx, req.GetId(), 0, nil, func(m meetings.Meeting) (meetings.Meeting, string, error) {
		if err := m.Require("take attendance", inSession...); err != nil {
			return m, "", err
		}
		if !slices.Contains(s.Members, a.Institution) && !slices.Contains(m.Invitees, a.Institution) {
			return m, "", apierr.InvalidField("institution", "%q is neither a member nor invited to this meeting", a.Institution)
		}
		m.SetAttendance(a)
		return m, "attendance_recorded", nil
	})
	if err != nil {
		return nil, err
	}
	q, _, err := s.quorum(ctx, m, s.Now())
	if err != nil {
		return nil, err
	}
	return &secretariatv1.RecordAttendanceResponse{Meeting: s.view(m), Quorum: quorumProto(&q)}, nil
}

// OpenMeeting opens the meeting and keeps its quorum at the opening.
func (s *Meetings) OpenMeeting(ctx context.Context, req *secretariatv1.OpenMeetingRequest) (*secretariatv1.OpenMeetingResponse, error) {
	fresh, err := s.load(ctx, req.GetId())
	if err != nil {
		return nil, err
	}
	now := s.stamp()
	q, _, err := s.quorum(ctx, fresh, now)
	if err != nil {
		return nil, err
	}
	m, err := s.execute(ctx, req.GetId(), fresh.Version, nil, func(m meetings.Meeting) (meetings.Meeting, string, error) {
		if err := m.Require("be opened", meetings.InvitationsSent); err != nil {
			return m, "", err
		}
		m.State, m.OpeningQuorum = meetings.InSession, &q
		return m, "opened", nil
	})
	if err != nil {
		return nil, err
	}
	return &secretariatv1.OpenMeetingResponse{Meeting: s.view(m)}, nil
}

const maxDecisionText = 10000

func validDecision(req *secretariatv1.RecordDecisionRequest, members []string) error {
	var v apierr.Violations
	if t := strings.TrimSpace(req.GetText()); t == "" || len(t) > maxDecisionText {
		v.Add("text", "is required, at most %d characters", maxDecisionText)
	}
	if req.GetKind() == secretariatv1.DecisionKind_DECISION_KIND_UNSPECIFIED || secretariatv1.DecisionKind_name[int32(req.GetKind())] == "" {
		v.Add("kind", "must be a DECISION_KIND_…")
	}
	if req.GetConsensus() == (len(req.GetVotes()) > 0) {
		v.Add("votes", "are given when, and only when, the decision is not by consensus")
	}
	seen := map[string]bool{}
	for i, vote := range req.GetVotes() {
		if !slices.Contains(members, vote.GetInstitution()) || seen[vote.GetInstitution()] {
			v.Add(fmt.Sprintf("votes[%d].institution", i), "must be a member's code, once")
		}
		seen[vote.GetInstitution()] = true
		if vote.GetVote() == secretariatv1.Vote_VOTE_UNSPECIFIED || secretariatv1.Vote_name[int32(vote.GetVote())] == "" {
			v.Add(fmt.Sprintf("votes[%d].vote", i), "must be VOTE_FOR, VOTE_AGAINST or VOTE_ABSTAIN")
		}
	}
	links(&v, req.GetCaseCodes(), req.GetReferralIds())
	if len(req.GetReportIds()) > maxLinks {
		v.Add("report_ids", "takes at most %d", maxLinks)
	}
	if len(req.GetActionItems()) > 20 {
		v.Add("action_items", "takes at most 20")
	}
	for i, a := range req.GetActionItems() {
		if !slices.Contains(members, a.GetOwner()) {
			v.Add(fmt.Sprintf("action_items[%d].owner", i), "must be a member's code")
		}
		if t := strings.TrimSpace(a.GetTitle()); t == "" || len(t) > titleLimit {
			v.Add(fmt.Sprintf("action_items[%d].title", i), "is required, at most %d characters", titleLimit)
		}
		if _, err := time.Parse(time.DateOnly, a.GetDueDate()); err != nil {
			v.Add(fmt.Sprintf("action_items[%d].due_date", i), "must be a date YYYY-MM-DD")
		}
	}
	return v.Err()
}

// RecordDecision records a decision with its action items, when the members present make a
// quorum at that moment.
func (s *Meetings) RecordDecision(ctx context.Context, req *secretariatv1.RecordDecisionRequest) (*secretariatv1.RecordDecisionResponse, error) {
	if err := validDecision(req, s.Members); err != nil {
		return nil, err
	}
	fresh, err := s.load(ctx, req.GetId())
	if err != nil {
		return nil, err
	}
	now := s.stamp()
	q, missing, err := s.quorum(ctx, fresh, now)
	if err != nil {
		return nil, err
	}
	d := meetings.Decision{ID: uuid.NewString(), ItemID: req.GetAgendaItemId(), Text: strings.TrimSpace(req.GetText()),
		Kind: req.GetKind().String(), Consensus: req.GetConsensus(), CaseCodes: req.GetCaseCodes(),
		ReferralIDs: req.GetReferralIds(), ReportIDs: req.GetReportIds(), Quorum: q, At: now}
	var actions []meetings.Action
	for _, a := range req.GetActionItems() {
		actions = append(actions, meetings.Action{ID: uuid.NewString(), DecisionID: d.ID, Owner: a.GetOwner(), Title: strings.TrimSpace(a.GetTitle()), Due: a.GetDueDate()})
		d.ActionIDs = append(d.ActionIDs, actions[len(actions)-1].ID)
	}
	d.Adopted = d.Consensus
	if !d.Consensus {
		d.Votes = map[string]string{}
		var against, in int
		for _, v := range req.GetVotes() {
			d.Votes[v.GetInstitution()] = v.GetVote().String()
			switch v.GetVote() {
			case secretariatv1.Vote_VOTE_FOR:
				in++
			case secretariatv1.Vote_VOTE_AGAINST:
				against++
			}
		}
		d.Adopted = in > against
	}
	// Checked before anything is written; the command checks again on the state it commits on.
	if err := s.decidable(fresh, d, q, missing); err != nil {
		return nil, err
	}
	if err := s.Meetings.MarkOpen(ctx, fresh.ID, actions); err != nil {
		return nil, err
	}
	m, err := s.execute(ctx, req.GetId(), fresh.Version, nil, func(m meetings.Meeting) (meetings.Meeting, string, error) {
		if err := s.decidable(m, d, q, missing); err != nil {
			return m, "", err
		}
		m.Decisions = append(slices.Clone(m.Decisions), d)
		m.Actions = append(slices.Clone(m.Actions), actions...)
		return m, "decision_recorded", nil
	})
	if err != nil {
		return nil, err
	}
	if err := s.Backlog.ResolveConcerning(ctx, d.CaseCodes, d.ReferralIDs); err != nil {
		s.Log.WarnContext(ctx, "the backlog items a decision resolved stay proposed", "meeting_id", m.ID, "decision_id", d.ID, "error", err)
	}
	return &secretariatv1.RecordDecisionResponse{Meeting: s.view(m), Decision: decisionsProto([]meetings.Decision{d})[0]}, nil
}

// decidable checks that d may be recorded on m: in session, on one of its items, every voter
// present, with a quorum.
func (s *Meetings) decidable(m meetings.Meeting, d meetings.Decision, q meetings.Quorum, missing string) error {
	if err := m.Require("record decisions", meetings.InSession); err != nil {
		return err
	}
	if _, ok := m.Item(d.ItemID); !ok {
		return apierr.InvalidField("agenda_item_id", "must be an item of the meeting's agenda")
	}
	present := m.Present(q.At)
	for inst := range d.Votes {
		if !slices.Contains(present, inst) {
			return apierr.InvalidField("votes", "%s is not present and cannot vote", inst)
		}
	}
	if !q.Reached {
		return apierr.FailedPrecondition("NO_QUORUM", "no decision without a quorum: "+missing,
			map[string]string{"meeting_id": m.ID, "members_present": fmt.Sprint(q.Present), "required": fmt.Sprint(q.Required),
				"chair_present": fmt.Sprint(q.ChairPresent), "rules_version": fmt.Sprint(q.RulesVersion)})
	}
	return nil
}

// CloseMeeting closes the meeting: it is held.
func (s *Meetings) CloseMeeting(ctx context.Context, req *secretariatv1.CloseMeetingRequest) (*secretariatv1.CloseMeetingResponse, error) {
	now := s.stamp()
	m, err := s.execute(ctx, req.GetId(), 0, nil, func(m meetings.Meeting) (meetings.Meeting, string, error) {
		if err := m.Require("be closed", meetings.InSession); err != nil {
			return m, "", err
		}
		for i, a := range m.Attendance { // those still present leave at the close
			if a.LeftAt.IsZero() && !a.ArrivedAt.IsZero() {
				m.Attendance[i].LeftAt = now
			}
		}
		m.State = meetings.Held
		return m, "closed", nil
	})
	if err != nil {
		return nil, err
	}
	return &secretariatv1.CloseMeetingResponse{Meeting: s.view(m)}, nil
}

// ListActionItems lists open action items, soonest due first.
func (s *Meetings) ListActionItems(ctx context.Context, req *secretariatv1.ListActionItemsRequest) (*secretariatv1.ListActionItemsResponse, error) {
	actions, meetingOf, err := s.Meetings.OpenActions(ctx, req.GetOwner())
	if err != nil {
		return nil, err
	}
	today := s.Now().In(workdays.Tirana).Format(time.DateOnly)
	resp := &secretariatv1.ListActionItemsResponse{ActionItems: []*secretariatv1.ActionItem{}}
	for _, a := range actions {
		resp.ActionItems = append(resp.ActionItems, actionProto(a, meetingOf[a.ID], today))
	}
	return resp, nil
}

// CompleteActionItem marks an action item done: its owner, the chair or the secretariat.
func (s *Meetings) CompleteActionItem(ctx context.Context, req *secretariatv1.CompleteActionItemRequest) (*secretariatv1.CompleteActionItemResponse, error) {
	who := caller(ctx)
	now := s.stamp()
	var done meetings.Action
	m, err := s.execute(ctx, req.GetMeetingId(), 0, nil, func(m meetings.Meeting) (meetings.Meeting, string, error) {
		i := slices.IndexFunc(m.Actions, func(a meetings.Action) bool { return a.ID == req.GetActionId() })
		if i < 0 {
			return m, "", apierr.NotFound("action item", req.GetActionId())
		}
		a := m.Actions[i]
		if a.Owner != who.Institution && !steward(who) {
			return m, "", apierr.PermissionDenied("NOT_THE_OWNER", fmt.Sprintf("only %s, the action item's owner, or the chair or the secretariat may mark it done", a.Owner),
				map[string]string{"owner": a.Owner})
		}
		if a.Done {
			done = a
			return m, "", errNoop
		}
		m.Actions = slices.Clone(m.Actions)
		m.Actions[i].Done, m.Actions[i].DoneAt, m.Actions[i].DoneBy = true, now, who.Institution
		done = m.Actions[i]
		return m, "action_done", nil
	})
	if errors.Is(err, errNoop) {
		err = nil
	}
	if err != nil {
		return nil, err
	}
	if err := s.Meetings.MarkDone(ctx, done.ID); err != nil {
		s.Log.WarnContext(ctx, "the open entry of a done action item stays; readers drop it", "action_id", done.ID, "error", err)
	}
	return &secretariatv1.CompleteActionItemResponse{ActionItem: actionProto(done, m.ID, "")}, nil
}

// errNoop is a change that finds its work done: the caller gets the meeting as it is.
var errNoop = errors.New("nothing to change")
