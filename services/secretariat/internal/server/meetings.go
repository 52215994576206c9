package server

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	secretariatv1 "github.com/nrm-albania/nrm/proto/nrm/secretariat/v1"
	"github.com/nrm-albania/nrm/services/platform/aggregate"
	"github.com/nrm-albania/nrm/services/platform/apierr"
	"github.com/nrm-albania/nrm/services/platform/auth"
	"github.com/nrm-albania/nrm/services/platform/lists"
	"github.com/nrm-albania/nrm/services/platform/pagination"
	"github.com/nrm-albania/nrm/services/platform/workdays"
	"github.com/nrm-albania/nrm/services/secretariat/internal/backlog"
	"github.com/nrm-albania/nrm/services/secretariat/internal/meetings"
	"github.com/nrm-albania/nrm/services/secretariat/internal/members"
	"github.com/nrm-albania/nrm/services/secretariat/internal/notify"
	"github.com/nrm-albania/nrm/services/secretariat/internal/representation"
	"github.com/nrm-albania/nrm/services/secretariat/internal/rules"
)

// Meetings serves nrm.secretariat.v1.MeetingService.
type Meetings struct {
	secretariatv1.UnimplementedMeetingServiceServer
	MeetingDeps
}

// MeetingDeps are what the meetings work with.
type MeetingDeps struct {
	Meetings        *meetings.Store
	Rules           *rules.Store
	Representations *representation.Store
	Backlog         *backlog.Store
	Notifications   *notify.Store
	// Inbox holds each institution's notifications (InboxCollection); Wake wakes their
	// deliverer.
	Inbox *lists.Lists
	Wake  func()
	// Months records the closed months; ActionReminderDays is how many days before its due date
	// an action item's owner is reminded.
	Months             *meetings.Months
	ActionReminderDays int
	// Calendar counts the notice of regular meetings in working days.
	Calendar workdays.Calendar
	// Members are the member institutions' codes; Chair is the chair's.
	Members []string
	Chair   string
	// Organizer is the address invitations come from (the secretariat's).
	Organizer string
	// Relay is woken after every commit, to publish its events at once.
	Relay interface{ Notify() }
	Log   *slog.Logger
	Now   func() time.Time
}

// NewMeetings returns the service.
func NewMeetings(d MeetingDeps) *Meetings {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Members == nil {
		for _, m := range members.DefaultMembers() {
			d.Members = append(d.Members, m.Code)
			if m.Role == members.RoleChair {
				d.Chair = m.Code
			}
		}
	}
	return &Meetings{MeetingDeps: d}
}

// stamp is the time of a change, as the store keeps it (milliseconds, UTC).
func (s *Meetings) stamp() time.Time { return s.Now().UTC().Truncate(time.Millisecond) }

// caller is who makes the call: the original caller when a service calls on someone's behalf.
func caller(ctx context.Context) *auth.Principal {
	p, _ := auth.FromContext(ctx)
	return p.Effective()
}

func steward(p *auth.Principal) bool { return p.Has(auth.RoleChair) || p.Has(auth.RoleSecretariat) }

// scheduleNamespace derives a meeting's id from its scheduler's idempotency key.
var scheduleNamespace = uuid.MustParse("6b1b7c5e-2f55-4a39-9a3c-7d2f1e0b6c41")

