package server

import (
	"bytes"
	"context"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	caseregistryv1 "github.com/nrm-albania/nrm/proto/nrm/caseregistry/v1"
	"github.com/nrm-albania/nrm/services/caseregistry/internal/store"
	"github.com/nrm-albania/nrm/services/platform/auth"
	"github.com/nrm-albania/nrm/services/platform/authz"
)

var marker = &caseregistryv1.Identity{GivenName: "Zamira", FamilyName: "MARKERFAMILY", DateOfBirth: "2002-03-04",
	DocumentNumber: "MARKERDOC99", Notes: "MARKERNOTE met at the border"}

func as(p *auth.Principal, purpose string) context.Context {
	ctx := auth.NewContext(context.Background(), p)
	if purpose != "" {
		ctx = authz.WithPurpose(ctx, authz.Purpose{Code: purpose})
	}
	return ctx
}

func TestIdentityIsSealedAndShownOnlyToThoseWhoNeedToKnow(t *testing.T) {
	s, db, _ := newServer(t)
	req := request()
	req.Profile.AgeAtIdentification = nil
	req.Identity = marker
	resp, err := s.RegisterCase(asCaller(), req)
	if err != nil {
		t.Fatal(err)
	}
	id := resp.GetCase().GetId()

	// Nothing of the identity is readable in the stored document.
	raw, err := db.Collection(store.Collection).FindOne(context.Background(), bson.D{{Key: "_id", Value: id}}).Raw()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"MARKERFAMILY", "MARKERDOC99", "MARKERNOTE", "Zamira", "2002-03-04"} {
		if bytesContain(raw, m) {
			t.Errorf("%q is readable in the stored case", m)
		}
	}

	police := &auth.Principal{Institution: "ASP-ANTITRAF", Subject: "o", Roles: []auth.Role{auth.RoleCaseworker}}
	shelter := &auth.Principal{Institution: "KKSAT", Subject: "s", Roles: []auth.Role{auth.RoleCaseworker}}
	secretariat := &auth.Principal{Institution: "MB-SEKRETARIATI", Subject: "x", Roles: []auth.Role{auth.RoleSecretariat}}
	for _, tt := range []struct {
		name string
		ctx  context.Context
		want caseregistryv1.IdentityView
	}{
		{"owner with a purpose", as(police, "referral"), caseregistryv1.IdentityView_IDENTITY_VIEW_VISIBLE},
		{"owner without a purpose", as(police, ""), caseregistryv1.IdentityView_IDENTITY_VIEW_PURPOSE_REQUIRED},
		{"another institution", as(shelter, "referral"), caseregistryv1.IdentityView_IDENTITY_VIEW_WITHHELD},
		{"the secretariat", as(secretariat, "case-management"), caseregistryv1.IdentityView_IDENTITY_VIEW_VISIBLE},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.GetCase(tt.ctx, &caseregistryv1.GetCaseRequest{Id: id})
			if err != nil {
				t.Fatal(err)
			}
			c := got.GetCase()
			if c.GetIdentityView() != tt.want {
				t.Fatalf("view %s, want %s", c.GetIdentityView(), tt.want)
			}
			if visible := tt.want == caseregistryv1.IdentityView_IDENTITY_VIEW_VISIBLE; visible != (c.GetIdentity() != nil) {
				t.Fatalf("identity %v with view %s", c.GetIdentity(), c.GetIdentityView())
			}
			if c.GetIdentity() != nil && (c.GetIdentity().GetFamilyName() != "MARKERFAMILY" || c.GetIdentity().GetNotes() != marker.GetNotes()) {
				t.Errorf("identity %v, want the registered one", c.GetIdentity())
			}
		})
	}
}

