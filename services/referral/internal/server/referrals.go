package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	caseregistryv1 "github.com/nrm-albania/nrm/proto/nrm/caseregistry/v1"
	referralv1 "github.com/nrm-albania/nrm/proto/nrm/referral/v1"
	"github.com/nrm-albania/nrm/services/platform/aggregate"
	"github.com/nrm-albania/nrm/services/platform/apierr"
	"github.com/nrm-albania/nrm/services/platform/auth"
	"github.com/nrm-albania/nrm/services/platform/authz"
	"github.com/nrm-albania/nrm/services/platform/pagination"
	"github.com/nrm-albania/nrm/services/platform/piicrypto"
	"github.com/nrm-albania/nrm/services/referral/internal/cases"
	"github.com/nrm-albania/nrm/services/referral/internal/providers"
	"github.com/nrm-albania/nrm/services/referral/internal/referrals"
)

// Limits of the free text of a referral.
const (
	maxReason   = 2000
	maxNote     = 1000
	maxDecision = 200
	maxOverride = 500
)

// referralNamespace scopes referral ids derived from idempotency keys.
var referralNamespace = uuid.MustParse("3c0f6a1e-8d2b-4f57-a9c4-6e1b7d2f0a93")

// Sealed fields of a referral: the field names bind each ciphertext to its field.
const (
	fieldReason      = "reason"
	fieldOverride    = "override_reason"
	fieldDeclineNote = "decline_note"
	fieldOutcomeNote = "outcome_note"
	fieldServiceNote = "service_note"
)

// CreateReferral refers a case to a provider (see the proto for the rules).
func (s *Server) CreateReferral(ctx context.Context, req *referralv1.CreateReferralRequest) (*referralv1.CreateReferralResponse, error) {
	if err := validCreate(req); err != nil {
		return nil, err
	}
	key, err := aggregate.IdempotencyKey(ctx)
	if err != nil {
		return nil, err
	}
	who := caller(ctx)
	id := uuid.Must(uuid.NewV7()).String()
	var idem *referrals.Idempotency
	if key != "" {
		id = aggregate.KeyedID(referralNamespace, who.Institution, key)
		idem = &referrals.Idempotency{Key: key, RequestHash: s.fingerprint(req)}
		if stored, err := s.Referrals.Get(ctx, id); err == nil {
			return s.replay(ctx, stored, idem)
		} else if !errors.Is(err, aggregate.ErrNotFound) {
			return nil, err
		}
	}
	provider, err := s.recipient(ctx, req.GetProviderCode(), req.GetServiceType())
	if err != nil {
		return nil, err
	}
	c, err := s.Cases.Case(ctx, req.GetCaseId())
	if err != nil {
		return nil, err
	}
	overridden, err := consentFor(c, req, who)
	if err != nil {
		return nil, err
	}
	if _, stated := authz.StatedPurpose(ctx); overridden && !stated {
		// Referring without consent is recorded in the audit trail with why (a purpose code, and
		// a reference: the reason itself is free text, kept sealed in the referral).
		return nil, apierr.InvalidField(authz.PurposeKey, "is required to refer without consent: state the purpose (e.g. %s)", "referral;ref=<decision reference>")
	}
	// The call's audit record names the referral, with the case.
	authz.NoteObjects(ctx, id)
	now := s.stamp()
	r := referrals.Referral{
		ID: id, Version: 1, CaseID: c.ID, CaseCode: c.Code, ServiceType: req.GetServiceType().String(),
		ProviderCode: provider.Code, SenderInstitution: who.Institution, Urgency: req.GetUrgency().String(),
		State: referrals.Pending, Child: c.Child, ChildDecision: strings.TrimSpace(req.GetChildProtectionDecision()),
		ConsentOverridden: overridden, CreatedAt: now, UpdatedAt: now, Idempotency: idem,
		DueAt:   s.Deadlines.Due(now, req.GetServiceType(), req.GetUrgency()),
		Profile: referrals.Profile{Sex: c.Sex, AgeBand: c.AgeBand, Language: c.Language, ExploitationTypes: c.ExploitationTypes},
	}
	if err := s.seal(ctx, id, func(k piicrypto.DataKey) (err error) {
		if r.Reason, err = k.Seal(fieldReason, []byte(strings.TrimSpace(req.GetReason()))); err != nil || !overridden {
			return err
		}
		r.OverrideReason, err = k.Seal(fieldOverride, []byte(strings.TrimSpace(req.GetOverrideReason())))
		return err
	}); err != nil {
		return nil, err
	}
	if err := s.Referrals.Enlist(ctx, r); err != nil {
		return nil, err
	}
	if err := s.Referrals.MarkOpen(ctx, r); err != nil {
		return nil, err
	}
	events, err := aggregate.Envelop(ctx, r.ID, 1, []aggregate.Event{changed(r, "created", "")}, now)
	if err != nil {
		return nil, err
	}
	stored, err := s.Referrals.Create(ctx, r, referrals.Change{Kind: "created"}.By(who.Institution, who.Subject, now), events)
	switch {
	case errors.Is(err, aggregate.ErrExists): // a concurrent retry won
		return s.replay(ctx, stored, idem)
	case err != nil:
		return nil, err
	}
	s.Relay.Notify()
	s.Log.InfoContext(ctx, "referral created", "referral_id", r.ID, "case_id", r.CaseID, "provider_code", r.ProviderCode,
		"service_type", r.ServiceType, "consent_overridden", overridden)
	return &referralv1.CreateReferralResponse{Referral: s.respondReferral(ctx, stored)}, nil
}

