package events

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	eventsv1 "github.com/nrm-albania/nrm/proto/nrm/events/v1"
	referralv1 "github.com/nrm-albania/nrm/proto/nrm/referral/v1"
	secretariatv1 "github.com/nrm-albania/nrm/proto/nrm/secretariat/v1"
	"github.com/nrm-albania/nrm/services/platform/consumer"
	"github.com/nrm-albania/nrm/services/platform/workdays"
	"github.com/nrm-albania/nrm/services/reporting/internal/meetingstats"
	"github.com/nrm-albania/nrm/services/reporting/internal/projection"
	"github.com/nrm-albania/nrm/services/reporting/internal/referralstats"
)

// Types of the referral and meeting events the figures follow by name; every other
// "referral.<change>" and "meeting.<change>" carries a ReferralChanged or a MeetingChanged.
const (
	TypeReferralAccepted         = "referral.accepted"
	TypeReferralDeclined         = "referral.declined"
	TypeReferralServiceDelivered = "referral.service_delivered"
	// TypeProviderChanged shares the referral stream, with a payload of its own: a provider's
	// change, which moves no referral figure.
	TypeProviderChanged    = "referral.provider_changed"
	TypeMeetingMonthMissed = "meeting.month_missed"
	TypeDecisionRecorded   = "decision.recorded"
	typeActionPrefix       = "action."
)

// Applier applies one kind of event, each once; referralstats.Figures and meetingstats.Figures
// are ones.
type Applier[E any] interface {
	Apply(ctx context.Context, e E) (bool, error)
}

// ReferralStatistics returns the handler of the referral-figures consumer, which reads the whole
// referral stream: the type is checked before the payload is decoded, so a provider's change,
// or any type added later, is acknowledged unread.
func ReferralStatistics(figures Applier[referralstats.Event], log *slog.Logger) consumer.Handler {
	return activity(figures, log, referralEventOf, referralstats.Event.Validate)
}

// MeetingStatistics returns the handler of the meeting-figures consumer, which reads the whole
// meeting stream (meetings, decisions, action items).
func MeetingStatistics(figures Applier[meetingstats.Event], log *slog.Logger) consumer.Handler {
	return activity(figures, log, meetingEventOf, meetingstats.Event.Validate)
}

// CaseCrossTab returns the handler of the cross-tabulations' consumer of the case events, which
// reads them as the case statistics do.
func CaseCrossTab(tables Applier[projection.Event], log *slog.Logger) consumer.Handler {
	return activity(tables, log, eventOf, projection.Event.Validate)
}

// activity is a handler: an event that can never be applied is a permanent error, dead-lettered
// at once; one that moves no figure is acknowledged.
func activity[E any](figures Applier[E], log *slog.Logger, read func(*eventsv1.Envelope) (E, bool, error), validate func(E) error) consumer.Handler {
	return func(ctx context.Context, env *eventsv1.Envelope) error {
		e, ok, err := read(env)
		if err != nil {
			return consumer.Permanent(fmt.Errorf("event %s: %w", env.GetId(), err))
		}
		if !ok {
			log.DebugContext(ctx, "event moves no figure; skipped", "type", env.GetType(), "event_id", env.GetId())
			return nil
		}
		if err := validate(e); err != nil {
			return consumer.Permanent(fmt.Errorf("event %s: %w", env.GetId(), err))
		}
		changed, err := figures.Apply(ctx, e)
		if err != nil {
			return fmt.Errorf("event %s: %w", env.GetId(), err)
		}
		if !changed {
			log.DebugContext(ctx, "event already counted, or older than those counted; ignored", "type", env.GetType(), "event_id", env.GetId())
		}
		return nil
	}
}

// referralEventOf reads what a referral event tells the figures.
func referralEventOf(env *eventsv1.Envelope) (referralstats.Event, bool, error) {
	typ := env.GetType()
	if !strings.HasPrefix(typ, "referral.") || typ == TypeProviderChanged {
		return referralstats.Event{}, false, nil
	}
	var ev referralv1.ReferralChanged
	if err := decode(env, &ev); err != nil {
		return referralstats.Event{}, false, err
	}
	e := referralstats.Event{
		ReferralID: ev.GetReferralId(), Version: ev.GetVersion(),
		ServiceType: ev.GetServiceType().String(), Provider: ev.GetProviderCode(), Sender: ev.GetSenderInstitution(),
		Urgency: ev.GetUrgency().String(), State: ev.GetState().String(), Overdue: ev.GetOverdue(),
		OccurredAt: env.GetOccurredAt().AsTime(),
	}
	if ev.GetCreatedAt() != nil {
		e.Day = ev.GetCreatedAt().AsTime().In(workdays.Tirana).Format("2006-01-02")
	}
	switch typ {
	case TypeReferralAccepted, TypeReferralDeclined:
		// The answer is the event itself: its time less the referral's creation.
		e.Answered = true
		e.AnsweredAfter = int64(e.OccurredAt.Sub(ev.GetCreatedAt().AsTime()).Seconds())
	case TypeReferralServiceDelivered:
		e.Delivered = ev.GetService().GetServiceType().String()
	}
	return e, true, nil
}

// meetingEventOf reads what a meeting, decision or action event tells the figures.
func meetingEventOf(env *eventsv1.Envelope) (meetingstats.Event, bool, error) {
	typ := env.GetType()
	at := env.GetOccurredAt().AsTime()
	switch {
	case typ == TypeMeetingMonthMissed:
		var ev secretariatv1.MeetingChanged
		if err := decode(env, &ev); err != nil {
			return meetingstats.Event{}, false, err
		}
		return meetingstats.Event{DocID: "month:" + ev.GetMonth(), About: meetingstats.AboutMissedMonth, Month: ev.GetMonth(), OccurredAt: at}, true, nil
	case strings.HasPrefix(typ, "meeting."):
		var ev secretariatv1.MeetingChanged
		if err := decode(env, &ev); err != nil {
			return meetingstats.Event{}, false, err
		}
		return meetingstats.Event{DocID: ev.GetMeetingId(), About: meetingstats.AboutMeeting, Version: ev.GetVersion(),
			Month: ev.GetMonth(), Kind: ev.GetKind().String(), State: ev.GetState().String(), Attendance: ev.GetAttendance(), OccurredAt: at}, true, nil
	case typ == TypeDecisionRecorded:
		var ev secretariatv1.DecisionRecorded
		if err := decode(env, &ev); err != nil {
			return meetingstats.Event{}, false, err
		}
		return meetingstats.Event{DocID: ev.GetMeetingId(), About: meetingstats.AboutDecision, Version: ev.GetVersion(),
			DecisionID: ev.GetDecisionId(), DecisionKind: ev.GetKind().String(), Adopted: ev.GetAdopted(), OccurredAt: at}, true, nil
	case strings.HasPrefix(typ, typeActionPrefix):
		var ev secretariatv1.ActionChanged
		if err := decode(env, &ev); err != nil {
			return meetingstats.Event{}, false, err
		}
		return meetingstats.Event{DocID: ev.GetMeetingId(), About: meetingstats.AboutAction, Version: ev.GetVersion(),
			ActionID: ev.GetActionId(), ActionState: ev.GetState().String(), OccurredAt: at}, true, nil
	}
	return meetingstats.Event{}, false, nil
}