func TestErasureDestroysTheIdentityForGood(t *testing.T) {
	s, db, _ := newServer(t)
	req := request()
	req.Profile.AgeAtIdentification = nil
	req.Identity = marker
	resp, err := s.RegisterCase(asCaller(), req)
	if err != nil {
		t.Fatal(err)
	}
	id := resp.GetCase().GetId()
	secretariat := &auth.Principal{Institution: "MB-SEKRETARIATI", Subject: "x", Roles: []auth.Role{auth.RoleSecretariat}}

	if _, err := s.EraseIdentity(as(secretariat, ""), &caseregistryv1.EraseIdentityRequest{Id: id}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("erasure without a basis: %v, want InvalidArgument", err)
	}
	erased, err := s.EraseIdentity(as(secretariat, ""), &caseregistryv1.EraseIdentityRequest{Id: id, Reason: "request of the person"})
	if err != nil {
		t.Fatal(err)
	}
	if c := erased.GetCase(); c.GetIdentityView() != caseregistryv1.IdentityView_IDENTITY_VIEW_ERASED || c.GetVersion() != 2 {
		t.Errorf("after erasure: view %s, version %d", c.GetIdentityView(), c.GetVersion())
	}
	got, err := s.GetCase(as(secretariat, "case-management"), &caseregistryv1.GetCaseRequest{Id: id})
	if err != nil || got.GetCase().GetIdentity() != nil || got.GetCase().GetIdentityView() != caseregistryv1.IdentityView_IDENTITY_VIEW_ERASED {
		t.Fatalf("GetCase after erasure: %v, %v", got, err)
	}
	if got.GetCase().GetProfile().GetSex() != req.GetProfile().GetSex() {
		t.Error("the pseudonymous record did not survive the erasure")
	}
	raw, err := db.Collection(store.Collection).FindOne(context.Background(), bson.D{{Key: "_id", Value: id}}).Raw()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.LookupErr("identity"); err == nil {
		t.Error("the sealed identity (and its wrapped key) is still stored")
	}
	again, err := s.EraseIdentity(as(secretariat, ""), &caseregistryv1.EraseIdentityRequest{Id: id, Reason: "again"})
	if err != nil || again.GetCase().GetVersion() != 2 {
		t.Errorf("a second erasure: %v, version %d; want a no-op", err, again.GetCase().GetVersion())
	}
	if _, err := s.EraseIdentity(as(secretariat, ""), &caseregistryv1.EraseIdentityRequest{Id: "0190a3c4-0000-7000-8000-000000000000", Reason: "x"}); status.Code(err) != codes.NotFound {
		t.Errorf("erasing an unknown case: %v", err)
	}
}

func bytesContain(raw bson.Raw, s string) bool { return bytes.Contains(raw, []byte(s)) }

// A granted institution sees the identity (with a purpose) until the grant is revoked.
func TestGrantedInstitutionsNeedToKnow(t *testing.T) {
	s, _, _ := newServer(t)
	req := request()
	req.Profile.AgeAtIdentification = nil
	req.Identity = marker
	resp, err := s.RegisterCase(asCaller(), req)
	if err != nil {
		t.Fatal(err)
	}
	id := resp.GetCase().GetId()
	shelter := &auth.Principal{Institution: "KKSAT", Subject: "s", Roles: []auth.Role{auth.RoleCaseworker}}
	secretariat := &auth.Principal{Institution: "MB-SEKRETARIATI", Subject: "x", Roles: []auth.Role{auth.RoleSecretariat}}
	viewOf := func() caseregistryv1.IdentityView {
		t.Helper()
		got, err := s.GetCase(as(shelter, "assistance"), &caseregistryv1.GetCaseRequest{Id: id})
		if err != nil {
			t.Fatal(err)
		}
		return got.GetCase().GetIdentityView()
	}
	if v := viewOf(); v != caseregistryv1.IdentityView_IDENTITY_VIEW_WITHHELD {
		t.Fatalf("before the grant: %s", v)
	}
	for range 2 { // granting twice is a no-op
		if _, err := s.GrantIdentityAccess(as(secretariat, ""), &caseregistryv1.GrantIdentityAccessRequest{Id: id, Institution: "KKSAT", Reason: "placement in a KKSAT shelter"}); err != nil {
			t.Fatal(err)
		}
	}
	if v := viewOf(); v != caseregistryv1.IdentityView_IDENTITY_VIEW_VISIBLE {
		t.Errorf("after the grant: %s", v)
	}
	if _, err := s.RevokeIdentityAccess(as(secretariat, ""), &caseregistryv1.RevokeIdentityAccessRequest{Id: id, Institution: "KKSAT"}); err != nil {
		t.Fatal(err)
	}
	if v := viewOf(); v != caseregistryv1.IdentityView_IDENTITY_VIEW_WITHHELD {
		t.Errorf("after the revocation: %s", v)
	}
	for name, req := range map[string]*caseregistryv1.GrantIdentityAccessRequest{
		"no reason":       {Id: id, Institution: "KKSAT"},
		"bad institution": {Id: id, Institution: "kksat", Reason: "r"},
		"bad id":          {Id: "x", Institution: "KKSAT", Reason: "r"},
	} {
		if _, err := s.GrantIdentityAccess(as(secretariat, ""), req); status.Code(err) != codes.InvalidArgument {
			t.Errorf("%s: %v, want InvalidArgument", name, err)
		}
	}
	if _, err := s.GrantIdentityAccess(as(secretariat, ""), &caseregistryv1.GrantIdentityAccessRequest{
		Id: "0190a3c4-0000-7000-8000-000000000000", Institution: "KKSAT", Reason: "r"}); status.Code(err) != codes.NotFound {
		t.Errorf("unknown case: %v, want NotFound", err)
	}
}
