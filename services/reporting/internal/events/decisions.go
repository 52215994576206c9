package events

import (
	"log/slog"

	caseregistryv1 "github.com/nrm-albania/nrm/proto/nrm/caseregistry/v1"
	eventsv1 "github.com/nrm-albania/nrm/proto/nrm/events/v1"
	"github.com/nrm-albania/nrm/services/platform/consumer"
	"github.com/nrm-albania/nrm/services/platform/workdays"
	"github.com/nrm-albania/nrm/services/reporting/internal/decisionstats"
)

// DecisionStatistics returns the handler of the consumer of the case registry's acts (status
// decisions, closures, reopenings). Every other case event shares the stream and is
// acknowledged by its type, unread.
func DecisionStatistics(figures Applier[decisionstats.Act], log *slog.Logger) consumer.Handler {
	return activity(figures, log, actOf, decisionstats.Act.Validate)
}

// actOf reads the act env records, if any. A reopening carries no date of its own: it counts on
// the day it was recorded, in Tirana.
func actOf(env *eventsv1.Envelope) (decisionstats.Act, bool, error) {
	a := decisionstats.Act{CaseID: env.GetAggregateId(), Version: env.GetAggregateVersion(), OccurredAt: env.GetOccurredAt().AsTime()}
	switch env.GetType() {
	case TypeCaseStatusDecided:
		var ev caseregistryv1.CaseStatusDecided
		if err := decode(env, &ev); err != nil {
			return a, false, err
		}
		a.Kind, a.Day, a.Registered = decisionstats.Decision, ev.GetDecisionDate(), ev.GetRegistrationDate()
		a.Status, a.Body, a.Revision = ev.GetStatus().String(), ev.GetDecidingBody().String(), ev.GetRevision()
	case TypeCaseClosed:
		var ev caseregistryv1.CaseClosed
		if err := decode(env, &ev); err != nil {
			return a, false, err
		}
		a.Kind, a.Day, a.Reason = decisionstats.Closure, ev.GetDate(), ev.GetReason().String()
	case TypeCaseReopened:
		var ev caseregistryv1.CaseReopened
		if err := decode(env, &ev); err != nil {
			return a, false, err
		}
		a.Kind, a.Reason = decisionstats.Reopening, ev.GetReason().String()
		if env.GetOccurredAt() != nil { // else no day, and the act is refused
			a.Day = a.OccurredAt.In(workdays.Tirana).Format("2006-01-02")
		}
	default:
		return a, false, nil
	}
	return a, true, nil
}
