package server

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	eventsv1 "github.com/nrm-albania/nrm/proto/nrm/events/v1"
	secretariatv1 "github.com/nrm-albania/nrm/proto/nrm/secretariat/v1"
	"github.com/nrm-albania/nrm/services/platform/aggregate"
	"github.com/nrm-albania/nrm/services/platform/apierr"
	"github.com/nrm-albania/nrm/services/platform/consumer"
	"github.com/nrm-albania/nrm/services/platform/mongodb"
	"github.com/nrm-albania/nrm/services/platform/pagination"
	"github.com/nrm-albania/nrm/services/platform/workdays"
	"github.com/nrm-albania/nrm/services/secretariat/internal/calendar"
	"github.com/nrm-albania/nrm/services/secretariat/internal/mail"
	"github.com/nrm-albania/nrm/services/secretariat/internal/meetings"
	"github.com/nrm-albania/nrm/services/secretariat/internal/notify"
	"github.com/nrm-albania/nrm/services/secretariat/internal/representation"
)

// NoticeConsumer is the durable consumer that turns the meetings' events into notifications.
const NoticeConsumer = "secretariat-notices"

// InboxCollection holds each institution's in-app inbox (package lists: "inbox/<code>").
const InboxCollection = "notification_inbox"

// Notices turns a meeting's events into notifications: invitations, updates, addenda,
// cancellations and circulated minutes. Driven by the events, which the outbox publishes for
// every commit, no change ever loses its notice; the notice's id comes from the meeting and the
// version that made it, so a redelivered event enqueues nothing new.
func (s *Meetings) Notices() consumer.Handler {
	return func(ctx context.Context, env *eventsv1.Envelope) error {
		kind := noticeKinds[env.GetType()]
		if kind == "" {
			return nil // other meeting events notify no one; their payloads are not ours to read
		}
		var e secretariatv1.MeetingChanged
		if err := env.GetPayload().UnmarshalTo(&e); err != nil {
			return consumer.Permanent(fmt.Errorf("%s %s: %w", env.GetType(), env.GetId(), err))
		}
		switch {
		case kind == "update" && e.GetState() != secretariatv1.MeetingState_MEETING_STATE_INVITATIONS_SENT,
			kind == "cancellation" && e.GetPreviousState() != secretariatv1.MeetingState_MEETING_STATE_INVITATIONS_SENT:
			return nil // no invitation went out: no one to tell
		}
		m, err := s.Meetings.Current(ctx, e.GetMeetingId())
		if errors.Is(err, aggregate.ErrNotFound) {
			return consumer.Permanent(fmt.Errorf("%s: meeting %s not found", env.GetType(), e.GetMeetingId()))
		}
		if err != nil {
			return err
		}
		n, err := s.notice(ctx, m, kind, e.GetVersion())
		if err != nil {
			return err
		}
		return s.queue(ctx, n)
	}
}

var noticeKinds = map[string]string{
	"meeting.invitations_sent":   "invitation",
	"meeting.addendum":           "addendum",
	"meeting.postponed":          "update",
	"meeting.cancelled":          "cancellation",
	"meeting.minutes_circulated": "minutes",
}

