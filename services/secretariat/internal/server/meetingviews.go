package server

import (
	"fmt"
	"slices"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	secretariatv1 "github.com/nrm-albania/nrm/proto/nrm/secretariat/v1"
	"github.com/nrm-albania/nrm/services/platform/aggregate"
	"github.com/nrm-albania/nrm/services/platform/workdays"
	"github.com/nrm-albania/nrm/services/secretariat/internal/meetings"
)

func ts(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

func state(s string) secretariatv1.MeetingState {
	return secretariatv1.MeetingState(secretariatv1.MeetingState_value[s])
}

// view is m as the API shows it, its action items overdue by the service's clock.
func (s *Meetings) view(m meetings.Meeting) *secretariatv1.Meeting {
	return meetingProto(m, s.Now().In(workdays.Tirana).Format(time.DateOnly))
}

// meetingProto is m as the API shows it on the day today ("YYYY-MM-DD").
func meetingProto(m meetings.Meeting, today string) *secretariatv1.Meeting {
	p := &secretariatv1.Meeting{
		Id: m.ID, Reference: m.Reference, Kind: secretariatv1.MeetingKind(secretariatv1.MeetingKind_value[m.Kind]),
		State: state(m.State), StartTime: ts(m.Start), EndTime: ts(m.End), Place: m.Place, OnlineLink: m.OnlineLink,
		Reason: m.Reason, CalledBy: m.CalledBy, Invitees: m.Invitees, RulesVersion: m.RulesVersion,
		Agenda: itemsProto(m.Agenda), AgendaFrozenAt: ts(m.AgendaFrozenAt), OpeningQuorum: quorumProto(m.OpeningQuorum),
		Decisions: decisionsProto(m.Decisions), StateReason: m.StateReason, Version: m.Version,
		CreatedAt: ts(m.CreatedAt), UpdatedAt: ts(m.UpdatedAt),
	}
	for _, r := range m.Replies {
		p.Replies = append(p.Replies, &secretariatv1.Reply{Institution: r.Institution,
			Reply: secretariatv1.InvitationReply(secretariatv1.InvitationReply_value[r.Reply]), Note: r.Note, At: ts(r.At)})
	}
	for _, a := range m.Attendance {
		p.Attendance = append(p.Attendance, &secretariatv1.Attendance{Institution: a.Institution,
			Presence: secretariatv1.Presence(secretariatv1.Presence_value[a.Presence]), ArrivedAt: ts(a.ArrivedAt), LeftAt: ts(a.LeftAt)})
	}
	for _, a := range m.Actions {
		p.ActionItems = append(p.ActionItems, actionProto(a, m.ID, today))
	}
	if n := m.Minutes; n != nil {
		p.Minutes = &secretariatv1.Minutes{Notes: n.Notes, Revision: n.Revision, DraftedAt: ts(n.DraftedAt),
			CirculatedAt: ts(n.CirculatedAt), ApprovedAt: ts(n.ApprovedAt), ApprovedAtMeeting: n.ApprovedAtMeeting, PdfSha256: n.PDFSHA256}
	}
	return p
}

func itemsProto(items []meetings.Item) []*secretariatv1.AgendaItem {
	out := []*secretariatv1.AgendaItem{}
	for _, i := range items {
		out = append(out, &secretariatv1.AgendaItem{Id: i.ID, Title: i.Title,
			Source:    secretariatv1.AgendaItemSource(secretariatv1.AgendaItemSource_value[i.Source]),
			CaseCodes: i.CaseCodes, ReferralIds: i.ReferralIDs, ReportIds: i.ReportIDs, ActionId: i.ActionID, MeetingId: i.MeetingID,
			Addendum: i.Addendum, Since: ts(i.Since)})
	}
	return out
}

func quorumProto(q *meetings.Quorum) *secretariatv1.Quorum {
	if q == nil {
		return nil
	}
	return &secretariatv1.Quorum{Reached: q.Reached, MembersPresent: q.Present, Required: q.Required,
		ChairPresent: q.ChairPresent, RulesVersion: q.RulesVersion, At: ts(q.At)}
}

func decisionsProto(ds []meetings.Decision) []*secretariatv1.Decision {
	var out []*secretariatv1.Decision
	for _, d := range ds {
		p := &secretariatv1.Decision{Id: d.ID, AgendaItemId: d.ItemID, Text: d.Text,
			Kind: secretariatv1.DecisionKind(secretariatv1.DecisionKind_value[d.Kind]), Consensus: d.Consensus, Adopted: d.Adopted,
			CaseCodes: d.CaseCodes, ReferralIds: d.ReferralIDs, ReportIds: d.ReportIDs, Quorum: quorumProto(&d.Quorum),
			ActionIds: d.ActionIDs, At: ts(d.At)}
		insts := make([]string, 0, len(d.Votes))
		for inst := range d.Votes {
			insts = append(insts, inst)
		}
		slices.Sort(insts)
		for _, inst := range insts {
			p.Votes = append(p.Votes, &secretariatv1.MemberVote{Institution: inst, Vote: secretariatv1.Vote(secretariatv1.Vote_value[d.Votes[inst]])})
		}
		out = append(out, p)
	}
	return out
}

// actionProto shows an action item; open past its due date (today, "YYYY-MM-DD") it is overdue.
func actionProto(a meetings.Action, meetingID, today string) *secretariatv1.ActionItem {
	st := secretariatv1.ActionState_ACTION_STATE_OPEN
	switch {
	case a.Done:
		st = secretariatv1.ActionState_ACTION_STATE_DONE
	case today != "" && a.Due < today:
		st = secretariatv1.ActionState_ACTION_STATE_OVERDUE
	}
	return &secretariatv1.ActionItem{Id: a.ID, MeetingId: meetingID, DecisionId: a.DecisionID, Owner: a.Owner, Title: a.Title,
		DueDate: a.Due, State: st, DoneAt: ts(a.DoneAt), DoneBy: a.DoneBy}
}

// changed is the meeting's event for a change of kind: meeting.<kind>.
func changed(m meetings.Meeting, kind, previous string) aggregate.Event {
	return aggregate.Event{Type: "meeting." + kind, Payload: &secretariatv1.MeetingChanged{
		MeetingId: m.ID, Version: m.Version, Reference: m.Reference,
		Kind: secretariatv1.MeetingKind(secretariatv1.MeetingKind_value[m.Kind]), State: state(m.State), PreviousState: state(previous),
		StartTime: ts(m.Start), Month: meetings.Month(m.Start, workdays.Tirana), Attendance: present(m),
	}}
}

// present are the institutions recorded present at some point of the meeting, by representative
// or substitute, sorted: what the attendance statistics count, with no names.
func present(m meetings.Meeting) []string {
	var out []string
	for _, a := range m.Attendance {
		if a.Presence != secretariatv1.Presence_PRESENCE_ABSENT.String() {
			out = append(out, a.Institution)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// extraEvents are the events beside meeting.<kind>: a decision's, its action items', an action
// item done.
func extraEvents(before, after meetings.Meeting, kind string) []aggregate.Event {
	var out []aggregate.Event
	switch kind {
	case "decision_recorded":
		d := after.Decisions[len(after.Decisions)-1]
		out = append(out, aggregate.Event{Type: "decision.recorded", Payload: &secretariatv1.DecisionRecorded{
			MeetingId: after.ID, Version: after.Version, DecisionId: d.ID,
			Kind: secretariatv1.DecisionKind(secretariatv1.DecisionKind_value[d.Kind]), Adopted: d.Adopted,
			CaseCodes: d.CaseCodes, ReferralIds: d.ReferralIDs, ReportIds: d.ReportIDs, ActionIds: d.ActionIDs}})
		for _, a := range after.Actions[len(before.Actions):] {
			out = append(out, actionEvent("action.created", after, a))
		}
	case "action_done", "action_overdue":
		for i, a := range after.Actions {
			switch {
			case a.Done && !before.Actions[i].Done:
				out = append(out, actionEvent("action.done", after, a))
			case a.Overdue && !before.Actions[i].Overdue:
				out = append(out, actionEvent("action.overdue", after, a))
			}
		}
	}
	return out
}

func actionEvent(typ string, m meetings.Meeting, a meetings.Action) aggregate.Event {
	st := secretariatv1.ActionState_ACTION_STATE_OPEN
	switch {
	case a.Done:
		st = secretariatv1.ActionState_ACTION_STATE_DONE
	case a.Overdue:
		st = secretariatv1.ActionState_ACTION_STATE_OVERDUE
	}
	return aggregate.Event{Type: typ, Payload: &secretariatv1.ActionChanged{ActionId: a.ID, MeetingId: m.ID, Owner: a.Owner,
		DueDate: a.Due, State: st, Version: m.Version}}
}

// NoticeID is the id of the notification a meeting's change sends: the kind, the meeting and
// the version that made it, so that a change is noticed once however often its event arrives.
func NoticeID(kind, meetingID string, version int64) string {
	return fmt.Sprintf("%s/%s/v%d", kind, meetingID, version)
}
