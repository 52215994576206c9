package events

import (
	caseregistryv1 "github.com/nrm-albania/nrm/proto/nrm/caseregistry/v1"
	eventsv1 "github.com/nrm-albania/nrm/proto/nrm/events/v1"
	"github.com/nrm-albania/nrm/services/reporting/internal/projection"
)

// caseOf extracts from a case.registered event what the statistics count. Enums are counted
// under their names, so a value added to the proto later is still counted (under its number)
// rather than lost.
func caseOf(env *eventsv1.Envelope, ev *caseregistryv1.CaseRegistered) projection.Case {
	types := make([]string, len(ev.GetExploitationTypes()))
	for i, t := range ev.GetExploitationTypes() {
		types[i] = t.String()
	}
	c := projection.Case{
		AggregateID:            env.GetAggregateId(),
		AggregateVersion:       env.GetAggregateVersion(),
		Day:                    ev.GetIdentificationDate(),
		Sex:                    ev.GetSex().String(),
		AgeBand:                ev.GetAgeBand().String(),
		ExploitationTypes:      types,
		Citizenships:           ev.GetCitizenships(),
		IdentifyingInstitution: ev.GetIdentifyingInstitution(),
	}
	if env.GetOccurredAt() != nil {
		c.OccurredAt = env.GetOccurredAt().AsTime()
	}
	return c
}
