package events

import (
	"context"
	"log/slog"
	"reflect"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/timestamppb"

	caseregistryv1 "github.com/nrm-albania/nrm/proto/nrm/caseregistry/v1"
	eventsv1 "github.com/nrm-albania/nrm/proto/nrm/events/v1"
	"github.com/nrm-albania/nrm/services/platform/consumer"
	"github.com/nrm-albania/nrm/services/reporting/internal/decisionstats"
)

func TestDecisionStatisticsReadsTheActs(t *testing.T) {
	// Reopened at 23:30 UTC on 9 March: already 10 March in Tirana.
	late := envelopeOf(t, TypeCaseReopened, &caseregistryv1.CaseReopened{CaseId: "x", Version: 2,
		Reason: caseregistryv1.ReopenReason_REOPEN_REASON_RE_TRAFFICKING})
	late.OccurredAt = timestamppb.New(time.Date(2025, 3, 9, 23, 30, 0, 0, time.UTC))
	act := func(a decisionstats.Act) []decisionstats.Act {
		a.CaseID, a.Version = "x", 2
		if a.OccurredAt.IsZero() {
			a.OccurredAt = occurred
		}
		return []decisionstats.Act{a}
	}
	for _, tc := range []struct {
		name string
		env  *eventsv1.Envelope
		want []decisionstats.Act
	}{
		{"a revision", envelopeOf(t, TypeCaseStatusDecided, &caseregistryv1.CaseStatusDecided{CaseId: "x", Version: 2,
			PreviousStatus: caseregistryv1.TraffickingStatus_TRAFFICKING_STATUS_VICTIM,
			Status:         caseregistryv1.TraffickingStatus_TRAFFICKING_STATUS_POTENTIAL_VICTIM,
			DecidingBody:   caseregistryv1.DecidingBody_DECIDING_BODY_COURT,
			DecisionDate:   "2025-03-07", RegistrationDate: "2025-01-02", Revision: true}),
			act(decisionstats.Act{Kind: decisionstats.Decision, Day: "2025-03-07", Status: "TRAFFICKING_STATUS_POTENTIAL_VICTIM",
				Body: "DECIDING_BODY_COURT", Revision: true, Registered: "2025-01-02"})},
		{"a closure, on its own date", envelopeOf(t, TypeCaseClosed, &caseregistryv1.CaseClosed{CaseId: "x", Version: 2,
			Reason: caseregistryv1.ClosureReason_CLOSURE_REASON_MOVED_ABROAD, Date: "2025-02-28"}),
			act(decisionstats.Act{Kind: decisionstats.Closure, Day: "2025-02-28", Reason: "CLOSURE_REASON_MOVED_ABROAD"})},
		{"a reopening, on the day it was recorded in Tirana", late,
			act(decisionstats.Act{Kind: decisionstats.Reopening, Day: "2025-03-10", Reason: "REOPEN_REASON_RE_TRAFFICKING",
				OccurredAt: late.GetOccurredAt().AsTime()})},
		{"a registration is not decoded", envelopeOf(t, TypeCaseRegistered, &caseregistryv1.CaseIdentityErased{CaseId: "x"}), nil},
		{"nor a merge", envelopeOf(t, TypeCaseMerged, &caseregistryv1.CaseIdentityErased{CaseId: "x"}), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &applied[decisionstats.Act]{}
			if err := DecisionStatistics(rec, slog.New(slog.DiscardHandler))(context.Background(), tc.env); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(rec.events, tc.want) {
				t.Errorf("applied %+v\nwant %+v", rec.events, tc.want)
			}
		})
	}
}

// An act that can never be counted is dead-lettered at once.
func TestDecisionStatisticsRefusesWhatCannotCount(t *testing.T) {
	wrong, err := anypb.New(&caseregistryv1.CaseIdentityErased{CaseId: "x"})
	if err != nil {
		t.Fatal(err)
	}
	noDate := envelopeOf(t, TypeCaseReopened, &caseregistryv1.CaseReopened{CaseId: "x", Version: 2,
		Reason: caseregistryv1.ReopenReason_REOPEN_REASON_NEW_INFORMATION})
	noDate.OccurredAt = nil
	for name, env := range map[string]*eventsv1.Envelope{
		"a payload of another type": {Id: "ev-1", Type: TypeCaseClosed, AggregateId: "x", AggregateVersion: 2, Payload: wrong},
		"a decision without a date": envelopeOf(t, TypeCaseStatusDecided, &caseregistryv1.CaseStatusDecided{CaseId: "x", Version: 2,
			Status: caseregistryv1.TraffickingStatus_TRAFFICKING_STATUS_VICTIM, RegistrationDate: "2025-01-02"}),
		"a reopening with no time": noDate,
	} {
		rec := &applied[decisionstats.Act]{}
		err := DecisionStatistics(rec, slog.New(slog.DiscardHandler))(context.Background(), env)
		if !consumer.IsPermanent(err) || len(rec.events) > 0 {
			t.Errorf("%s: error %v, applied %v; want a permanent error and nothing applied", name, err, rec.events)
		}
	}
}