// ScheduleMeeting schedules a meeting under the rules of procedure in force on its day.
func (s *Meetings) ScheduleMeeting(ctx context.Context, req *secretariatv1.ScheduleMeetingRequest) (*secretariatv1.ScheduleMeetingResponse, error) {
	key, err := aggregate.IdempotencyKey(ctx)
	if err != nil {
		return nil, err
	}
	who := caller(ctx)
	now := s.stamp()
	id := uuid.NewString()
	if key != "" {
		id = aggregate.KeyedID(scheduleNamespace, who.Institution, key)
		if m, err := s.Meetings.Get(ctx, id); err == nil {
			return &secretariatv1.ScheduleMeetingResponse{Meeting: s.view(m)}, nil
		} else if !errors.Is(err, aggregate.ErrNotFound) {
			return nil, err
		}
	}
	start, end, err := times(req.GetStartTime().AsTime(), req.GetEndTime().AsTime(), req.GetStartTime() != nil, req.GetEndTime() != nil)
	if err != nil {
		return nil, err
	}
	m := meetings.Meeting{
		ID: id, Version: 1, Kind: req.GetKind().String(), State: meetings.Scheduled, Start: start, End: end,
		Place: strings.TrimSpace(req.GetPlace()), OnlineLink: strings.TrimSpace(req.GetOnlineLink()),
		Reason: strings.TrimSpace(req.GetReason()), CalledBy: req.GetCalledBy(), Invitees: req.GetInvitees(),
		CreatedAt: now, UpdatedAt: now, IdempotencyKey: key,
	}
	if err := s.validSchedule(ctx, m); err != nil {
		return nil, err
	}
	r, err := s.Rules.On(ctx, start.In(workdays.Tirana).Format(time.DateOnly))
	if err != nil {
		return nil, err
	}
	extraordinary := m.Kind == meetings.Extraordinary
	if extraordinary {
		if err := r.MayCall(who.Has(auth.RoleChair) || slices.Contains(m.CalledBy, s.Chair), len(m.CalledBy), m.Reason); err != nil {
			return nil, err
		}
	}
	if err := r.Notice(s.Calendar, extraordinary, now, start); err != nil {
		return nil, err
	}
	m.RulesVersion = r.Version
	month := meetings.Month(start, workdays.Tirana)
	if m.Reference, err = s.reference(ctx, m, month); err != nil {
		return nil, err
	}
	if m.Agenda, err = s.proposed(ctx, m); err != nil {
		return nil, err
	}
	if err := s.Meetings.Enlist(ctx, m, month); err != nil {
		return nil, err
	}
	events, err := aggregate.Envelop(ctx, m.ID, 1, []aggregate.Event{changed(m, "scheduled", "")}, now)
	if err != nil {
		return nil, err
	}
	stored, err := s.Meetings.Create(ctx, m, meetings.Change{Kind: "scheduled"}.By(who.Institution, who.Subject, now), events)
	if err != nil && !errors.Is(err, aggregate.ErrExists) { // exists: a concurrent retry won
		return nil, err
	}
	s.Relay.Notify()
	s.Log.InfoContext(ctx, "meeting scheduled", "meeting_id", stored.ID, "reference", stored.Reference, "kind", stored.Kind, "start", stored.Start)
	return &secretariatv1.ScheduleMeetingResponse{Meeting: s.view(stored)}, nil
}

// times checks a meeting's start and end; no end means two hours.
func times(start, end time.Time, hasStart, hasEnd bool) (time.Time, time.Time, error) {
	if !hasStart {
		return start, end, apierr.InvalidField("start_time", "is required")
	}
	start = start.UTC().Truncate(time.Millisecond)
	if !hasEnd {
		end = start.Add(2 * time.Hour)
	}
	end = end.UTC().Truncate(time.Millisecond)
	if !end.After(start) || end.Sub(start) > 24*time.Hour {
		return start, end, apierr.InvalidField("end_time", "must be after start_time, within a day")
	}
	return start, end, nil
}

