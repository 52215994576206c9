package server

import (
	"google.golang.org/protobuf/types/known/timestamppb"

	caseregistryv1 "github.com/nrm-albania/nrm/proto/nrm/caseregistry/v1"
	"github.com/nrm-albania/nrm/services/caseregistry/internal/domain"
	"github.com/nrm-albania/nrm/services/platform/aggregate"
)

// Enumerations are stored by name (docs/decisions.md 8); enum turns a stored name back into
// its value, 0 (UNSPECIFIED) for "" or a name this build does not know.
func enum[E ~int32](values map[string]int32, name string) E { return E(values[name]) }

func enums[E ~int32](values map[string]int32, names []string) []E {
	out := make([]E, len(names))
	for i, n := range names {
		out[i] = enum[E](values, n)
	}
	return out
}

// toProto renders a stored case for callers, without its identity (view adds it).
func toProto(c domain.Case) *caseregistryv1.Case {
	out := &caseregistryv1.Case{
		Id:      c.ID,
		Code:    c.Code,
		Version: c.Version,
		Etag:    aggregate.ETag(c.Version),
		Profile: &caseregistryv1.Profile{
			Sex:                   enum[caseregistryv1.Sex](caseregistryv1.Sex_value, c.Profile.Sex),
			AgeAtIdentification:   c.Profile.AgeAtIdentification,
			Citizenships:          c.Profile.Citizenships,
			AgeBand:               enum[caseregistryv1.AgeBand](caseregistryv1.AgeBand_value, c.Profile.AgeBand()),
			MinorAtIdentification: c.Profile.Minor(),
			ResidenceMunicipality: c.Profile.ResidenceMunicipality,
			ResidencePrefecture:   enum[caseregistryv1.Prefecture](caseregistryv1.Prefecture_value, c.Profile.ResidencePrefecture),
			PrimaryLanguage:       c.Profile.PrimaryLanguage,
			EducationLevel:        enum[caseregistryv1.EducationLevel](caseregistryv1.EducationLevel_value, c.Profile.EducationLevel),
		},
		Trafficking:      traffickingProto(c.Trafficking),
		Identification:   identificationProto(c.Identification),
		State:            enum[caseregistryv1.CaseState](caseregistryv1.CaseState_value, c.State),
		OwnerInstitution: c.OwnerInstitution,
		RegisteredAt:     timestamppb.New(c.RegisteredAt),
		UpdatedAt:        timestamppb.New(c.UpdatedAt),
		MergedInto:       c.MergedInto,
		MergedCaseIds:    c.MergedCaseIDs,
	}
	for _, k := range c.Consents {
		out.Consents = append(out.Consents, consentProto(k))
	}
	if cl := c.Closure; cl != nil {
		out.Closure = &caseregistryv1.Closure{
			Reason: enum[caseregistryv1.ClosureReason](caseregistryv1.ClosureReason_value, cl.Reason), Date: cl.Date, Note: cl.Note,
		}
	}
	return out
}

func traffickingProto(t domain.Trafficking) *caseregistryv1.Trafficking {
	out := &caseregistryv1.Trafficking{
		Status:                enum[caseregistryv1.TraffickingStatus](caseregistryv1.TraffickingStatus_value, t.Status),
		ExploitationTypes:     enums[caseregistryv1.ExploitationType](caseregistryv1.ExploitationType_value, t.ExploitationTypes),
		Scope:                 enum[caseregistryv1.TraffickingScope](caseregistryv1.TraffickingScope_value, t.Scope),
		RecruitmentCountries:  t.RecruitmentCountries,
		ExploitationCountries: t.ExploitationCountries,
		RecruitmentMethod:     enum[caseregistryv1.RecruitmentMethod](caseregistryv1.RecruitmentMethod_value, t.RecruitmentMethod),
		MeansOfControl:        enums[caseregistryv1.MeansOfControl](caseregistryv1.MeansOfControl_value, t.MeansOfControl),
		RecruiterRelation:     enum[caseregistryv1.RecruiterRelation](caseregistryv1.RecruiterRelation_value, t.RecruiterRelation),
	}
	if p := t.ExploitationPeriod; p != nil {
		out.ExploitationPeriod = &caseregistryv1.DatePeriod{StartDate: p.Start, EndDate: p.End}
	}
	for _, d := range t.StatusDecisions {
		out.StatusDecisions = append(out.StatusDecisions, &caseregistryv1.StatusDecision{
			Status:       enum[caseregistryv1.TraffickingStatus](caseregistryv1.TraffickingStatus_value, d.Status),
			DecidingBody: enum[caseregistryv1.DecidingBody](caseregistryv1.DecidingBody_value, d.DecidingBody),
			DecisionDate: d.Date,
			Basis:        d.Basis,
			RecordedBy:   d.RecordedBy,
			RecordedAt:   timestamppb.New(d.RecordedAt),
			Revision:     d.Revision,
		})
	}
	return out
}

