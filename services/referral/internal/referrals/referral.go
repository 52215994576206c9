// Package referrals keeps the referrals of cases to providers: one case, one service, one
// provider, from the sender's institution, from PENDING to a final state. Each referral is an
// aggregate of the platform's store (services/platform/aggregate); its free text — the reason,
// the recipient's and the outcome's notes — may hold personal data and is sealed under a data key
// of the referral's own, kept in a key vault, so that destroying the key erases it everywhere.
package referrals

import (
	"fmt"
	"strings"
	"time"

	"github.com/nrm-albania/nrm/services/platform/aggregate"

	referralv1 "github.com/nrm-albania/nrm/proto/nrm/referral/v1"
	"github.com/nrm-albania/nrm/services/platform/apierr"
	"github.com/nrm-albania/nrm/services/platform/piicrypto"
)

// Referral is a referral as stored. Enumerations are stored by their proto names; the free text
// only sealed.
type Referral struct {
	ID                string           `bson:"_id"`
	Version           int64            `bson:"version"`
	CaseID            string           `bson:"case_id"`
	CaseCode          string           `bson:"case_code"`
	ServiceType       string           `bson:"service_type"`
	ProviderCode      string           `bson:"provider_code"`
	SenderInstitution string           `bson:"sender_institution"`
	Urgency           string           `bson:"urgency"`
	Reason            piicrypto.Sealed `bson:"reason"`
	State             string           `bson:"state"`
	Child             bool             `bson:"child"`
	ChildDecision     string           `bson:"child_protection_decision,omitempty"`
	ConsentOverridden bool             `bson:"consent_overridden,omitempty"`
	OverrideReason    piicrypto.Sealed `bson:"override_reason,omitempty"`
	DeclineReason     string           `bson:"decline_reason,omitempty"`
	DeclineNote       piicrypto.Sealed `bson:"decline_note,omitempty"`
	Outcome           string           `bson:"outcome,omitempty"`
	OutcomeNote       piicrypto.Sealed `bson:"outcome_note,omitempty"`
	// DueAt is when the recipient must have answered (package deadlines); Overdue is set once
	// referral.overdue has been published for it.
	DueAt     time.Time `bson:"due_at"`
	Overdue   bool      `bson:"overdue,omitempty"`
	CreatedAt time.Time `bson:"created_at"`
	UpdatedAt time.Time `bson:"updated_at"`
	// Profile is what the recipient decides on, from the case when the referral was made.
	Profile Profile `bson:"profile"`
	// Services are those the recipient delivered, oldest first.
	Services []Service `bson:"services,omitempty"`
	// Idempotency is set when the sender created it with an idempotency key.
	Idempotency *Idempotency `bson:"idempotency,omitempty"`
}

// Profile is the pseudonymous profile of the case's person: no identity.
type Profile struct {
	Sex               string   `bson:"sex,omitempty"`
	AgeBand           string   `bson:"age_band,omitempty"`
	Language          string   `bson:"language,omitempty"`
	ExploitationTypes []string `bson:"exploitation_types,omitempty"`
}

// Service is a service delivered under the referral; its note is sealed like the reason.
type Service struct {
	Type       string           `bson:"type"`
	Start      string           `bson:"start"`
	End        string           `bson:"end,omitempty"`
	Note       piicrypto.Sealed `bson:"note,omitempty"`
	RecordedBy string           `bson:"recorded_by"`
	RecordedAt time.Time        `bson:"recorded_at"`
}

// MaxServices bounds the services one referral records.
const MaxServices = 200

// Idempotency is the key a referral was created with and a keyed hash of the request, to tell a
// retry from another request under the same key.
type Idempotency struct {
	Key         string `bson:"key"`
	RequestHash []byte `bson:"request_hash"`
}

// AggregateID, AggregateVersion and AtVersion make a referral an aggregate.
func (r Referral) AggregateID() string     { return r.ID }
func (r Referral) AggregateVersion() int64 { return r.Version }
func (r Referral) AtVersion(v int64, at time.Time) Referral {
	r.Version, r.UpdatedAt = v, at
	return r
}

// Change is one entry of its history.
type Change = aggregate.Change

// The states, by their proto names.
var (
	Pending   = referralv1.ReferralState_REFERRAL_STATE_PENDING.String()
	Accepted  = referralv1.ReferralState_REFERRAL_STATE_ACCEPTED.String()
	Declined  = referralv1.ReferralState_REFERRAL_STATE_DECLINED.String()
	Completed = referralv1.ReferralState_REFERRAL_STATE_COMPLETED.String()
	Cancelled = referralv1.ReferralState_REFERRAL_STATE_CANCELLED.String()
	Expired   = referralv1.ReferralState_REFERRAL_STATE_EXPIRED.String()
	Withdrawn = referralv1.ReferralState_REFERRAL_STATE_WITHDRAWN.String()
)

// Transition is a move from one state to another, by the sender or the recipient.
type Transition struct {
	// Kind names the change in the history and the event: "accepted", "declined", … .
	Kind string
	From []string
	To   string
	// ByRecipient: the recipient makes it; otherwise the sender.
	ByRecipient bool
}

// The transitions of a referral.
var (
	Accept   = Transition{Kind: "accepted", From: []string{Pending}, To: Accepted, ByRecipient: true}
	Decline  = Transition{Kind: "declined", From: []string{Pending}, To: Declined, ByRecipient: true}
	Complete = Transition{Kind: "completed", From: []string{Accepted}, To: Completed, ByRecipient: true}
	Cancel   = Transition{Kind: "cancelled", From: []string{Pending, Accepted}, To: Cancelled}
	// Expire is the system's, when a pending referral stays unanswered past its deadline and
	// the grace after it (Sweeper).
	Expire = Transition{Kind: "expired", From: []string{Pending}, To: Expired}
	// Withdraw is the system's, when the person withdraws their consent to referral.
	Withdraw = Transition{Kind: "withdrawn", From: []string{Pending, Accepted}, To: Withdrawn}
)

// Apply moves r by t, made by institution (the stewards, chair and secretariat, act for either
// side). It refuses a move by the wrong institution (PERMISSION_DENIED) and a move from a state
// it does not start from (FAILED_PRECONDITION).
func (t Transition) Apply(r Referral, institution string, steward bool) (Referral, error) {
	party, side := r.SenderInstitution, "sender"
	if t.ByRecipient {
		party, side = r.ProviderCode, "recipient"
	}
	if institution != party && !steward {
		return r, apierr.PermissionDenied("NOT_THE_"+strings.ToUpper(side),
			fmt.Sprintf("only the referral's %s, %s, may make it %s", side, party, t.Kind),
			map[string]string{"referral_id": r.ID, side + "_institution": party})
	}
	for _, from := range t.From {
		if r.State == from {
			r.State = t.To
			return r, nil
		}
	}
	return r, apierr.FailedPrecondition("INVALID_TRANSITION",
		fmt.Sprintf("referral %s is %s: it cannot be %s", r.ID, r.State, t.Kind),
		map[string]string{"referral_id": r.ID, "state": r.State})
}
