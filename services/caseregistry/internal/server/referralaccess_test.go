package server

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/timestamppb"

	caseregistryv1 "github.com/nrm-albania/nrm/proto/nrm/caseregistry/v1"
	eventsv1 "github.com/nrm-albania/nrm/proto/nrm/events/v1"
	referralv1 "github.com/nrm-albania/nrm/proto/nrm/referral/v1"
	"github.com/nrm-albania/nrm/services/platform/auth"
)

// referralEvent is the referral service's event of a referral of caseID to provider.
func referralEvent(t *testing.T, typ, referralID, caseID, provider string, version int64, previous referralv1.ReferralState, at time.Time) *eventsv1.Envelope {
	t.Helper()
	payload, err := anypb.New(&referralv1.ReferralChanged{ReferralId: referralID, Version: version, CaseId: caseID,
		ProviderCode: provider, PreviousState: previous})
	if err != nil {
		t.Fatal(err)
	}
	return &eventsv1.Envelope{Id: uuid.NewString(), Type: typ, AggregateId: referralID, AggregateVersion: version,
		OccurredAt: timestamppb.New(at), Payload: payload}
}

// An accepted referral lets its recipient see the identity (with a purpose) until it ends and a
// grace after; a referral ended without acceptance gives nothing; a late, older event changes
// nothing.
func TestReferralsGiveTheirRecipientAccessWhileAccepted(t *testing.T) {
	s, _, _ := newServer(t)
	now := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return now }
	req := request()
	req.Profile.AgeAtIdentification = nil
	req.Identity = marker
	resp, err := s.RegisterCase(asCaller(), req)
	if err != nil {
		t.Fatal(err)
	}
	caseID := resp.GetCase().GetId()
	viewOf := func(institution string) caseregistryv1.IdentityView {
		t.Helper()
		got, err := s.GetCase(as(&auth.Principal{Institution: institution, Subject: "s", Roles: []auth.Role{auth.RoleCaseworker}}, "assistance"),
			&caseregistryv1.GetCaseRequest{Id: caseID})
		if err != nil {
			t.Fatal(err)
		}
		return got.GetCase().GetIdentityView()
	}
	handle := s.ReferralAccess(7 * 24 * time.Hour)
	ctx := context.Background()
	ref, other := uuid.NewString(), uuid.NewString()
	pending, accepted := referralv1.ReferralState_REFERRAL_STATE_PENDING, referralv1.ReferralState_REFERRAL_STATE_ACCEPTED
	visible, withheld := caseregistryv1.IdentityView_IDENTITY_VIEW_VISIBLE, caseregistryv1.IdentityView_IDENTITY_VIEW_WITHHELD

	if v := viewOf("KKSAT"); v != withheld {
		t.Fatalf("before any referral: %s", v)
	}
	acceptance := referralEvent(t, "referral.accepted", ref, caseID, "KKSAT", 2, pending, now)
	if err := handle(ctx, acceptance); err != nil {
		t.Fatal(err)
	}
	if v := viewOf("KKSAT"); v != visible {
		t.Fatalf("accepted: %s", v)
	}
	if v := viewOf("SHSSH"); v != withheld {
		t.Errorf("another institution: %s", v)
	}
	// Cancelled while pending: it never gave access, and gives none.
	if err := handle(ctx, referralEvent(t, "referral.cancelled", other, caseID, "SHSSH", 2, pending, now)); err != nil {
		t.Fatal(err)
	}
	if v := viewOf("SHSSH"); v != withheld {
		t.Errorf("a referral cancelled before acceptance: %s", v)
	}
	if err := handle(ctx, referralEvent(t, "referral.completed", ref, caseID, "KKSAT", 3, accepted, now)); err != nil {
		t.Fatal(err)
	}
	// The acceptance redelivered late: older than the completion, it changes nothing.
	if err := handle(ctx, acceptance); err != nil {
		t.Fatal(err)
	}
	now = now.Add(6 * 24 * time.Hour)
	if v := viewOf("KKSAT"); v != visible {
		t.Errorf("completed, within the grace: %s", v)
	}
	now = now.Add(2 * 24 * time.Hour)
	if v := viewOf("KKSAT"); v != withheld {
		t.Errorf("completed, past the grace: %s", v)
	}
	if err := handle(ctx, referralEvent(t, "referral.overdue", ref, caseID, "KKSAT", 4, accepted, now)); err != nil {
		t.Errorf("an event of no concern: %v", err)
	}
	// A provider's event on the same stream has another payload: let go, not dead-lettered.
	provider, _ := anypb.New(&referralv1.ProviderChanged{Code: "KKSAT", Version: 2})
	if err := handle(ctx, &eventsv1.Envelope{Id: uuid.NewString(), Type: "referral.provider_changed", AggregateId: "KKSAT", Payload: provider}); err != nil {
		t.Errorf("a provider's event: %v", err)
	}
}
