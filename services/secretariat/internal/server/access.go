package server

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"google.golang.org/protobuf/types/known/timestamppb"

	secretariatv1 "github.com/nrm-albania/nrm/proto/nrm/secretariat/v1"
	"github.com/nrm-albania/nrm/services/platform/access"
	"github.com/nrm-albania/nrm/services/platform/apierr"
	"github.com/nrm-albania/nrm/services/platform/auth"
	"github.com/nrm-albania/nrm/services/platform/pagination"
	"github.com/nrm-albania/nrm/services/secretariat/internal/directory"
)

// Bounds of the free text the directory keeps.
const (
	maxName    = 200
	maxReason  = 500
	maxTokenID = 256
	// defaultTokenRevocation is how long a token revocation is kept when the caller does not
	// say when the token expires: longer than any token this system should accept.
	defaultTokenRevocation = 90 * 24 * time.Hour
)

// Access serves nrm.secretariat.v1.AccessService: it changes the store, then publishes the
// change to every service through the access bucket.
type Access struct {
	secretariatv1.UnimplementedAccessServiceServer
	store *directory.Store
	sync  *directory.Syncer
	now   func() time.Time
}

// NewAccess returns the service over st, publishing through sy.
func NewAccess(st *directory.Store, sy *directory.Syncer, now func() time.Time) *Access {
	return &Access{store: st, sync: sy, now: now}
}

