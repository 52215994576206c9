package server

import (
	"context"
	"errors"
	"fmt"

	caseregistryv1 "github.com/nrm-albania/nrm/proto/nrm/caseregistry/v1"
	"github.com/nrm-albania/nrm/services/caseregistry/internal/domain"
	"github.com/nrm-albania/nrm/services/caseregistry/internal/store"
	"github.com/nrm-albania/nrm/services/platform/auth"
	"github.com/nrm-albania/nrm/services/platform/authz"
	"github.com/nrm-albania/nrm/services/platform/piicrypto"
)

// newDataKey gives a case its data key: a fresh one, wrapped by the primary master key and bound
// to the case id, stored in the key vault; or the key stored already (a retried registration,
// or a case whose identity is recorded later).
func (s *Server) newDataKey(ctx context.Context, caseID string) (piicrypto.DataKey, error) {
	key, wrapped, err := piicrypto.NewDataKey(s.keys, caseID)
	if err != nil {
		return piicrypto.DataKey{}, fmt.Errorf("data key of case %s: %w", caseID, err)
	}
	stored, err := s.store.StoreKey(ctx, caseID, wrapped)
	if err != nil {
		key.Destroy()
		return piicrypto.DataKey{}, err
	}
	if string(stored.Ciphertext) == string(wrapped.Ciphertext) {
		return key, nil
	}
	key.Destroy()
	return s.dataKey(ctx, caseID)
}

// dataKey unwraps the case's stored data key; store.ErrNotFound when it was destroyed.
func (s *Server) dataKey(ctx context.Context, caseID string) (piicrypto.DataKey, error) {
	wrapped, err := s.store.Key(ctx, caseID)
	if err != nil {
		return piicrypto.DataKey{}, err
	}
	key, err := piicrypto.Unwrap(s.keys, wrapped, caseID)
	if err != nil {
		return piicrypto.DataKey{}, fmt.Errorf("data key of case %s: %w", caseID, err)
	}
	return key, nil
}

// seal encrypts an identity, field by field, under the case's data key.
func seal(key piicrypto.DataKey, caseID string, id domain.Identity) (*domain.SealedIdentity, error) {
	out := &domain.SealedIdentity{Fields: map[string]piicrypto.Sealed{}}
	for field, value := range id.Fields() {
		if value == "" {
			continue
		}
		var err error
		if out.Fields[field], err = key.Seal(field, []byte(value)); err != nil {
			return nil, fmt.Errorf("seal %s of case %s: %w", field, caseID, err)
		}
	}
	return out, nil
}

// openIdentity decrypts the case's identity; store.ErrNotFound when its key was destroyed.
func (s *Server) openIdentity(ctx context.Context, c domain.Case) (domain.Identity, error) {
	key, err := s.dataKey(ctx, c.ID)
	if err != nil {
		return domain.Identity{}, err
	}
	defer key.Destroy()
	fields := map[string]string{}
	for field, sealed := range c.SealedIdentity.Fields {
		plain, err := key.Open(field, sealed)
		if err != nil {
			return domain.Identity{}, fmt.Errorf("open %s of case %s: %w", field, c.ID, err)
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
	if granted, err := s.store.Granted(ctx, c.ID, p.Institution); err != nil || granted {
		return granted, err
	}
	return s.store.ReferralGranted(ctx, c.ID, p.Institution, s.now())
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
	if _, stated := authz.StatedPurpose(ctx); !stated {
		return nil, caseregistryv1.IdentityView_IDENTITY_VIEW_PURPOSE_REQUIRED, nil
	}
	id, err := s.openIdentity(ctx, c)
	if errors.Is(err, store.ErrNotFound) {
		// The key was destroyed and the erasure's own commit has not landed (yet): the
		// identity is gone all the same.
		return nil, caseregistryv1.IdentityView_IDENTITY_VIEW_ERASED, nil
	}
	if err != nil {
		return nil, 0, err
	}
	return identityProto(id), caseregistryv1.IdentityView_IDENTITY_VIEW_VISIBLE, nil
}
