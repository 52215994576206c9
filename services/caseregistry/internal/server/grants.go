package server

import (
	"context"
	"strings"

	caseregistryv1 "github.com/nrm-albania/nrm/proto/nrm/caseregistry/v1"
	"github.com/nrm-albania/nrm/services/caseregistry/internal/domain"
	"github.com/nrm-albania/nrm/services/platform/apierr"
)

// GrantIdentityAccess lets an institution see a case's identity.
func (s *Server) GrantIdentityAccess(ctx context.Context, req *caseregistryv1.GrantIdentityAccessRequest) (*caseregistryv1.GrantIdentityAccessResponse, error) {
	var v apierr.Violations
	if err := checkID(req.GetId()); err != nil {
		v.Add("id", "must be a case id (a UUID)")
	}
	checkInstitution(&v, req.GetInstitution())
	if r := strings.TrimSpace(req.GetReason()); r == "" || len(r) > 200 {
		v.Add("reason", "state why, 1 to 200 characters (no personal data)")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if _, err := s.existingCase(ctx, req.GetId()); err != nil {
		return nil, err
	}
	if err := s.store.Grant(ctx, req.GetId(), req.GetInstitution(), strings.TrimSpace(req.GetReason()), s.now()); err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "identity access granted", "case_id", req.GetId(), "institution", req.GetInstitution())
	return &caseregistryv1.GrantIdentityAccessResponse{}, nil
}

// RevokeIdentityAccess ends a grant.
func (s *Server) RevokeIdentityAccess(ctx context.Context, req *caseregistryv1.RevokeIdentityAccessRequest) (*caseregistryv1.RevokeIdentityAccessResponse, error) {
	var v apierr.Violations
	if err := checkID(req.GetId()); err != nil {
		v.Add("id", "must be a case id (a UUID)")
	}
	checkInstitution(&v, req.GetInstitution())
	if err := v.Err(); err != nil {
		return nil, err
	}
	if _, err := s.existingCase(ctx, req.GetId()); err != nil {
		return nil, err
	}
	if err := s.store.Revoke(ctx, req.GetId(), req.GetInstitution()); err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "identity access revoked", "case_id", req.GetId(), "institution", req.GetInstitution())
	return &caseregistryv1.RevokeIdentityAccessResponse{}, nil
}

func checkInstitution(v *apierr.Violations, code string) {
	if code == "" || len(code) > domain.MaxInstitutionCode || !domain.InstitutionCode(code) {
		v.Add("institution", "must be an institution code, e.g. KKSAT")
	}
}