// notice builds the notification of kind for m, as changed at version.
func (s *Meetings) notice(ctx context.Context, m meetings.Meeting, kind string, version int64) (notify.Notification, error) {
	reps, err := s.Representations.All(ctx)
	if err != nil {
		return notify.Notification{}, err
	}
	n := notify.Notification{ID: NoticeID(kind, m.ID, version), Kind: kind, MeetingID: m.ID, CreatedAt: s.stamp()}
	var attendees []string
	for _, r := range reps {
		invited := r.Member || kind != "minutes" && slices.Contains(m.Invitees, r.Institution)
		if !invited {
			continue
		}
		n.Institutions = append(n.Institutions, r.Institution)
		n.Recipients = append(n.Recipients, recipients(r)...)
		attendees = append(attendees, r.Addresses()...)
	}
	when := m.Start.In(workdays.Tirana).Format("Monday 2 January 2006, 15:04") + " (Tirana)"
	var b strings.Builder
	fmt.Fprintf(&b, "Meeting %s of the Responsible Authority\nWhen: %s\nWhere: %s\n", m.Reference, when, strings.TrimSpace(m.Place+" "+m.OnlineLink))
	if m.Reason != "" {
		fmt.Fprintf(&b, "Reason: %s\n", m.Reason)
	}
	switch kind {
	case "invitation", "addendum", "update":
		n.Subject = map[string]string{"invitation": "Invitation", "addendum": "Agenda addendum", "update": "Meeting moved"}[kind] + ": " + m.Reference + ", " + when
		if kind == "update" {
			fmt.Fprintf(&b, "The meeting has been moved: %s\n", m.StateReason)
		}
		b.WriteString("\nAgenda:\n")
		for i, it := range m.Agenda {
			mark := ""
			if it.Addendum {
				mark = " [addendum]"
			}
			fmt.Fprintf(&b, "%d. %s%s\n", i+1, it.Title, mark)
		}
		b.WriteString("\nPlease reply through the system: attends, sends the substitute, or declines.\n")
	case "cancellation":
		n.Subject = "Meeting cancelled: " + m.Reference
		fmt.Fprintf(&b, "The meeting is cancelled: %s\n", m.StateReason)
	case "minutes":
		n.Subject = "Minutes for comment: " + m.Reference
		b.WriteString("\nThe draft minutes are attached for your comments.\n")
		pdf, err := s.minutesPDF(m)
		if err != nil {
			return n, err
		}
		n.Attachments = []mail.Attachment{{Name: "minutes-" + m.Reference + ".pdf", ContentType: "application/pdf", Data: pdf}}
	}
	n.Text = b.String()
	if kind != "minutes" {
		if n.Calendar, err = calendar.Invitation(calendar.Event{
			UID: m.ID + "@nrm-secretariat", Sequence: max(m.Invitations-1, 0), Start: m.Start, End: m.End,
			Summary: "Responsible Authority meeting " + m.Reference, Location: m.Place, URL: m.OnlineLink,
			Description: n.Text, Organizer: s.Organizer, Attendees: attendees, Cancelled: kind == "cancellation",
		}, n.CreatedAt); err != nil {
			return n, fmt.Errorf("the invitation of %s: %w", m.Reference, err)
		}
	}
	return n, nil
}

func recipients(r representation.Representation) []notify.Recipient {
	out := []notify.Recipient{{Institution: r.Institution, Name: r.Representative.Name, Address: r.Representative.Email}}
	if r.Substitute != nil && r.Substitute.Email != r.Representative.Email {
		out = append(out, notify.Recipient{Institution: r.Institution, Name: r.Substitute.Name, Address: r.Substitute.Email})
	}
	return out
}

// ListNotifications lists an institution's inbox, newest first.
func (s *Meetings) ListNotifications(ctx context.Context, req *secretariatv1.ListNotificationsRequest) (*secretariatv1.ListNotificationsResponse, error) {
	who := caller(ctx)
	inst := cmp.Or(req.GetInstitution(), who.Institution)
	if inst != who.Institution && !steward(who) {
		return nil, apierr.PermissionDenied("NOT_YOUR_INSTITUTION", fmt.Sprintf("%s may read its own inbox only", who.Institution),
			map[string]string{"institution": inst})
	}
	size, before, err := pagination.ParsePosition(req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	resp := &secretariatv1.ListNotificationsResponse{Notifications: []*secretariatv1.Notification{}}
	page, err := s.Inbox.Newest(ctx, "inbox/"+inst, before, size, 0, func(ctx context.Context, id string) (bool, error) {
		n, err := s.Notifications.Get(ctx, id)
		if errors.Is(err, mongodb.ErrNotFound) { // listed before it was queued, and never queued

			return false, nil
		}
		if err != nil {
			return false, err
		}
		resp.Notifications = append(resp.Notifications, notificationProto(n))
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	if page.More {
		resp.NextPageToken = pagination.PositionToken(page.Next)
	}
	return resp, nil
}

func notificationProto(n notify.Notification) *secretariatv1.Notification {
	p := &secretariatv1.Notification{Id: n.ID, Kind: n.Kind, MeetingId: n.MeetingID, Subject: n.Subject, Text: n.Text, CreatedAt: ts(n.CreatedAt)}
	for _, d := range n.Deliveries {
		p.Deliveries = append(p.Deliveries, &secretariatv1.DeliveryState{Address: d.Address, State: d.State, Attempts: int32(d.Attempts), SentAt: ts(d.SentAt)})
	}
	return p
}
