// Package domain holds the case registry's rules: what a valid registration is, what the
// registry derives from it, and the record it stores. It knows nothing of storage or transport.
package domain

import (
	"time"

	"github.com/nrm-albania/nrm/services/platform/piicrypto"
)

// AdultAge is the age from which a person is an adult (under 18: a child).
const AdultAge = 18

// Case is a case as the registry stores it: one document per case. Enumerations are stored by
// their proto names, which are stable, rather than by number.
type Case struct {
	ID string `bson:"_id"`
	// Code is the human-readable case code, VT-YYYY-NNNNN.
	Code             string         `bson:"code"`
	Version          int64          `bson:"version"`
	Profile          Profile        `bson:"profile"`
	Trafficking      Trafficking    `bson:"trafficking"`
	Identification   Identification `bson:"identification"`
	State            string         `bson:"state"`
	OwnerInstitution string         `bson:"owner_institution"`
	RegisteredAt     time.Time      `bson:"registered_at"`
	UpdatedAt        time.Time      `bson:"updated_at"`
	// Idempotency is set when the case was registered with an idempotency key.
	Idempotency *Idempotency `bson:"idempotency,omitempty"`
	// SealedIdentity is the identity heading, encrypted; nil when none was recorded or it was
	// erased.
	SealedIdentity *SealedIdentity `bson:"identity,omitempty"`
	// IdentityErasedAt is when the identity was destroyed; nil while it exists.
	IdentityErasedAt *time.Time `bson:"identity_erased_at,omitempty"`
	// BlindIndexes are the keyed hashes under which the identity can be found as a duplicate.
	BlindIndexes []string `bson:"blind_indexes,omitempty"`
	// Consents holds every consent answer, oldest first.
	Consents []Consent `bson:"consents,omitempty"`
	// Closure is set while the case is closed.
	Closure *Closure `bson:"closure,omitempty"`
	// MergedInto is the survivor's id once this case was merged into another.
	MergedInto string `bson:"merged_into,omitempty"`
	// MergedCaseIDs are the cases merged into this one.
	MergedCaseIDs []string `bson:"merged_case_ids,omitempty"`
}

// AggregateID is the case's id, for the platform's aggregate store.
func (c Case) AggregateID() string { return c.ID }

// AggregateVersion is the case's version, for the platform's aggregate store.
func (c Case) AggregateVersion() int64 { return c.Version }

// AtVersion is the case as version v, changed at.
func (c Case) AtVersion(v int64, at time.Time) Case {
	c.Version, c.UpdatedAt = v, at
	return c
}

// SealedIdentity is the identity heading as stored: each field sealed with the case's own data
// key. The key is kept apart, wrapped by a master key, in the registry's key vault (one
// document per case), so that the sealed fields may be copied into the history while
// destroying the one key destroys them all.
type SealedIdentity struct {
	Fields map[string]piicrypto.Sealed `bson:"fields"`
}

// Profile is the pseudonymous profile.
type Profile struct {
	Sex                   string   `bson:"sex"`
	AgeAtIdentification   *int32   `bson:"age_at_identification,omitempty"`
	Citizenships          []string `bson:"citizenships"`
	ResidenceMunicipality string   `bson:"residence_municipality,omitempty"`
	ResidencePrefecture   string   `bson:"residence_prefecture,omitempty"`
	PrimaryLanguage       string   `bson:"primary_language,omitempty"` // ISO 639-1
	EducationLevel        string   `bson:"education_level,omitempty"`
}

// Trafficking is the trafficking heading.
type Trafficking struct {
	Status                string           `bson:"status"`
	ExploitationTypes     []string         `bson:"exploitation_types"`
	Scope                 string           `bson:"scope,omitempty"`
	RecruitmentCountries  []string         `bson:"recruitment_countries,omitempty"`
	ExploitationCountries []string         `bson:"exploitation_countries,omitempty"`
	RecruitmentMethod     string           `bson:"recruitment_method,omitempty"`
	MeansOfControl        []string         `bson:"means_of_control,omitempty"`
	RecruiterRelation     string           `bson:"recruiter_relation,omitempty"`
	ExploitationPeriod    *Period          `bson:"exploitation_period,omitempty"`
	StatusDecisions       []StatusDecision `bson:"status_decisions,omitempty"`
}

// Period is a span of calendar dates, YYYY-MM-DD, both inclusive; End is "" while it lasts.
type Period struct {
	Start string `bson:"start"`
	End   string `bson:"end,omitempty"`
}

// StatusDecision is one decision on the trafficking status. Decisions are appended, never
// replaced: a revision is a new decision.
type StatusDecision struct {
	Status       string    `bson:"status"`
	DecidingBody string    `bson:"deciding_body"`
	Date         string    `bson:"date"`
	Basis        string    `bson:"basis"`
	RecordedBy   string    `bson:"recorded_by"`
	RecordedAt   time.Time `bson:"recorded_at"`
	Revision     bool      `bson:"revision,omitempty"`
}

// Consent is one consent answer.
type Consent struct {
	Scope      string    `bson:"scope"`
	Decision   string    `bson:"decision"`
	Date       string    `bson:"date"`
	GivenBy    string    `bson:"given_by"`
	RecordedBy string    `bson:"recorded_by"`
	RecordedAt time.Time `bson:"recorded_at"`
}

// Closure says why and when a case was closed.
type Closure struct {
	Reason string `bson:"reason"`
	Date   string `bson:"date"`
	Note   string `bson:"note,omitempty"`
}

// Identification says who identified the person and when.
type Identification struct {
	IdentifyingInstitution string `bson:"identifying_institution"`
	// Date is an ISO 8601 calendar date, YYYY-MM-DD.
	Date                 string `bson:"date"`
	ReferringInstitution string `bson:"referring_institution,omitempty"`
	Place                string `bson:"place,omitempty"`
	Channel              string `bson:"channel,omitempty"`
}

// Idempotency records the key a registration was made with and a fingerprint of the request, so
// that a retry is recognised and a reused key with another request is refused.
type Idempotency struct {
	Key         string `bson:"key"`
	RequestHash []byte `bson:"request_hash"`
}

// AgeBand is "AGE_BAND_CHILD", "AGE_BAND_ADULT" or "AGE_BAND_UNKNOWN" for the profile.
func (p Profile) AgeBand() string {
	switch {
	case p.AgeAtIdentification == nil:
		return "AGE_BAND_UNKNOWN"
	case *p.AgeAtIdentification < AdultAge:
		return "AGE_BAND_CHILD"
	default:
		return "AGE_BAND_ADULT"
	}
}

// Minor reports whether the person was a child when identified.
func (p Profile) Minor() bool {
	return p.AgeAtIdentification != nil && *p.AgeAtIdentification < AdultAge
}