func validCreate(req *referralv1.CreateReferralRequest) error {
	var v apierr.Violations
	if req.GetCaseId() == "" {
		v.Add("case_id", "is required")
	}
	if !providers.Known(referralv1.ServiceType_name, req.GetServiceType()) {
		v.Add("service_type", "is required: a SERVICE_TYPE_* value")
	}
	if err := providers.CheckCode("provider_code", req.GetProviderCode()); err != nil {
		v.Add("provider_code", "must be a provider's institution code")
	}
	if !providers.Known(referralv1.ReferralUrgency_name, req.GetUrgency()) {
		v.Add("urgency", "is required: REFERRAL_URGENCY_EMERGENCY or REFERRAL_URGENCY_STANDARD")
	}
	text(&v, "reason", req.GetReason(), 1, maxReason)
	text(&v, "child_protection_decision", req.GetChildProtectionDecision(), 0, maxDecision)
	text(&v, "override_reason", req.GetOverrideReason(), 0, maxOverride)
	return v.Err()
}

// text checks free text: min to max characters once trimmed, no control characters but line
// breaks and tabs.
func text(v *apierr.Violations, field, s string, min, max int) {
	s = strings.TrimSpace(s)
	n := utf8.RuneCountInString(s)
	if n < min || n > max || !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool {
		return (r < 0x20 && r != '\n' && r != '\t' && r != '\r') || r == 0x7f
	}) {
		if min > 0 {
			v.Add(field, "is required: %d to %d characters of text", min, max)
		} else {
			v.Add(field, "must be at most %d characters of text", max)
		}
	}
}

// recipient is the provider a referral goes to: known, active, and offering the service.
func (s *Server) recipient(ctx context.Context, code string, service referralv1.ServiceType) (providers.Provider, error) {
	p, err := s.Providers.Get(ctx, code)
	switch {
	case errors.Is(err, aggregate.ErrNotFound):
		return p, apierr.FailedPrecondition("PROVIDER_UNKNOWN",
			fmt.Sprintf("%s is not in the providers' directory (GET /v1/providers)", code), map[string]string{"provider_code": code})
	case err != nil:
		return p, err
	case !p.Active:
		return p, apierr.FailedPrecondition("PROVIDER_INACTIVE",
			fmt.Sprintf("%s receives no referrals: it is inactive", code), map[string]string{"provider_code": code})
	case !p.Offers(service.String()):
		return p, apierr.FailedPrecondition("SERVICE_NOT_OFFERED",
			fmt.Sprintf("%s does not offer %s", code, service), map[string]string{"provider_code": code, "service_type": service.String()})
	}
	return p, nil
}

