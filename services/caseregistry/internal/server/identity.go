package server

import (
	"context"
	"fmt"

	caseregistryv1 "github.com/nrm-albania/nrm/proto/nrm/caseregistry/v1"
	"github.com/nrm-albania/nrm/services/caseregistry/internal/domain"
	"github.com/nrm-albania/nrm/services/platform/auth"
	"github.com/nrm-albania/nrm/services/platform/authz"
	"github.com/nrm-albania/nrm/services/platform/piicrypto"
)

// seal encrypts an identity under a data key of the case's own, wrapped by the primary master
// key and bound to the case id.
func seal(mk *piicrypto.MasterKeys, caseID string, id domain.Identity) (*domain.SealedIdentity, error) {
	key, wrapped, err := piicrypto.NewDataKey(mk, caseID)
	if err != nil {
		return nil, fmt.Errorf("data key of case %s: %w", caseID, err)
	}
	defer key.Destroy()
	out := &domain.SealedIdentity{Key: wrapped, Fields: map[string]piicrypto.Sealed{}}
	for field, value := range id.Fields() {
		if value == "" {
			continue
		}
		if out.Fields[field], err = key.Seal(field, []byte(value)); err != nil {
			return nil, fmt.Errorf("seal %s of case %s: %w", field, caseID, err)
		}
	}
	return out, nil
}

// open decrypts a sealed identity.
func open(mk *piicrypto.MasterKeys, caseID string, s *domain.SealedIdentity) (domain.Identity, error) {
	key, err := piicrypto.Unwrap(mk, s.Key, caseID)
	if err != nil {
		return domain.Identity{}, fmt.Errorf("data key of case %s: %w", caseID, err)
	}
	defer key.Destroy()
	fields := map[string]string{}
	for field, sealed := range s.Fields {
		plain, err := key.Open(field, sealed)
		if err != nil {
			return domain.Identity{}, fmt.Errorf("open %s of case %s: %w", field, caseID, err)
		}
		fields[field] = string(plain)
	}
	return domain.IdentityFrom(fields), nil
}

// needsToKnow says whether the caller may see the case's identity: its owner institution, the
// chair, the secretariat (DOMAIN.md, data protection), and institutions granted access
// (GrantIdentityAccess; referral holders join them when referrals exist).
func (s *Server) needsToKnow(ctx context.Context, p *auth.Principal, c domain.Case) (bool, error) {
	if p.Institution == c.OwnerInstitution || p.Has(auth.RoleChair) || p.Has(auth.RoleSecretariat) {
		return true, nil
	}
	return s.store.Granted(ctx, c.ID, p.Institution)
}

// identityFor returns what the caller sees of the case's identity. Decrypting happens only for
// a caller who needs to know and stated a purpose; the audit trail records that read with it.
func (s *Server) identityFor(ctx context.Context, c domain.Case) (*caseregistryv1.Identity, caseregistryv1.IdentityView, error) {
	switch {
	case c.IdentityErasedAt != nil:
		return nil, caseregistryv1.IdentityView_IDENTITY_VIEW_ERASED, nil
	case c.SealedIdentity == nil:
		return nil, caseregistryv1.IdentityView_IDENTITY_VIEW_NONE, nil
	}
	p, ok := auth.FromContext(ctx)
	if !ok {
		return nil, caseregistryv1.IdentityView_IDENTITY_VIEW_WITHHELD, nil
	}
	if may, err := s.needsToKnow(ctx, p.Effective(), c); err != nil || !may {
		return nil, caseregistryv1.IdentityView_IDENTITY_VIEW_WITHHELD, err
	}
	if purpose, err := authz.Purpose(ctx, false); err != nil || purpose == "" {
		return nil, caseregistryv1.IdentityView_IDENTITY_VIEW_PURPOSE_REQUIRED, nil
	}
	id, err := open(s.keys, c.ID, c.SealedIdentity)
	if err != nil {
		return nil, 0, err
	}
	return &caseregistryv1.Identity{
		GivenName: id.GivenName, FamilyName: id.FamilyName, DateOfBirth: id.DateOfBirth,
		DocumentNumber: id.DocumentNumber, Notes: id.Notes,
	}, caseregistryv1.IdentityView_IDENTITY_VIEW_VISIBLE, nil
}
