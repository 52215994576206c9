package server

import (
	"context"
	"errors"
	"slices"
	"strings"

	caseregistryv1 "github.com/nrm-albania/nrm/proto/nrm/caseregistry/v1"
	"github.com/nrm-albania/nrm/services/caseregistry/internal/domain"
	"github.com/nrm-albania/nrm/services/caseregistry/internal/store"
	"github.com/nrm-albania/nrm/services/platform/apierr"
	"github.com/nrm-albania/nrm/services/platform/auth"
	"github.com/nrm-albania/nrm/services/platform/piicrypto"
)

// EventUpdated is the type of the event a change of headings publishes.
const EventUpdated = "case.updated"

// UpdateCase changes the headings named in the field mask, based on an expected version.
func (s *Server) UpdateCase(ctx context.Context, req *caseregistryv1.UpdateCaseRequest) (*caseregistryv1.UpdateCaseResponse, error) {
	id, err := updatedCaseID(req)
	if err != nil {
		return nil, err
	}
	expected, err := expectedVersion(ctx, req.GetExpectedVersion())
	if err != nil {
		return nil, err
	}
	if expected == 0 {
		return nil, apierr.InvalidField("expected_version",
			"is required: the version the change is based on (REST: If-Match with the case's etag), so that it never overwrites a change it has not seen")
	}
	today := s.today()
	c, err := s.apply(ctx, id, expected, func(c domain.Case) (outcome, error) {
		if err := domain.CheckChangeable(c); err != nil {
			return outcome{}, err
		}
		cur := toProto(c)
		mayKnow, err := s.callerNeedsToKnow(ctx, c)
		if err != nil {
			return outcome{}, err
		}
		touchesIdentity := masks(req, "identity")
		if touchesIdentity && !mayKnow {
			return outcome{}, apierr.PermissionDenied("IDENTITY_NOT_NEEDED",
				"the identity is changed only by institutions that need to know it", map[string]string{"case_id": c.ID})
		}
		if touchesIdentity && c.IdentityErasedAt != nil {
			return outcome{}, apierr.FailedPrecondition("IDENTITY_ERASED", "the identity of this case was erased and cannot be recorded again",
				map[string]string{"case_id": c.ID})
		}
		// The date of birth is checked against the age and the identification date, so the
		// identity is opened (not shown) whenever one of them may change.
		if c.SealedIdentity != nil && (touchesIdentity || masks(req, "profile", "identification")) {
			id, err := s.openIdentity(ctx, c)
			switch {
			case errors.Is(err, store.ErrNotFound): // destroyed: nothing to check against
			case err != nil:
				return outcome{}, err
			default:
				cur.Identity = identityProto(id)
			}
		}
		u, err := domain.ApplyUpdate(cur, req, today)
		if err != nil {
			return outcome{}, err
		}
		if len(u.Fields) == 0 {
			return outcome{noop: true}, nil
		}
		next := c
		next.Profile, next.Trafficking, next.Identification = u.Profile, u.Trafficking, u.Identification
		if err := domain.CheckStatusHeadings(next); err != nil {
			return outcome{}, err
		}
		out := outcome{change: store.Change{Kind: caseregistryv1.ChangeKind_CHANGE_KIND_UPDATED.String(), Fields: u.Fields}}
		if slices.Contains(u.Headings, "identity") {
			// A new identity that is likely another case's person is refused as at registration;
			// one that keeps its indexes (a changed address, say) is not checked again.
			if u.Identity != nil && s.newIndexes(c, *u.Identity) {
				if err := s.checkDuplicates(ctx, req.GetConfirmedDifferentPerson(), req.GetDifferentPersonReason(), *u.Identity, c.ID); err != nil {
					return outcome{}, err
				}
			}
			if err := s.replaceIdentity(ctx, &next, u.Identity, &out); err != nil {
				return outcome{}, err
			}
		}
		out.next = next
		out.events = []event{{Type: EventUpdated, Payload: &caseregistryv1.CaseUpdated{
			CaseId: c.ID, CaseCode: c.Code, Version: c.Version + 1, Headings: u.Headings, Fields: u.Fields, Facts: facts(next),
		}}}
		return out, nil
	})
	if err != nil {
		return nil, err
	}
	return &caseregistryv1.UpdateCaseResponse{Case: s.respond(ctx, c)}, nil
}

