package domain

import (
	"slices"
	"strings"
	"time"

	caseregistryv1 "github.com/nrm-albania/nrm/proto/nrm/caseregistry/v1"
	"github.com/nrm-albania/nrm/services/platform/apierr"
)

var (
	consentGiven     = caseregistryv1.ConsentDecision_CONSENT_DECISION_GIVEN.String()
	consentWithdrawn = caseregistryv1.ConsentDecision_CONSENT_DECISION_WITHDRAWN.String()
	childGivers      = []string{
		caseregistryv1.ConsentGiver_CONSENT_GIVER_GUARDIAN.String(),
		caseregistryv1.ConsentGiver_CONSENT_GIVER_CHILD_PROTECTION_AUTHORITY.String(),
	}
	adultGivers = []string{
		caseregistryv1.ConsentGiver_CONSENT_GIVER_PERSON.String(),
		caseregistryv1.ConsentGiver_CONSENT_GIVER_GUARDIAN.String(),
	}
)

// RecordConsent records a consent answer. Who may answer follows the age at identification: for
// a child a guardian or the child-protection authority (which decides on referral when there is
// no suitable guardian), for an adult the person or a guardian; when the age is unknown anyone
// recorded may. A consent can only be withdrawn while it is given. A closed case still records
// consent, since a person may withdraw it after closure.
func RecordConsent(c Case, req *caseregistryv1.RecordConsentRequest, today, by string, now time.Time) (Case, Consent, error) {
	var v apierr.Violations
	r := req.GetConsent()
	if r == nil {
		v.Add("consent", "is required")
		return Case{}, Consent{}, v.Err()
	}
	rec := Consent{
		Scope:      requiredEnum(&v, "consent.scope", r.GetScope()),
		Decision:   requiredEnum(&v, "consent.decision", r.GetDecision()),
		GivenBy:    requiredEnum(&v, "consent.given_by", r.GetGivenBy()),
		RecordedBy: by,
		RecordedAt: now,
	}
	if checkEventDate(&v, "consent.date", r.GetDate(), c.Identification.Date, today) {
		rec.Date = r.GetDate()
	}
	if allowed := giversFor(c.Profile); rec.GivenBy != "" && allowed != nil && !slices.Contains(allowed, rec.GivenBy) {
		who := "an adult"
		if c.Profile.Minor() {
			who = "a child"
		}
		v.Add("consent.given_by", "for %s at identification the answer is given by %s", who, strings.Join(allowed, " or "))
	}
	if err := v.Err(); err != nil {
		return Case{}, Consent{}, err
	}
	if err := CheckChangeable(c); err != nil {
		return Case{}, Consent{}, err
	}
	if rec.Decision == consentWithdrawn {
		if latest := LatestConsent(c, rec.Scope); latest == nil || latest.Decision != consentGiven {
			return Case{}, Consent{}, apierr.FailedPrecondition(ReasonConsentNotGiven,
				"only a consent that is given can be withdrawn", map[string]string{"scope": rec.Scope})
		}
	}
	c.Consents = append(slices.Clip(c.Consents), rec)
	return c, rec, nil
}

// giversFor lists who may answer for the person; nil when the age is unknown (anyone).
func giversFor(p Profile) []string {
	switch {
	case p.AgeAtIdentification == nil:
		return nil
	case p.Minor():
		return childGivers
	default:
		return adultGivers
	}
}

// LatestConsent is the answer in force for scope (a ConsentScope name): the latest recorded, or
// nil when there is none. It is a copy.
func LatestConsent(c Case, scope string) *Consent {
	for i := len(c.Consents) - 1; i >= 0; i-- {
		if c.Consents[i].Scope == scope {
			latest := c.Consents[i]
			return &latest
		}
	}
	return nil
}
