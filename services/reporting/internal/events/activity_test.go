package events

import (
	"context"
	"log/slog"
	"reflect"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/timestamppb"

	eventsv1 "github.com/nrm-albania/nrm/proto/nrm/events/v1"
	referralv1 "github.com/nrm-albania/nrm/proto/nrm/referral/v1"
	secretariatv1 "github.com/nrm-albania/nrm/proto/nrm/secretariat/v1"
	"github.com/nrm-albania/nrm/services/platform/consumer"
	"github.com/nrm-albania/nrm/services/reporting/internal/meetingstats"
	"github.com/nrm-albania/nrm/services/reporting/internal/referralstats"
)

// applied remembers the events given to it.
type applied[E any] struct{ events []E }

func (a *applied[E]) Apply(_ context.Context, e E) (bool, error) {
	a.events = append(a.events, e)
	return true, nil
}

func envelopeOf(t *testing.T, typ string, payload proto.Message) *eventsv1.Envelope {
	t.Helper()
	a, err := anypb.New(payload)
	if err != nil {
		t.Fatal(err)
	}
	return &eventsv1.Envelope{Id: "ev-1", Type: typ, AggregateId: "x", AggregateVersion: 2, OccurredAt: timestamppb.New(occurred), Payload: a}
}

func TestReferralStatisticsReadsReferralEvents(t *testing.T) {
	// Created at 23:30 UTC on 9 March: already 10 March in Tirana.
	created := time.Date(2025, 3, 9, 23, 30, 0, 0, time.UTC)
	changed := func(state referralv1.ReferralState) *referralv1.ReferralChanged {
		return &referralv1.ReferralChanged{ReferralId: "r1", Version: 2, ServiceType: referralv1.ServiceType_SERVICE_TYPE_SHELTER,
			ProviderCode: "SHELTER-TR", SenderInstitution: "ASP-ANTITRAF", Urgency: referralv1.ReferralUrgency_REFERRAL_URGENCY_EMERGENCY,
			State: state, CreatedAt: timestamppb.New(created), Overdue: true}
	}
	base := referralstats.Event{ReferralID: "r1", Version: 2, Day: "2025-03-10", ServiceType: "SERVICE_TYPE_SHELTER",
		Provider: "SHELTER-TR", Sender: "ASP-ANTITRAF", Urgency: "REFERRAL_URGENCY_EMERGENCY", Overdue: true, OccurredAt: occurred}
	with := func(change func(*referralstats.Event)) []referralstats.Event {
		e := base
		change(&e)
		return []referralstats.Event{e}
	}
	delivery := changed(referralv1.ReferralState_REFERRAL_STATE_ACCEPTED)
	delivery.Service = &referralv1.ServiceDelivered{ServiceType: referralv1.ServiceType_SERVICE_TYPE_MEDICAL}
	for _, tc := range []struct {
		name string
		env  *eventsv1.Envelope
		want []referralstats.Event
	}{
		{"created", envelopeOf(t, "referral.created", changed(referralv1.ReferralState_REFERRAL_STATE_PENDING)),
			with(func(e *referralstats.Event) { e.State = "REFERRAL_STATE_PENDING" })},
		{"accepted: an answer, timed", envelopeOf(t, TypeReferralAccepted, changed(referralv1.ReferralState_REFERRAL_STATE_ACCEPTED)),
			with(func(e *referralstats.Event) {
				e.State, e.Answered, e.AnsweredAfter = "REFERRAL_STATE_ACCEPTED", true, int64(occurred.Sub(created)/time.Second)
			})},
		{"service delivered", envelopeOf(t, TypeReferralServiceDelivered, delivery),
			with(func(e *referralstats.Event) { e.State, e.Delivered = "REFERRAL_STATE_ACCEPTED", "SERVICE_TYPE_MEDICAL" })},
		{"a provider's change is not decoded", envelopeOf(t, TypeProviderChanged, &referralv1.Provider{Code: "SHELTER-TR"}), nil},
		{"another stream's event", envelopeOf(t, "case.registered", registered()), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &applied[referralstats.Event]{}
			if err := ReferralStatistics(rec, slog.New(slog.DiscardHandler))(context.Background(), tc.env); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(rec.events, tc.want) {
				t.Errorf("applied %+v\nwant %+v", rec.events, tc.want)
			}
		})
	}
	wrong := envelopeOf(t, "referral.created", &referralv1.Provider{Code: "SHELTER-TR"})
	if err := ReferralStatistics(&applied[referralstats.Event]{}, slog.New(slog.DiscardHandler))(context.Background(), wrong); !consumer.IsPermanent(err) {
		t.Errorf("a referral event with a provider's payload: %v; want a permanent error", err)
	}
}

func TestMeetingStatisticsReadsMeetingEvents(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  *eventsv1.Envelope
		want []meetingstats.Event
	}{
		{"closed, with its attendance", envelopeOf(t, "meeting.closed", &secretariatv1.MeetingChanged{MeetingId: "m1", Version: 7,
			Kind: secretariatv1.MeetingKind_MEETING_KIND_REGULAR, State: secretariatv1.MeetingState_MEETING_STATE_HELD, Month: "2025-03",
			Attendance: []string{"ASP", "MSHMS"}}),
			[]meetingstats.Event{{DocID: "m1", About: meetingstats.AboutMeeting, Version: 7, Month: "2025-03", Kind: "MEETING_KIND_REGULAR",
				State: "MEETING_STATE_HELD", Attendance: []string{"ASP", "MSHMS"}, OccurredAt: occurred}}},
		{"a month missed", envelopeOf(t, TypeMeetingMonthMissed, &secretariatv1.MeetingChanged{Month: "2025-02"}),
			[]meetingstats.Event{{DocID: "month:2025-02", About: meetingstats.AboutMissedMonth, Month: "2025-02", OccurredAt: occurred}}},
		{"a decision", envelopeOf(t, TypeDecisionRecorded, &secretariatv1.DecisionRecorded{MeetingId: "m1", Version: 5, DecisionId: "d1",
			Kind: secretariatv1.DecisionKind_DECISION_KIND_OTHER, Adopted: true}),
			[]meetingstats.Event{{DocID: "m1", About: meetingstats.AboutDecision, Version: 5, DecisionID: "d1", DecisionKind: "DECISION_KIND_OTHER",
				Adopted: true, OccurredAt: occurred}}},
		{"an action done", envelopeOf(t, "action.done", &secretariatv1.ActionChanged{ActionId: "a1", MeetingId: "m1", Version: 9,
			State: secretariatv1.ActionState_ACTION_STATE_DONE}),
			[]meetingstats.Event{{DocID: "m1", About: meetingstats.AboutAction, Version: 9, ActionID: "a1", ActionState: "ACTION_STATE_DONE", OccurredAt: occurred}}},
		{"a type of another family", envelopeOf(t, "minutes.signed", &secretariatv1.MeetingChanged{}), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &applied[meetingstats.Event]{}
			if err := MeetingStatistics(rec, slog.New(slog.DiscardHandler))(context.Background(), tc.env); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(rec.events, tc.want) {
				t.Errorf("applied %+v\nwant %+v", rec.events, tc.want)
			}
		})
	}
}
