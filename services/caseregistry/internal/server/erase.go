package server

import (
	"context"
	"strings"

	caseregistryv1 "github.com/nrm-albania/nrm/proto/nrm/caseregistry/v1"
	"github.com/nrm-albania/nrm/services/caseregistry/internal/domain"
	"github.com/nrm-albania/nrm/services/caseregistry/internal/store"
	"github.com/nrm-albania/nrm/services/platform/apierr"
)

// EventIdentityErased is the type of the event an erasure publishes.
const EventIdentityErased = "case.identity_erased"

// EraseIdentity destroys a case's identity (crypto-shredding).
func (s *Server) EraseIdentity(ctx context.Context, req *caseregistryv1.EraseIdentityRequest) (*caseregistryv1.EraseIdentityResponse, error) {
	if err := checkID(req.GetId()); err != nil {
		return nil, err
	}
	reason := strings.TrimSpace(req.GetReason())
	if reason == "" || len(reason) > 200 {
		return nil, apierr.InvalidField("reason", "state the basis of the erasure in 1 to 200 characters (no personal data)")
	}
	c, err := s.erase(ctx, req.GetId(), reason)
	if err != nil {
		return nil, err
	}
	return &caseregistryv1.EraseIdentityResponse{Case: s.respond(ctx, c)}, nil
}

// erase destroys the case's data key first, the one act that makes the identity unreadable
// everywhere (the case, its revisions, backups); then clears its blind indexes, then commits the
// erased record. Each step can be repeated, so a retry, or the retention sweep, finishes an
// erasure that stopped half-way.
func (s *Server) erase(ctx context.Context, id, basis string) (domain.Case, error) {
	return s.apply(ctx, id, 0, func(c domain.Case) (outcome, error) {
		if err := s.store.DestroyKey(ctx, c.ID); err != nil {
			return outcome{}, err
		}
		if err := s.store.RemoveIndexes(ctx, c.ID, c.BlindIndexes); err != nil {
			return outcome{}, err
		}
		if c.IdentityErasedAt != nil || c.SealedIdentity == nil {
			return outcome{noop: true}, nil
		}
		now := s.now().UTC()
		next := c
		next.SealedIdentity, next.BlindIndexes, next.IdentityErasedAt = nil, nil, &now
		return outcome{
			next: next,
			change: store.Change{Kind: caseregistryv1.ChangeKind_CHANGE_KIND_IDENTITY_ERASED.String(),
				Fields: []string{"identity"}, Note: basis},
			events: []event{{Type: EventIdentityErased, Payload: &caseregistryv1.CaseIdentityErased{CaseId: c.ID}}},
		}, nil
	})
}
