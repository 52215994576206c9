package server

import (
	"google.golang.org/protobuf/types/known/timestamppb"

	caseregistryv1 "github.com/nrm-albania/nrm/proto/nrm/caseregistry/v1"
	"github.com/nrm-albania/nrm/services/caseregistry/internal/domain"
)

// toProto renders a stored case for callers.
func toProto(c domain.Case) *caseregistryv1.Case {
	return &caseregistryv1.Case{
		Id:      c.ID,
		Code:    c.Code,
		Version: c.Version,
		Profile: &caseregistryv1.Profile{
			Sex:                   caseregistryv1.Sex(caseregistryv1.Sex_value[c.Profile.Sex]),
			AgeAtIdentification:   c.Profile.AgeAtIdentification,
			Citizenships:          c.Profile.Citizenships,
			AgeBand:               caseregistryv1.AgeBand(caseregistryv1.AgeBand_value[c.Profile.AgeBand()]),
			MinorAtIdentification: c.Profile.Minor(),
		},
		Trafficking: &caseregistryv1.Trafficking{
			Status:            caseregistryv1.TraffickingStatus(caseregistryv1.TraffickingStatus_value[c.Trafficking.Status]),
			ExploitationTypes: exploitationTypes(c.Trafficking.ExploitationTypes),
		},
		Identification: &caseregistryv1.Identification{
			IdentifyingInstitution: c.Identification.IdentifyingInstitution,
			IdentificationDate:     c.Identification.Date,
		},
		State:            caseregistryv1.CaseState(caseregistryv1.CaseState_value[c.State]),
		OwnerInstitution: c.OwnerInstitution,
		RegisteredAt:     timestamppb.New(c.RegisteredAt),
		UpdatedAt:        timestamppb.New(c.UpdatedAt),
	}
}

func exploitationTypes(names []string) []caseregistryv1.ExploitationType {
	out := make([]caseregistryv1.ExploitationType, len(names))
	for i, n := range names {
		out[i] = caseregistryv1.ExploitationType(caseregistryv1.ExploitationType_value[n])
	}
	return out
}

// registeredEvent is the pseudonymous event of a registration: what statistics need, nothing
// that identifies the person.
func registeredEvent(c domain.Case) *caseregistryv1.CaseRegistered {
	return &caseregistryv1.CaseRegistered{
		CaseId:                 c.ID,
		Sex:                    caseregistryv1.Sex(caseregistryv1.Sex_value[c.Profile.Sex]),
		AgeBand:                caseregistryv1.AgeBand(caseregistryv1.AgeBand_value[c.Profile.AgeBand()]),
		AgeAtIdentification:    c.Profile.AgeAtIdentification,
		Citizenships:           c.Profile.Citizenships,
		ExploitationTypes:      exploitationTypes(c.Trafficking.ExploitationTypes),
		Status:                 caseregistryv1.TraffickingStatus(caseregistryv1.TraffickingStatus_value[c.Trafficking.Status]),
		IdentifyingInstitution: c.Identification.IdentifyingInstitution,
		IdentificationDate:     c.Identification.Date,
		CaseCode:               c.Code,
	}
}