// ListInstitutions returns a page of institutions in code order.
func (a *Access) ListInstitutions(ctx context.Context, req *secretariatv1.ListInstitutionsRequest) (*secretariatv1.ListInstitutionsResponse, error) {
	size, after, err := pagination.Parse(req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	page, err := a.store.Institutions(ctx, after, size+1)
	if err != nil {
		return nil, storeError(ctx, err)
	}
	resp := &secretariatv1.ListInstitutionsResponse{Institutions: []*secretariatv1.Institution{}}
	if len(page) > size {
		page = page[:size]
		resp.NextPageToken = pagination.Token(page[size-1].Code)
	}
	for _, inst := range page {
		resp.Institutions = append(resp.Institutions, institutionToProto(inst))
	}
	return resp, nil
}

// RegisterInstitution registers an institution, or answers a retry of the same registration.
func (a *Access) RegisterInstitution(ctx context.Context, req *secretariatv1.RegisterInstitutionRequest) (*secretariatv1.RegisterInstitutionResponse, error) {
	in := req.GetInstitution()
	var v apierr.Violations
	if err := auth.CheckInstitution(in.GetCode()); err != nil {
		v.Add("institution.code", "%s", err)
	}
	checkText(&v, "institution.name", in.GetName(), maxName, true)
	kind, ok := kindFromProto[in.GetKind()]
	if !ok {
		v.Add("institution.kind", "must be one of MEMBER, SECRETARIAT, INVITEE, PROVIDER, SERVICE")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	inst, err := a.store.Register(ctx, directory.Institution{Code: in.GetCode(), Name: in.GetName(), Kind: kind, UpdatedAt: a.now()})
	if errors.Is(err, directory.ErrExists) {
		return nil, apierr.AlreadyExists("INSTITUTION_EXISTS", "institution "+inst.Code+" is registered with another name or kind",
			map[string]string{"code": inst.Code})
	}
	if err != nil {
		return nil, storeError(ctx, err)
	}
	if err := a.publish(ctx, func(p *access.Publisher) error { return p.PutInstitution(ctx, inst.Published()) }); err != nil {
		return nil, err
	}
	return &secretariatv1.RegisterInstitutionResponse{Institution: institutionToProto(inst)}, nil
}

// DeactivateInstitution refuses an institution's credentials from now on.
func (a *Access) DeactivateInstitution(ctx context.Context, req *secretariatv1.DeactivateInstitutionRequest) (*secretariatv1.DeactivateInstitutionResponse, error) {
	if err := checkChange(req.GetCode(), req.GetReason()); err != nil {
		return nil, err
	}
	if p, ok := auth.FromContext(ctx); ok && p.Effective().Institution == req.GetCode() {
		// Nobody may lock their own institution out: another steward must do it.
		return nil, apierr.FailedPrecondition("OWN_INSTITUTION", "an institution cannot deactivate itself", map[string]string{"code": req.GetCode()})
	}
	inst, err := a.setActive(ctx, req.GetCode(), false)
	if err != nil {
		return nil, err
	}
	return &secretariatv1.DeactivateInstitutionResponse{Institution: inst}, nil
}

// ActivateInstitution accepts an institution's credentials again.
func (a *Access) ActivateInstitution(ctx context.Context, req *secretariatv1.ActivateInstitutionRequest) (*secretariatv1.ActivateInstitutionResponse, error) {
	if err := checkChange(req.GetCode(), req.GetReason()); err != nil {
		return nil, err
	}
	inst, err := a.setActive(ctx, req.GetCode(), true)
	if err != nil {
		return nil, err
	}
	return &secretariatv1.ActivateInstitutionResponse{Institution: inst}, nil
}

func (a *Access) setActive(ctx context.Context, code string, active bool) (*secretariatv1.Institution, error) {
	inst, err := a.store.SetActive(ctx, code, active, a.now())
	if errors.Is(err, directory.ErrNotFound) {
		return nil, apierr.NotFound("institution", code)
	}
	if err != nil {
		return nil, storeError(ctx, err)
	}
	if err := a.publish(ctx, func(p *access.Publisher) error { return p.PutInstitution(ctx, inst.Published()) }); err != nil {
		return nil, err
	}
	return institutionToProto(inst), nil
}

// RevokeToken revokes one token by its jti.
func (a *Access) RevokeToken(ctx context.Context, req *secretariatv1.RevokeTokenRequest) (*secretariatv1.RevokeTokenResponse, error) {
	now := a.now()
	var v apierr.Violations
	checkText(&v, "token_id", req.GetTokenId(), maxTokenID, true)
	checkText(&v, "reason", req.GetReason(), maxReason, true)
	expires := now.Add(defaultTokenRevocation)
	if req.GetExpireTime() != nil {
		if err := req.GetExpireTime().CheckValid(); err != nil {
			v.Add("expire_time", "is not a valid time")
		} else if expires = req.GetExpireTime().AsTime(); !expires.After(now) {
			v.Add("expire_time", "is not in the future: an expired token is refused anyway")
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	r := directory.Revocation{Key: access.TokenKey(req.GetTokenId()), Kind: directory.RevokedToken, TokenID: req.GetTokenId(),
		RevokedAt: now, ExpiresAt: expires.UTC(), Reason: req.GetReason(), RevokedBy: revoker(ctx)}
	if err := a.revoke(ctx, r, func(p *access.Publisher) error { return p.PutTokenRevocation(ctx, r.TokenID, r.ExpiresAt) }); err != nil {
		return nil, err
	}
	return &secretariatv1.RevokeTokenResponse{Revocation: revocationToProto(r)}, nil
}

// RevokeSubject revokes every credential of a subject issued until now.
func (a *Access) RevokeSubject(ctx context.Context, req *secretariatv1.RevokeSubjectRequest) (*secretariatv1.RevokeSubjectResponse, error) {
	var v apierr.Violations
	if err := auth.CheckInstitution(req.GetInstitution()); err != nil {
		v.Add("institution", "%s", err)
	}
	if err := auth.CheckSubject(req.GetSubject()); err != nil {
		v.Add("subject", "%s", err)
	}
	checkText(&v, "reason", req.GetReason(), maxReason, true)
	if err := v.Err(); err != nil {
		return nil, err
	}
	// Whole seconds: a token's iat has no finer precision, and a token issued in the second of
	// the revocation must be refused too.
	now := a.now().UTC().Truncate(time.Second).Add(time.Second - time.Nanosecond)
	r := directory.Revocation{Key: access.SubjectKey(req.GetInstitution(), req.GetSubject()), Kind: directory.RevokedSubject,
		Institution: req.GetInstitution(), Subject: req.GetSubject(), RevokedAt: now, Reason: req.GetReason(), RevokedBy: revoker(ctx)}
	if err := a.revoke(ctx, r, func(p *access.Publisher) error {
		return p.PutSubjectRevocation(ctx, r.Institution, r.Subject, r.RevokedAt)
	}); err != nil {
		return nil, err
	}
	return &secretariatv1.RevokeSubjectResponse{Revocation: revocationToProto(r)}, nil
}

// ListRevocations returns a page of the revocations in force.
func (a *Access) ListRevocations(ctx context.Context, req *secretariatv1.ListRevocationsRequest) (*secretariatv1.ListRevocationsResponse, error) {
	size, after, err := pagination.Parse(req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	page, err := a.store.Revocations(ctx, after, size+1)
	if err != nil {
		return nil, storeError(ctx, err)
	}
	resp := &secretariatv1.ListRevocationsResponse{Revocations: []*secretariatv1.Revocation{}}
	if len(page) > size {
		page = page[:size]
		resp.NextPageToken = pagination.Token(page[size-1].Key)
	}
	for _, r := range page {
		resp.Revocations = append(resp.Revocations, revocationToProto(r))
	}
	return resp, nil
}

func (a *Access) revoke(ctx context.Context, r directory.Revocation, put func(*access.Publisher) error) error {
	if err := a.store.Revoke(ctx, r); err != nil {
		return storeError(ctx, err)
	}
	return a.publish(ctx, put)
}

// publish puts a change the store has committed into the bucket. If that fails the change is
// kept and the next sync round publishes it; the caller is told to repeat the call (every
// change here is idempotent) to know it is in force now.
func (a *Access) publish(ctx context.Context, put func(*access.Publisher) error) error {
	p, err := a.sync.Publisher(ctx)
	if err == nil {
		err = put(p)
	}
	if err != nil {
		return apierr.Unavailable("the change is recorded but not yet in force in every service (the bus did not answer); repeat the call, or it takes effect within " +
			directory.DefaultSyncInterval.String())
	}
	return nil
}

func checkChange(code, reason string) error {
	var v apierr.Violations
	if err := auth.CheckInstitution(code); err != nil {
		v.Add("code", "%s", err)
	}
	checkText(&v, "reason", reason, maxReason, true)
	return v.Err()
}

// checkText checks a short text: required, bounded, valid UTF-8 without control characters
// (it is shown to operators and stewards).
func checkText(v *apierr.Violations, field, s string, maxLen int, required bool) {
	switch {
	case strings.TrimSpace(s) == "":
		if required {
			v.Add(field, "is required")
		}
	case len(s) > maxLen:
		v.Add(field, "is longer than %d bytes", maxLen)
	case !utf8.ValidString(s) || strings.ContainsFunc(s, unicode.IsControl):
		v.Add(field, "must be valid UTF-8 without control characters")
	}
}

func revoker(ctx context.Context) string {
	if p, ok := auth.FromContext(ctx); ok {
		e := p.Effective()
		return e.Institution + "/" + e.Subject
	}
	return ""
}

var kindFromProto = map[secretariatv1.InstitutionKind]access.Kind{
	secretariatv1.InstitutionKind_INSTITUTION_KIND_MEMBER:      access.KindMember,
	secretariatv1.InstitutionKind_INSTITUTION_KIND_SECRETARIAT: access.KindSecretariat,
	secretariatv1.InstitutionKind_INSTITUTION_KIND_INVITEE:     access.KindInvitee,
	secretariatv1.InstitutionKind_INSTITUTION_KIND_PROVIDER:    access.KindProvider,
	secretariatv1.InstitutionKind_INSTITUTION_KIND_SERVICE:     access.KindService,
}

func institutionToProto(i directory.Institution) *secretariatv1.Institution {
	out := &secretariatv1.Institution{Code: i.Code, Name: i.Name, Active: i.Active, UpdateTime: timestamppb.New(i.UpdatedAt)}
	for pk, k := range kindFromProto {
		if k == i.Kind {
			out.Kind = pk
		}
	}
	return out
}

func revocationToProto(r directory.Revocation) *secretariatv1.Revocation {
	out := &secretariatv1.Revocation{Kind: r.Kind, TokenId: r.TokenID, Institution: r.Institution, Subject: r.Subject,
		RevokeTime: timestamppb.New(r.RevokedAt), Reason: r.Reason, RevokedBy: r.RevokedBy}
	if !r.ExpiresAt.IsZero() {
		out.ExpireTime = timestamppb.New(r.ExpiresAt)
	}
	return out
}