func (s *Meetings) validSchedule(ctx context.Context, m meetings.Meeting) error {
	var v apierr.Violations
	if m.Kind != meetings.Regular && m.Kind != meetings.Extraordinary {
		v.Add("kind", "must be MEETING_KIND_REGULAR or MEETING_KIND_EXTRAORDINARY")
	}
	if m.Place == "" && m.OnlineLink == "" {
		v.Add("place", "or online_link is required")
	}
	if len(m.Place) > 300 {
		v.Add("place", "must be at most 300 characters")
	}
	if m.OnlineLink != "" && !strings.HasPrefix(m.OnlineLink, "https://") || len(m.OnlineLink) > 500 {
		v.Add("online_link", "must be an https:// link of at most 500 characters")
	}
	if len(m.Reason) > 2000 {
		v.Add("reason", "must be at most 2000 characters")
	}
	for i, c := range m.CalledBy {
		if !slices.Contains(s.Members, c) || slices.Index(m.CalledBy, c) != i {
			v.Add(fmt.Sprintf("called_by[%d]", i), "must be a member's code, once")
		}
	}
	if err := v.Err(); err != nil {
		return err
	}
	return s.known(ctx, "invitees", m.Invitees)
}

// known checks that each invitee has a representation to send invitations to.
func (s *Meetings) known(ctx context.Context, field string, codes []string) error {
	if len(codes) == 0 {
		return nil
	}
	all, err := s.Representations.All(ctx)
	if err != nil {
		return err
	}
	var v apierr.Violations
	for i, c := range codes {
		if slices.Contains(s.Members, c) || !slices.ContainsFunc(all, func(r representation.Representation) bool { return r.Institution == c }) {
			v.Add(fmt.Sprintf("%s[%d]", field, i), "must be an invited institution with a contact (SetRepresentation), not a member")
		}
	}
	return v.Err()
}

// reference names the meeting within its month: "MB-2026-12-R" for the regular one, "…-R2" for
// a second, "…-E1", "…-E2" for extraordinary ones. The name is claimed (Meetings.ClaimReference),
// so that two meetings scheduled at once never share one; a retried scheduling finds its own.
func (s *Meetings) reference(ctx context.Context, m meetings.Meeting, month string) (string, error) {
	letter := "R"
	if m.Kind == meetings.Extraordinary {
		letter = "E"
	}
	for n := 1; ; n++ {
		ref := "MB-" + month + "-" + letter
		if n > 1 || letter == "E" {
			ref += fmt.Sprint(n)
		}
		ok, err := s.Meetings.ClaimReference(ctx, ref, m.ID)
		if err != nil || ok {
			return ref, err
		}
	}
}

// GetMeeting returns one meeting.
func (s *Meetings) GetMeeting(ctx context.Context, req *secretariatv1.GetMeetingRequest) (*secretariatv1.GetMeetingResponse, error) {
	m, err := s.load(ctx, req.GetId())
	if err != nil {
		return nil, err
	}
	aggregate.SendETag(ctx, m.Version)
	return &secretariatv1.GetMeetingResponse{Meeting: s.view(m)}, nil
}

func (s *Meetings) load(ctx context.Context, id string) (meetings.Meeting, error) {
	if _, err := uuid.Parse(id); err != nil {
		return meetings.Meeting{}, apierr.InvalidField("id", "must be a meeting id (a UUID)")
	}
	m, err := s.Meetings.Current(ctx, id)
	if errors.Is(err, aggregate.ErrNotFound) {
		return m, apierr.NotFound("meeting", id)
	}
	return m, err
}

