package server

import (
	"context"
	"fmt"
	"time"

	eventsv1 "github.com/nrm-albania/nrm/proto/nrm/events/v1"
	referralv1 "github.com/nrm-albania/nrm/proto/nrm/referral/v1"
	"github.com/nrm-albania/nrm/services/caseregistry/internal/store"
	"github.com/nrm-albania/nrm/services/platform/consumer"
)

// ReferralAccess handles the referral service's events: an accepted referral lets its recipient
// institution see the case's identity (with a stated purpose, as every identity read); once the
// referral is completed, cancelled or withdrawn, for grace more. A referral that ends without
// having been accepted gives nothing. Redelivered or late events change nothing (the grant
// keeps the latest version of each referral).
func (s *Server) ReferralAccess(grace time.Duration) consumer.Handler {
	return func(ctx context.Context, env *eventsv1.Envelope) error {
		switch env.GetType() {
		case "referral.accepted", "referral.completed", "referral.cancelled", "referral.withdrawn":
		default:
			return nil // the stream's other events (providers', deadlines', …) give no access
		}
		var r referralv1.ReferralChanged
		if err := env.GetPayload().UnmarshalTo(&r); err != nil {
			return consumer.Permanent(fmt.Errorf("%s %s: %w", env.GetType(), env.GetId(), err))
		}
		g := store.ReferralGrant{ReferralID: r.GetReferralId(), Version: r.GetVersion()}
		if env.GetType() == "referral.accepted" {
			g.Open = true
		} else {
			if r.GetPreviousState() != referralv1.ReferralState_REFERRAL_STATE_ACCEPTED {
				return nil // it never gave access
			}
			g.Until = env.GetOccurredAt().AsTime().Add(grace)
		}
		if err := s.store.RecordReferralGrant(ctx, r.GetCaseId(), r.GetProviderCode(), g); err != nil {
			return fmt.Errorf("%s %s: %w", env.GetType(), env.GetId(), err)
		}
		s.log.InfoContext(ctx, "identity access by referral", "case_id", r.GetCaseId(), "institution", r.GetProviderCode(),
			"referral_id", r.GetReferralId(), "open", g.Open, "until", g.Until)
		return nil
	}
}