func identificationProto(i domain.Identification) *caseregistryv1.Identification {
	return &caseregistryv1.Identification{
		IdentifyingInstitution: i.IdentifyingInstitution,
		IdentificationDate:     i.Date,
		ReferringInstitution:   i.ReferringInstitution,
		Place:                  i.Place,
		Channel:                enum[caseregistryv1.IdentificationChannel](caseregistryv1.IdentificationChannel_value, i.Channel),
	}
}

func identityProto(id domain.Identity) *caseregistryv1.Identity {
	return &caseregistryv1.Identity{
		GivenName: id.GivenName, FamilyName: id.FamilyName, DateOfBirth: id.DateOfBirth,
		DocumentNumber: id.DocumentNumber, Notes: id.Notes, ContactDetails: id.ContactDetails,
		Address: id.Address, FamilyContacts: id.FamilyContacts,
	}
}

// registeredEvent is the pseudonymous event of a registration: what statistics need, nothing
// that identifies the person.
func registeredEvent(c domain.Case) *caseregistryv1.CaseRegistered {
	f := facts(c)
	return &caseregistryv1.CaseRegistered{
		CaseId:                 c.ID,
		Sex:                    f.Sex,
		AgeBand:                f.AgeBand,
		AgeAtIdentification:    f.AgeAtIdentification,
		Citizenships:           f.Citizenships,
		ExploitationTypes:      f.ExploitationTypes,
		Status:                 f.Status,
		IdentifyingInstitution: f.IdentifyingInstitution,
		IdentificationDate:     f.IdentificationDate,
		CaseCode:               c.Code,
		Scope:                  f.Scope,
		ResidencePrefecture:    f.ResidencePrefecture,
		Channel:                f.Channel,
		ReferringInstitution:   c.Identification.ReferringInstitution,
	}
}

// facts are the pseudonymous facts of a case that events carry for statistics.
func facts(c domain.Case) *caseregistryv1.CaseFacts {
	return &caseregistryv1.CaseFacts{
		Sex:                    enum[caseregistryv1.Sex](caseregistryv1.Sex_value, c.Profile.Sex),
		AgeBand:                enum[caseregistryv1.AgeBand](caseregistryv1.AgeBand_value, c.Profile.AgeBand()),
		AgeAtIdentification:    c.Profile.AgeAtIdentification,
		Citizenships:           c.Profile.Citizenships,
		ExploitationTypes:      enums[caseregistryv1.ExploitationType](caseregistryv1.ExploitationType_value, c.Trafficking.ExploitationTypes),
		Status:                 enum[caseregistryv1.TraffickingStatus](caseregistryv1.TraffickingStatus_value, c.Trafficking.Status),
		State:                  enum[caseregistryv1.CaseState](caseregistryv1.CaseState_value, c.State),
		IdentifyingInstitution: c.Identification.IdentifyingInstitution,
		IdentificationDate:     c.Identification.Date,
		Scope:                  enum[caseregistryv1.TraffickingScope](caseregistryv1.TraffickingScope_value, c.Trafficking.Scope),
		ResidencePrefecture:    enum[caseregistryv1.Prefecture](caseregistryv1.Prefecture_value, c.Profile.ResidencePrefecture),
		Channel:                enum[caseregistryv1.IdentificationChannel](caseregistryv1.IdentificationChannel_value, c.Identification.Channel),
		OwnerInstitution:       c.OwnerInstitution,
	}
}

// consentProto renders a consent answer: nothing in it identifies the person.
func consentProto(k domain.Consent) *caseregistryv1.ConsentRecord {
	return &caseregistryv1.ConsentRecord{
		Scope:      enum[caseregistryv1.ConsentScope](caseregistryv1.ConsentScope_value, k.Scope),
		Decision:   enum[caseregistryv1.ConsentDecision](caseregistryv1.ConsentDecision_value, k.Decision),
		Date:       k.Date,
		GivenBy:    enum[caseregistryv1.ConsentGiver](caseregistryv1.ConsentGiver_value, k.GivenBy),
		RecordedBy: k.RecordedBy,
		RecordedAt: timestamppb.New(k.RecordedAt),
	}
}