// consentFor decides whether the case may be referred: a child with the child-protection
// decision named; an adult with consent to referral in force, or on the chair's override. It
// reports whether consent was overridden.
func consentFor(c cases.Case, req *referralv1.CreateReferralRequest, who *auth.Principal) (bool, error) {
	decision := strings.TrimSpace(req.GetChildProtectionDecision())
	override := strings.TrimSpace(req.GetOverrideReason())
	meta := map[string]string{"case_id": c.ID, "referral_consent": c.ReferralConsent}
	switch {
	case c.Closed:
		return false, apierr.FailedPrecondition("CASE_CLOSED", fmt.Sprintf("case %s is closed: reopen it to refer it", c.Code), meta)
	case c.Child:
		if decision == "" {
			return false, apierr.InvalidField("child_protection_decision",
				"is required: case %s is a child's, for whom the child-protection decision stands in for consent", c.Code)
		}
		if override != "" {
			return false, apierr.InvalidField("override_reason", "applies to adults only: a child's referral rests on the child-protection decision")
		}
		return false, nil
	case decision != "":
		return false, apierr.InvalidField("child_protection_decision", "applies to children only: case %s is an adult's", c.Code)
	case c.ReferralConsent == caseregistryv1.ConsentDecision_CONSENT_DECISION_GIVEN.String():
		if override != "" {
			return false, apierr.InvalidField("override_reason", "is for referring without consent; consent to referral is in force")
		}
		return false, nil
	case override == "":
		return false, apierr.FailedPrecondition("CONSENT_REQUIRED",
			fmt.Sprintf("the person of case %s has not consented to referral (record it with RecordConsent); only the chair may refer without, giving override_reason", c.Code), meta)
	case !who.Has(auth.RoleChair):
		return false, apierr.PermissionDenied("OVERRIDE_CHAIR_ONLY", "only the chair may refer a person without their consent", meta)
	}
	return true, nil
}

// replay answers a retried creation with the referral the first attempt made, or refuses a
// reused key whose request differs.
func (s *Server) replay(ctx context.Context, stored referrals.Referral, retry *referrals.Idempotency) (*referralv1.CreateReferralResponse, error) {
	if stored.Idempotency == nil || retry == nil || !bytes.Equal(stored.Idempotency.RequestHash, retry.RequestHash) {
		return nil, apierr.FailedPrecondition("IDEMPOTENCY_KEY_REUSED",
			"the idempotency key was already used for a different referral; use a new key", map[string]string{"referral_id": stored.ID})
	}
	return &referralv1.CreateReferralResponse{Referral: s.respondReferral(ctx, stored)}, nil
}

// fingerprint identifies a request's content, keyed (the request holds free text whose few
// plausible values a plain hash would let anyone confirm).
func (s *Server) fingerprint(req *referralv1.CreateReferralRequest) []byte {
	b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(req)
	sum := sha256.Sum256(b)
	return []byte(piicrypto.DocumentIndex(s.Index, "referral-request", hex.EncodeToString(sum[:])))
}

// seal gives the referral its data key (or takes the one a first attempt stored) and lets fill
// seal its fields under it.
func (s *Server) seal(ctx context.Context, id string, fill func(piicrypto.DataKey) error) error {
	key, wrapped, err := piicrypto.NewDataKey(s.Keys, id)
	if err != nil {
		return err
	}
	key.Destroy()
	stored, err := s.Referrals.StoreKey(ctx, id, wrapped)
	if err != nil {
		return err
	}
	k, err := piicrypto.Unwrap(s.Keys, stored, id)
	if err != nil {
		return fmt.Errorf("data key of referral %s: %w", id, err)
	}
	defer k.Destroy()
	return fill(k)
}

// GetReferral returns a referral to those involved.
func (s *Server) GetReferral(ctx context.Context, req *referralv1.GetReferralRequest) (*referralv1.GetReferralResponse, error) {
	r, err := s.involved(ctx, req.GetId())
	if err != nil {
		return nil, err
	}
	return &referralv1.GetReferralResponse{Referral: s.respondReferral(ctx, r)}, nil
}

// involved loads a referral the caller is involved in: its sender, its recipient, or a steward.
func (s *Server) involved(ctx context.Context, id string) (referrals.Referral, error) {
	if _, err := uuid.Parse(id); err != nil {
		return referrals.Referral{}, apierr.InvalidField("id", "must be a referral id (a UUID)")
	}
	r, err := s.Referrals.Get(ctx, id)
	if errors.Is(err, aggregate.ErrNotFound) {
		return r, apierr.NotFound("referral", id)
	}
	if err != nil {
		return r, err
	}
	return r, mayRead(caller(ctx), r)
}

