package store

import (
	"context"
	"fmt"
	"maps"
	"time"

	"github.com/nrm-albania/nrm/services/platform/journal"
)

// Referrals give their recipient access to the case's identity while they are accepted, and for
// a grace after they end (docs/decisions.md 26). The registry learns of them from the referral
// service's events and keeps, per case and recipient institution, a document of that
// institution's referrals of the case: _id "<case id>|<institution>", a journal document, since
// events of different referrals may be handled at once on several replicas.
const (
	ReferralAccessCollection        = "case_referral_access"
	ReferralAccessJournalCollection = "case_referral_access_journal"
)

// referralAccess is one institution's referrals of one case.
type referralAccess struct {
	Referrals map[string]ReferralGrant `bson:"referrals"`
}

// ReferralGrant is what one referral gives its recipient: access while Open, and until Until
// once it has ended. Version is the referral's version the grant reflects.
type ReferralGrant struct {
	ReferralID string    `bson:"referral_id"`
	Version    int64     `bson:"version"`
	Open       bool      `bson:"open"`
	Until      time.Time `bson:"until,omitzero"`
}

// withGrant applies a referral's grant, unless the document reflects a later version of it
// already (an event redelivered after a later one).
func withGrant(a referralAccess, g ReferralGrant) referralAccess {
	out := referralAccess{Referrals: maps.Clone(a.Referrals)}
	if out.Referrals == nil {
		out.Referrals = map[string]ReferralGrant{}
	}
	if prev, ok := out.Referrals[g.ReferralID]; !ok || prev.Version < g.Version {
		out.Referrals[g.ReferralID] = g
	}
	return out
}

func newReferralAccess(s *Store) *journal.Journal[referralAccess, ReferralGrant] {
	return journal.New(s.db, ReferralAccessCollection, ReferralAccessJournalCollection, withGrant)
}

// RecordReferralGrant records what a referral of caseID gives institution.
func (s *Store) RecordReferralGrant(ctx context.Context, caseID, institution string, g ReferralGrant) error {
	_, err := s.referralAccess.Append(ctx, grantID(caseID, institution), func(d journal.Doc[referralAccess]) (ReferralGrant, bool) {
		prev, ok := d.State.Referrals[g.ReferralID]
		return g, !ok || prev.Version < g.Version
	})
	if err != nil {
		return fmt.Errorf("record referral %s's access to case %s: %w", g.ReferralID, caseID, err)
	}
	return nil
}

// ReferralGranted reports whether a referral gives institution access to caseID's identity at now.
func (s *Store) ReferralGranted(ctx context.Context, caseID, institution string, now time.Time) (bool, error) {
	d, err := s.referralAccess.Settled(ctx, grantID(caseID, institution))
	if err != nil {
		return false, fmt.Errorf("check %s's referrals of case %s: %w", institution, caseID, err)
	}
	for _, g := range d.State.Referrals {
		if g.Open || now.Before(g.Until) {
			return true, nil
		}
	}
	return false, nil
}