// ListMeetings lists meetings, the most recently scheduled first.
func (s *Meetings) ListMeetings(ctx context.Context, req *secretariatv1.ListMeetingsRequest) (*secretariatv1.ListMeetingsResponse, error) {
	size, before, err := pagination.ParsePosition(req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	ms, next, more, err := s.Meetings.Newest(ctx, before, size)
	if err != nil {
		return nil, err
	}
	resp := &secretariatv1.ListMeetingsResponse{Meetings: []*secretariatv1.Meeting{}}
	for _, m := range ms {
		resp.Meetings = append(resp.Meetings, s.view(m))
	}
	if more {
		resp.NextPageToken = pagination.PositionToken(next)
	}
	return resp, nil
}

// change is a command on one meeting by the caller: decide computes the next state and the
// change's kind; the meeting's event follows from them.
type change func(m meetings.Meeting) (next meetings.Meeting, kind string, err error)

func (s *Meetings) execute(ctx context.Context, id string, field int64, admit func(meetings.Meeting) error, decide change) (meetings.Meeting, error) {
	if _, err := uuid.Parse(id); err != nil {
		return meetings.Meeting{}, apierr.InvalidField("id", "must be a meeting id (a UUID)")
	}
	expected, err := aggregate.ExpectedVersion(ctx, "expected_version", field)
	if err != nil {
		return meetings.Meeting{}, err
	}
	var kind string
	m, committed, err := s.Meetings.Execute(ctx, aggregate.Command[meetings.Meeting, meetings.Change]{
		ID: id, Expected: expected, At: s.Now(), Admit: admit,
		Decide: func(m meetings.Meeting) (aggregate.Outcome[meetings.Meeting, meetings.Change], error) {
			previous := m.State
			next, k, err := decide(m)
			if err != nil {
				return aggregate.Outcome[meetings.Meeting, meetings.Change]{}, err
			}
			kind = k
			next.Version++ // the version Execute gives it, for the event
			return aggregate.Outcome[meetings.Meeting, meetings.Change]{Next: next, Change: meetings.Change{Kind: k},
				Events: append([]aggregate.Event{changed(next, k, previous)}, extraEvents(m, next, k)...)}, nil
		},
	})
	if errors.Is(err, aggregate.ErrNotFound) {
		return m, apierr.NotFound("meeting", id)
	}
	if err != nil {
		return m, err
	}
	if committed {
		s.Relay.Notify()
		s.Log.InfoContext(ctx, "meeting "+kind, "meeting_id", m.ID, "reference", m.Reference, "version", m.Version, "state", m.State)
	}
	return m, nil
}

// SendInvitations freezes the agenda and sends the invitations (by the meeting's event: the
// notifier builds and queues them, so that a commit never loses its invitations).
func (s *Meetings) SendInvitations(ctx context.Context, req *secretariatv1.SendInvitationsRequest) (*secretariatv1.SendInvitationsResponse, error) {
	fresh, err := s.load(ctx, req.GetId())
	if err != nil {
		return nil, err
	}
	proposed, err := s.proposed(ctx, fresh)
	if err != nil {
		return nil, err
	}
	now := s.stamp()
	m, err := s.execute(ctx, req.GetId(), req.GetExpectedVersion(), nil, func(m meetings.Meeting) (meetings.Meeting, string, error) {
		if err := m.Require("send invitations", meetings.Scheduled); err != nil {
			return m, "", err
		}
		m.Agenda = merge(m, proposed)
		m.State, m.AgendaFrozenAt, m.Invitations = meetings.InvitationsSent, now, m.Invitations+1
		return m, "invitations_sent", nil
	})
	if err != nil {
		return nil, err
	}
	return &secretariatv1.SendInvitationsResponse{Meeting: s.view(m), NotificationId: NoticeID("invitation", m.ID, m.Version)}, nil
}

// ReplyToInvitation records a reply: a member for its own institution, the stewards for any.
func (s *Meetings) ReplyToInvitation(ctx context.Context, req *secretariatv1.ReplyToInvitationRequest) (*secretariatv1.ReplyToInvitationResponse, error) {
	who := caller(ctx)
	inst := cmp.Or(req.GetInstitution(), who.Institution)
	if req.GetReply() == secretariatv1.InvitationReply_INVITATION_REPLY_UNSPECIFIED || secretariatv1.InvitationReply_name[int32(req.GetReply())] == "" {
		return nil, apierr.InvalidField("reply", "must be INVITATION_REPLY_ATTENDS, _SENDS_SUBSTITUTE or _DECLINES")
	}
	if len(req.GetNote()) > 1000 {
		return nil, apierr.InvalidField("note", "must be at most 1000 characters")
	}
	if inst != who.Institution && !steward(who) {
		return nil, apierr.PermissionDenied("NOT_YOUR_INSTITUTION",
			fmt.Sprintf("%s may reply for its own institution only, not for %s", who.Institution, inst),
			map[string]string{"institution": inst, "caller_institution": who.Institution})
	}
	now := s.stamp()
	m, err := s.execute(ctx, req.GetId(), 0, nil, func(m meetings.Meeting) (meetings.Meeting, string, error) {
		if err := m.Require("take replies", meetings.InvitationsSent); err != nil {
			return m, "", err
		}
		if !slices.Contains(s.Members, inst) && !slices.Contains(m.Invitees, inst) {
			return m, "", apierr.InvalidField("institution", "%s is neither a member nor invited to this meeting", inst)
		}
		m.SetReply(meetings.Reply{Institution: inst, Reply: req.GetReply().String(), Note: strings.TrimSpace(req.GetNote()), At: now})
		return m, "replied", nil
	})
	if err != nil {
		return nil, err
	}
	return &secretariatv1.ReplyToInvitationResponse{Meeting: s.view(m)}, nil
}

// PostponeMeeting moves a meeting not yet held, with a reason.
func (s *Meetings) PostponeMeeting(ctx context.Context, req *secretariatv1.PostponeMeetingRequest) (*secretariatv1.PostponeMeetingResponse, error) {
	start, end, err := times(req.GetStartTime().AsTime(), req.GetEndTime().AsTime(), req.GetStartTime() != nil, req.GetEndTime() != nil)
	if err != nil {
		return nil, err
	}
	reason := strings.TrimSpace(req.GetReason())
	if reason == "" || len(reason) > 2000 {
		return nil, apierr.InvalidField("reason", "is required, at most 2000 characters")
	}
	fresh, err := s.load(ctx, req.GetId())
	if err != nil {
		return nil, err
	}
	r, err := s.Rules.On(ctx, start.In(workdays.Tirana).Format(time.DateOnly))
	if err != nil {
		return nil, err
	}
	if err := r.Notice(s.Calendar, fresh.Kind == meetings.Extraordinary, s.Now(), start); err != nil {
		return nil, err
	}
	if err := s.Meetings.EnlistMonth(ctx, fresh, meetings.Month(start, workdays.Tirana)); err != nil {
		return nil, err
	}
	m, err := s.execute(ctx, req.GetId(), req.GetExpectedVersion(), nil, func(m meetings.Meeting) (meetings.Meeting, string, error) {
		if err := m.Require("be postponed", meetings.Scheduled, meetings.InvitationsSent); err != nil {
			return m, "", err
		}
		m.Start, m.End, m.StateReason, m.RulesVersion = start, end, reason, r.Version
		if m.State == meetings.InvitationsSent {
			m.Invitations++ // an update of the invitation goes out
		}
		return m, "postponed", nil
	})
	if err != nil {
		return nil, err
	}
	return &secretariatv1.PostponeMeetingResponse{Meeting: s.view(m)}, nil
}

// CancelMeeting cancels a meeting not yet held, with a reason.
func (s *Meetings) CancelMeeting(ctx context.Context, req *secretariatv1.CancelMeetingRequest) (*secretariatv1.CancelMeetingResponse, error) {
	reason := strings.TrimSpace(req.GetReason())
	if reason == "" || len(reason) > 2000 {
		return nil, apierr.InvalidField("reason", "is required, at most 2000 characters")
	}
	m, err := s.execute(ctx, req.GetId(), req.GetExpectedVersion(), nil, func(m meetings.Meeting) (meetings.Meeting, string, error) {
		if err := m.Require("be cancelled", meetings.Scheduled, meetings.InvitationsSent); err != nil {
			return m, "", err
		}
		m.State, m.StateReason = meetings.Cancelled, reason
		return m, "cancelled", nil
	})
	if err != nil {
		return nil, err
	}
	return &secretariatv1.CancelMeetingResponse{Meeting: s.view(m)}, nil
}
