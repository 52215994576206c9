package events

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	caseregistryv1 "github.com/nrm-albania/nrm/proto/nrm/caseregistry/v1"
	eventsv1 "github.com/nrm-albania/nrm/proto/nrm/events/v1"
	"github.com/nrm-albania/nrm/services/reporting/internal/projection"
)

// Types of the case events the statistics follow.
const (
	TypeCaseRegistered     = "case.registered"
	TypeCaseUpdated        = "case.updated"
	TypeCaseStatusDecided  = "case.status_decided"
	TypeCaseClosed         = "case.closed"
	TypeCaseReopened       = "case.reopened"
	TypeCaseMerged         = "case.merged"
	TypeCaseIdentityErased = "case.identity_erased"
)

// eventOf reads what env tells the statistics. It reports false for an event that changes no
// figure: a type the statistics do not use, or an erasure, which destroys the identity but
// leaves the pseudonymous facts, and so the figures, as they were.
func eventOf(env *eventsv1.Envelope) (projection.Event, bool, error) {
	e := projection.Event{CaseID: env.GetAggregateId(), Version: env.GetAggregateVersion()}
	if env.GetOccurredAt() != nil {
		e.OccurredAt = env.GetOccurredAt().AsTime()
	}
	var facts *caseregistryv1.CaseFacts
	switch env.GetType() {
	case TypeCaseRegistered:
		var ev caseregistryv1.CaseRegistered
		if err := decode(env, &ev); err != nil {
			return e, false, err
		}
		facts = registeredFacts(&ev)
	case TypeCaseUpdated:
		var ev caseregistryv1.CaseUpdated
		if err := decode(env, &ev); err != nil {
			return e, false, err
		}
		facts = ev.GetFacts()
	case TypeCaseStatusDecided:
		var ev caseregistryv1.CaseStatusDecided
		if err := decode(env, &ev); err != nil {
			return e, false, err
		}
		facts = ev.GetFacts()
	case TypeCaseClosed:
		var ev caseregistryv1.CaseClosed
		if err := decode(env, &ev); err != nil {
			return e, false, err
		}
		facts = ev.GetFacts()
	case TypeCaseReopened:
		var ev caseregistryv1.CaseReopened
		if err := decode(env, &ev); err != nil {
			return e, false, err
		}
		facts = ev.GetFacts()
	case TypeCaseMerged:
		var ev caseregistryv1.CaseMerged
		if err := decode(env, &ev); err != nil {
			return e, false, err
		}
		e.Merged = true
		return e, true, nil
	default: // TypeCaseIdentityErased among them
		return e, false, nil
	}
	e.Facts = factsOf(facts)
	return e, true, nil
}

func decode(env *eventsv1.Envelope, m proto.Message) error {
	if err := env.GetPayload().UnmarshalTo(m); err != nil {
		return fmt.Errorf("payload of %s is not a %s: %w", env.GetType(), m.ProtoReflect().Descriptor().Name(), err)
	}
	return nil
}

// registeredFacts are the facts of a case as registered: open, as every new case is.
func registeredFacts(ev *caseregistryv1.CaseRegistered) *caseregistryv1.CaseFacts {
	return &caseregistryv1.CaseFacts{
		Sex:                    ev.GetSex(),
		AgeBand:                ev.GetAgeBand(),
		Citizenships:           ev.GetCitizenships(),
		ExploitationTypes:      ev.GetExploitationTypes(),
		Status:                 ev.GetStatus(),
		State:                  caseregistryv1.CaseState_CASE_STATE_OPEN,
		IdentifyingInstitution: ev.GetIdentifyingInstitution(),
		IdentificationDate:     ev.GetIdentificationDate(),
		Scope:                  ev.GetScope(),
		ResidencePrefecture:    ev.GetResidencePrefecture(),
	}
}

// factsOf renders the facts as the statistics count them, enums under their names.
func factsOf(f *caseregistryv1.CaseFacts) projection.Facts {
	types := make([]string, len(f.GetExploitationTypes()))
	for i, t := range f.GetExploitationTypes() {
		types[i] = t.String()
	}
	return projection.Facts{
		Day:                    f.GetIdentificationDate(),
		Sex:                    f.GetSex().String(),
		AgeBand:                f.GetAgeBand().String(),
		ExploitationTypes:      types,
		Citizenships:           f.GetCitizenships(),
		Status:                 f.GetStatus().String(),
		State:                  f.GetState().String(),
		IdentifyingInstitution: f.GetIdentifyingInstitution(),
		Prefecture:             f.GetResidencePrefecture().String(),
		Scope:                  f.GetScope().String(),
	}
}