// updatedCaseID is the case an update names: id, or case.id as before id existed (gRPC
// clients built then still send it). Both may be sent if they agree.
func updatedCaseID(req *caseregistryv1.UpdateCaseRequest) (string, error) {
	id, legacy := req.GetId(), req.GetCase().GetId()
	switch {
	case id == "" && legacy != "":
		return legacy, checkIDAt("case.id", legacy)
	case legacy != "" && legacy != id:
		return "", apierr.InvalidField("case.id", "names another case than id: send the id once, in id")
	}
	return id, checkIDAt("id", id)
}

// replaceIdentity seals the new identity (nil: remove it) into next and indexes it; the indexes
// it no longer has are cleared once the change has committed. Removing the identity erases it:
// once the change has committed, the data key is destroyed, so the revisions that hold it sealed
// can no longer be read (an erasure that EraseIdentity would refuse to undo; here a caller may
// record an identity again, under a new key). Should that clean-up fail, housekeeping destroys
// the key of a case without identity (destroyOrphanKeys).
func (s *Server) replaceIdentity(ctx context.Context, next *domain.Case, id *domain.Identity, out *outcome) error {
	old, hadIdentity := next.BlindIndexes, next.SealedIdentity != nil
	next.SealedIdentity, next.BlindIndexes = nil, nil
	// The key in the vault: the current identity's, or one left by a removal whose clean-up failed.
	stored, storedAt, err := s.store.KeyStoredAt(ctx, next.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		stored = piicrypto.WrappedKey{}
	case err != nil:
		return err
	}
	if id != nil {
		if !hadIdentity && stored.Ciphertext != nil && storedAt.Before(s.now().Add(-keyGrace)) {
			// A key left over must not seal again what it once sealed: a new identity gets a new
			// key. A younger key may be a concurrent writer's, about to commit: it is used.
			if err := s.store.DestroyKeyIf(ctx, next.ID, stored); err != nil {
				return err
			}
		}
		key, err := s.newDataKey(ctx, next.ID)
		if err != nil {
			return err
		}
		defer key.Destroy()
		if next.SealedIdentity, err = seal(key, next.ID, *id); err != nil {
			return err
		}
		entries := s.indexesToStore(next.ID, *id)
		for _, e := range entries {
			next.BlindIndexes = append(next.BlindIndexes, e.Index)
		}
		if err := s.store.AddIndexes(ctx, entries); err != nil {
			return err
		}
	}
	var gone []string
	for _, idx := range old {
		if !slices.Contains(next.BlindIndexes, idx) {
			gone = append(gone, idx)
		}
	}
	removed := id == nil && hadIdentity && stored.Ciphertext != nil
	if removed {
		out.change.Note = "identity removed; its data key destroyed"
	}
	if len(gone) > 0 || removed {
		caseID := next.ID
		out.after = func(ctx context.Context) error {
			var err error
			if removed {
				err = s.store.DestroyKeyIf(ctx, caseID, stored)
			}
			return errors.Join(err, s.store.RemoveIndexes(ctx, caseID, gone))
		}
	}
	return nil
}

// newIndexes reports whether the identity has a blind index the case is not stored under yet.
func (s *Server) newIndexes(c domain.Case, id domain.Identity) bool {
	for _, e := range s.indexesToStore(c.ID, id) {
		if !slices.Contains(c.BlindIndexes, e.Index) {
			return true
		}
	}
	return false
}

// masks reports whether the update's mask names one of the headings or a field inside one.
func masks(req *caseregistryv1.UpdateCaseRequest, headings ...string) bool {
	for _, p := range req.GetUpdateMask().GetPaths() {
		for _, h := range headings {
			if p == h || strings.HasPrefix(p, h+".") {
				return true
			}
		}
	}
	return false
}

// callerNeedsToKnow is needsToKnow for the caller of ctx.
func (s *Server) callerNeedsToKnow(ctx context.Context, c domain.Case) (bool, error) {
	p, ok := auth.FromContext(ctx)
	if !ok {
		return false, nil
	}
	return s.needsToKnow(ctx, p.Effective(), c)
}
