package server

import (
	"context"
	"errors"
	"fmt"

	caseregistryv1 "github.com/nrm-albania/nrm/proto/nrm/caseregistry/v1"
	eventsv1 "github.com/nrm-albania/nrm/proto/nrm/events/v1"
	"github.com/nrm-albania/nrm/services/platform/auth"
	"github.com/nrm-albania/nrm/services/platform/consumer"
	"github.com/nrm-albania/nrm/services/referral/internal/referrals"
)

// ConsentConsumer is the durable consumer of the registry's case.updated events that withdraws
// a case's open referrals when the person withdraws their consent to referral.
const ConsentConsumer = "referral-consent-withdrawals"

// withdrawer is the principal of withdrawals in histories, events and the audit trail.
var withdrawer = &auth.Principal{Institution: "NRM", Subject: "referral/consent", Roles: []auth.Role{auth.RoleService}}

// ConsentWithdrawals handles case.updated: when it records consent to referral withdrawn, every
// pending or accepted referral of the case becomes WITHDRAWN (referral.withdrawn). A referral
// withdrawn already, or answered meanwhile, is left as it is, so a redelivered event changes
// nothing.
func (s *Server) ConsentWithdrawals() consumer.Handler {
	return func(ctx context.Context, env *eventsv1.Envelope) error {
		var u caseregistryv1.CaseUpdated
		if err := env.GetPayload().UnmarshalTo(&u); err != nil {
			return consumer.Permanent(fmt.Errorf("case.updated %s: %w", env.GetId(), err))
		}
		k := u.GetConsent()
		if k.GetScope() != caseregistryv1.ConsentScope_CONSENT_SCOPE_REFERRAL || k.GetDecision() != caseregistryv1.ConsentDecision_CONSENT_DECISION_WITHDRAWN {
			return nil
		}
		ctx = auth.NewContext(ctx, withdrawer)
		var errs []error
		for after := int64(0); ; {
			page, last, more, err := s.Referrals.OfCase(ctx, u.GetCaseId(), after, 100)
			if err != nil {
				return err
			}
			for _, r := range page {
				if r.State != referrals.Pending && r.State != referrals.Accepted {
					continue
				}
				errs = append(errs, s.systemChange(ctx, r.ID, func(r referrals.Referral) (referrals.Referral, string, bool, error) {
					next, err := referrals.Withdraw.Apply(r, withdrawer.Institution, true)
					return next, referrals.Withdraw.Kind, err == nil, nil
				}))
			}
			if !more {
				break
			}
			after = last
		}
		if err := errors.Join(errs...); err != nil {
			return fmt.Errorf("withdraw the referrals of case %s: %w", u.GetCaseId(), err)
		}
		return nil
	}
}