func mayRead(who *auth.Principal, r referrals.Referral) error {
	if steward(who) || who.Institution == r.SenderInstitution || who.Institution == r.ProviderCode {
		return nil
	}
	return apierr.PermissionDenied("NOT_INVOLVED",
		fmt.Sprintf("%s is neither the sender nor the recipient of referral %s", who.Institution, r.ID), map[string]string{"referral_id": r.ID})
}

func steward(p *auth.Principal) bool { return p.Has(auth.RoleChair) || p.Has(auth.RoleSecretariat) }

// ListCaseReferrals lists a case's referrals the caller is involved in (every one for the
// stewards), oldest first; the page token carries the position in the case's list.
func (s *Server) ListCaseReferrals(ctx context.Context, req *referralv1.ListCaseReferralsRequest) (*referralv1.ListCaseReferralsResponse, error) {
	if _, err := uuid.Parse(req.GetCaseId()); err != nil {
		return nil, apierr.InvalidField("case_id", "must be a case id (a UUID)")
	}
	size, after, err := pagination.ParsePosition(req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	rs, last, more, err := s.Referrals.OfCase(ctx, req.GetCaseId(), after, size)
	if err != nil {
		return nil, err
	}
	who := caller(ctx)
	resp := &referralv1.ListCaseReferralsResponse{Referrals: []*referralv1.Referral{}}
	for _, r := range rs {
		if mayRead(who, r) == nil {
			resp.Referrals = append(resp.Referrals, s.view(ctx, r))
		}
	}
	if more {
		resp.NextPageToken = pagination.PositionToken(last)
	}
	return resp, nil
}

// AcceptReferral: the recipient accepts.
func (s *Server) AcceptReferral(ctx context.Context, req *referralv1.AcceptReferralRequest) (*referralv1.AcceptReferralResponse, error) {
	r, err := s.transition(ctx, req.GetId(), req.GetExpectedVersion(), referrals.Accept, nil)
	if err != nil {
		return nil, err
	}
	return &referralv1.AcceptReferralResponse{Referral: s.respondReferral(ctx, r)}, nil
}

// DeclineReferral: the recipient declines, with a reason.
func (s *Server) DeclineReferral(ctx context.Context, req *referralv1.DeclineReferralRequest) (*referralv1.DeclineReferralResponse, error) {
	var v apierr.Violations
	if !providers.Known(referralv1.DeclineReason_name, req.GetReason()) {
		v.Add("reason", "is required: a DECLINE_REASON_* value")
	}
	text(&v, "note", req.GetNote(), 0, maxNote)
	if req.GetReason() == referralv1.DeclineReason_DECLINE_REASON_OTHER && strings.TrimSpace(req.GetNote()) == "" {
		v.Add("note", "is required with DECLINE_REASON_OTHER")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	r, err := s.transition(ctx, req.GetId(), req.GetExpectedVersion(), referrals.Decline, func(r *referrals.Referral, k piicrypto.DataKey) (err error) {
		r.DeclineReason = req.GetReason().String()
		if note := strings.TrimSpace(req.GetNote()); note != "" {
			r.DeclineNote, err = k.Seal(fieldDeclineNote, []byte(note))
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return &referralv1.DeclineReferralResponse{Referral: s.respondReferral(ctx, r)}, nil
}

// CancelReferral: the sender cancels.
func (s *Server) CancelReferral(ctx context.Context, req *referralv1.CancelReferralRequest) (*referralv1.CancelReferralResponse, error) {
	r, err := s.transition(ctx, req.GetId(), req.GetExpectedVersion(), referrals.Cancel, nil)
	if err != nil {
		return nil, err
	}
	return &referralv1.CancelReferralResponse{Referral: s.respondReferral(ctx, r)}, nil
}

// CompleteReferral: the recipient completes, with the outcome.
func (s *Server) CompleteReferral(ctx context.Context, req *referralv1.CompleteReferralRequest) (*referralv1.CompleteReferralResponse, error) {
	var v apierr.Violations
	if !providers.Known(referralv1.ReferralOutcome_name, req.GetOutcome()) {
		v.Add("outcome", "is required: a REFERRAL_OUTCOME_* value")
	}
	text(&v, "note", req.GetNote(), 0, maxNote)
	if req.GetOutcome() == referralv1.ReferralOutcome_REFERRAL_OUTCOME_NOT_DELIVERED && strings.TrimSpace(req.GetNote()) == "" {
		v.Add("note", "is required with REFERRAL_OUTCOME_NOT_DELIVERED: say why")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	r, err := s.transition(ctx, req.GetId(), req.GetExpectedVersion(), referrals.Complete, func(r *referrals.Referral, k piicrypto.DataKey) (err error) {
		r.Outcome = req.GetOutcome().String()
		if note := strings.TrimSpace(req.GetNote()); note != "" {
			r.OutcomeNote, err = k.Seal(fieldOutcomeNote, []byte(note))
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return &referralv1.CompleteReferralResponse{Referral: s.respondReferral(ctx, r)}, nil
}

// transition moves a referral by t as the caller, filling in the move's own fields (sealed
// under the referral's key) with fill, on the version the caller names.
func (s *Server) transition(ctx context.Context, id string, field int64, t referrals.Transition, fill func(*referrals.Referral, piicrypto.DataKey) error) (referrals.Referral, error) {
	if _, err := uuid.Parse(id); err != nil {
		return referrals.Referral{}, apierr.InvalidField("id", "must be a referral id (a UUID)")
	}
	expected, err := aggregate.ExpectedVersion(ctx, "expected_version", field)
	if err != nil {
		return referrals.Referral{}, err
	}
	who := caller(ctx)
	r, committed, err := s.Referrals.Execute(ctx, aggregate.Command[referrals.Referral, referrals.Change]{
		ID: id, Expected: expected, At: s.now(),
		Admit: func(r referrals.Referral) error { return mayRead(who, r) },
		Decide: func(r referrals.Referral) (aggregate.Outcome[referrals.Referral, referrals.Change], error) {
			previous := r.State
			next, err := t.Apply(r, who.Institution, steward(who))
			if err != nil {
				return aggregate.Outcome[referrals.Referral, referrals.Change]{}, err
			}
			if fill != nil {
				if err := s.withKey(ctx, r.ID, func(k piicrypto.DataKey) error { return fill(&next, k) }); err != nil {
					return aggregate.Outcome[referrals.Referral, referrals.Change]{}, err
				}
			}
			next.Version++ // the version Execute gives it, for the event
			return aggregate.Outcome[referrals.Referral, referrals.Change]{Next: next, Change: referrals.Change{Kind: t.Kind},
				Events: []aggregate.Event{changed(next, t.Kind, previous)}}, nil
		},
	})
	if err != nil {
		return r, err
	}
	if committed {
		s.committed(ctx, r, t.Kind)
	}
	return r, nil
}

// committed follows a committed change of r: the relay is woken, and a referral no longer
// pending leaves the deadline sweep's entries (or the sweep drops it).
func (s *Server) committed(ctx context.Context, r referrals.Referral, kind string) {
	s.Relay.Notify()
	if r.State != referrals.Pending {
		if err := s.Referrals.MarkAnswered(ctx, r.ID); err != nil {
			s.Log.WarnContext(ctx, "the pending entry of a referral was not dropped; the sweep will", "referral_id", r.ID, "error", err)
		}
	}
	s.Log.InfoContext(ctx, "referral "+kind, "referral_id", r.ID, "case_id", r.CaseID, "version", r.Version, "state", r.State)
}

// withKey unwraps the referral's data key for use.
func (s *Server) withKey(ctx context.Context, id string, use func(piicrypto.DataKey) error) error {
	w, err := s.Referrals.Key(ctx, id)
	if err != nil {
		return fmt.Errorf("data key of referral %s: %w", id, err)
	}
	k, err := piicrypto.Unwrap(s.Keys, w, id)
	if err != nil {
		return fmt.Errorf("data key of referral %s: %w", id, err)
	}
	defer k.Destroy()
	return use(k)
}

// changed is the event of a referral's change: ids, codes and states only.
func changed(r referrals.Referral, kind, previous string) aggregate.Event {
	e := &referralv1.ReferralChanged{
		ReferralId: r.ID, Version: r.Version, CaseId: r.CaseID, CaseCode: r.CaseCode,
		ServiceType:  referralv1.ServiceType(referralv1.ServiceType_value[r.ServiceType]),
		ProviderCode: r.ProviderCode, SenderInstitution: r.SenderInstitution,
		Urgency:       referralv1.ReferralUrgency(referralv1.ReferralUrgency_value[r.Urgency]),
		State:         referralv1.ReferralState(referralv1.ReferralState_value[r.State]),
		PreviousState: referralv1.ReferralState(referralv1.ReferralState_value[previous]),
		DeclineReason: referralv1.DeclineReason(referralv1.DeclineReason_value[r.DeclineReason]),
		Outcome:       referralv1.ReferralOutcome(referralv1.ReferralOutcome_value[r.Outcome]),
		Child:         r.Child, ConsentOverridden: r.ConsentOverridden, CreatedAt: timestamppb.New(r.CreatedAt),
		DueAt: timestamppb.New(r.DueAt), Overdue: r.Overdue,
	}
	return aggregate.Event{Type: "referral." + kind, Payload: e}
}

// respondReferral renders a referral and sends its etag.
func (s *Server) respondReferral(ctx context.Context, r referrals.Referral) *referralv1.Referral {
	aggregate.SendETag(ctx, r.Version)
	return s.view(ctx, r)
}

// view renders a referral for the caller: its free text only with a stated purpose (the call's
// audit record names it), to those involved.
func (s *Server) view(ctx context.Context, r referrals.Referral) *referralv1.Referral {
	out := &referralv1.Referral{
		Id: r.ID, CaseId: r.CaseID, CaseCode: r.CaseCode,
		ServiceType:  referralv1.ServiceType(referralv1.ServiceType_value[r.ServiceType]),
		ProviderCode: r.ProviderCode, SenderInstitution: r.SenderInstitution,
		Urgency: referralv1.ReferralUrgency(referralv1.ReferralUrgency_value[r.Urgency]),
		State:   referralv1.ReferralState(referralv1.ReferralState_value[r.State]),
		Child:   r.Child, ChildProtectionDecision: r.ChildDecision, ConsentOverridden: r.ConsentOverridden,
		DeclineReason: referralv1.DeclineReason(referralv1.DeclineReason_value[r.DeclineReason]),
		Outcome:       referralv1.ReferralOutcome(referralv1.ReferralOutcome_value[r.Outcome]),
		CreatedAt:     timestamppb.New(r.CreatedAt), UpdatedAt: timestamppb.New(r.UpdatedAt),
		Version: r.Version, Etag: aggregate.ETag(r.Version), ReasonWithheld: true,
		DueAt: timestamppb.New(r.DueAt), Overdue: r.Overdue,
	}
	out.Profile = &referralv1.ReferralProfile{
		Sex:             caseregistryv1.Sex(caseregistryv1.Sex_value[r.Profile.Sex]),
		AgeBand:         caseregistryv1.AgeBand(caseregistryv1.AgeBand_value[r.Profile.AgeBand]),
		PrimaryLanguage: r.Profile.Language,
	}
	for _, t := range r.Profile.ExploitationTypes {
		out.Profile.ExploitationTypes = append(out.Profile.ExploitationTypes, caseregistryv1.ExploitationType(caseregistryv1.ExploitationType_value[t]))
	}
	for _, sv := range r.Services {
		out.Services = append(out.Services, serviceProto(sv))
	}
	if _, stated := authz.StatedPurpose(ctx); !stated {
		return out
	}
	err := s.withKey(ctx, r.ID, func(k piicrypto.DataKey) error {
		for _, f := range []struct {
			name   string
			sealed piicrypto.Sealed
			into   *string
		}{
			{fieldReason, r.Reason, &out.Reason}, {fieldOverride, r.OverrideReason, &out.OverrideReason},
			{fieldDeclineNote, r.DeclineNote, &out.DeclineNote}, {fieldOutcomeNote, r.OutcomeNote, &out.OutcomeNote},
		} {
			if len(f.sealed) == 0 {
				continue
			}
			plain, err := k.Open(f.name, f.sealed)
			if err != nil {
				return err
			}
			*f.into = string(plain)
		}
		for i, sv := range r.Services {
			if len(sv.Note) == 0 {
				continue
			}
			plain, err := k.Open(fieldServiceNote, sv.Note)
			if err != nil {
				return err
			}
			out.Services[i].Note = string(plain)
		}
		return nil
	})
	if err != nil {
		// The pseudonymous record is still right; the text stays hidden and an operator looks.
		s.Log.ErrorContext(ctx, "the text of a referral could not be opened", "referral_id", r.ID, "error", err)
		out.Reason, out.OverrideReason, out.DeclineNote, out.OutcomeNote = "", "", "", ""
		for _, sv := range out.Services {
			sv.Note = ""
		}
		return out
	}
	out.ReasonWithheld = false
	return out
}
