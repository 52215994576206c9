package server

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	caseregistryv1 "github.com/nrm-albania/nrm/proto/nrm/caseregistry/v1"
	"github.com/nrm-albania/nrm/services/caseregistry/internal/store"
	"github.com/nrm-albania/nrm/services/platform/apierr"
	"github.com/nrm-albania/nrm/services/platform/auth"
	"github.com/nrm-albania/nrm/services/platform/outbox"
)

var (
	police      = &auth.Principal{Institution: "ASP-ANTITRAF", Subject: "officer-7", Roles: []auth.Role{auth.RoleCaseworker}}
	shelter     = &auth.Principal{Institution: "KKSAT", Subject: "s", Roles: []auth.Role{auth.RoleCaseworker}}
	secretariat = &auth.Principal{Institution: "MB-SEKRETARIATI", Subject: "x", Roles: []auth.Role{auth.RoleSecretariat}}
)

// register registers the sample request with the identity as the police and returns the case.
func register(t *testing.T, s *Server, identity *caseregistryv1.Identity) *caseregistryv1.Case {
	t.Helper()
	return registerAs(t, s, police, identity)
}

// registerAs registers the sample request with the identity as who and returns the case.
func registerAs(t *testing.T, s *Server, who *auth.Principal, identity *caseregistryv1.Identity) *caseregistryv1.Case {
	t.Helper()
	req := request()
	req.Profile.AgeAtIdentification = nil
	req.Identity = identity
	resp, err := s.RegisterCase(as(who, ""), req)
	if err != nil {
		t.Fatal(err)
	}
	return resp.GetCase()
}

func reason(t *testing.T, err error) (codes.Code, string) {
	t.Helper()
	st, _ := status.FromError(err)
	for _, d := range st.Details() {
		if ei, ok := d.(*errdetails.ErrorInfo); ok {
			return st.Code(), ei.GetReason()
		}
	}
	return st.Code(), ""
}

// conflictOf checks that err is ABORTED VERSION_CONFLICT based on version based, naming the
// case's current version, in the ErrorInfo and in the message.
func conflictOf(t *testing.T, err error, id string, based, current int64) {
	t.Helper()
	st := status.Convert(err)
	var info *errdetails.ErrorInfo
	for _, d := range st.Details() {
		if ei, ok := d.(*errdetails.ErrorInfo); ok {
			info = ei
		}
	}
	if st.Code() != codes.Aborted || info.GetReason() != "VERSION_CONFLICT" {
		t.Fatalf("%v, want ABORTED VERSION_CONFLICT", err)
	}
	want := map[string]string{"case_id": id, "expected_version": fmt.Sprint(based), "current_version": fmt.Sprint(current)}
	if !maps.Equal(info.GetMetadata(), want) {
		t.Errorf("VERSION_CONFLICT metadata %v, want %v", info.GetMetadata(), want)
	}
	if !strings.Contains(st.Message(), fmt.Sprintf("the current version is %d", current)) {
		t.Errorf("VERSION_CONFLICT message %q does not name the current version %d", st.Message(), current)
	}
}

func update(id string, version int64, c *caseregistryv1.Case, paths ...string) *caseregistryv1.UpdateCaseRequest {
	return &caseregistryv1.UpdateCaseRequest{Id: id, Case: c, UpdateMask: &fieldmaskpb.FieldMask{Paths: paths}, ExpectedVersion: version}
}

// An update names its case by id (REST: the path) or, as gRPC clients built before id existed
// do, by case.id; never two different cases.
func TestUpdateNamesTheCaseByIDOrByCaseID(t *testing.T) {
	s, db, _ := newServer(t)
	c := register(t, s, nil)
	other := register(t, s, nil)
	tests := []struct {
		name       string
		id, legacy string // id, case.id
		wantField  string // the field violation; "" for success
	}{
		{"id", c.GetId(), "", ""},
		{"case.id as before id existed", "", c.GetId(), ""},
		{"both, equal", c.GetId(), c.GetId(), ""},
		{"both, different cases", c.GetId(), other.GetId(), "case.id"},
		{"neither", "", "", "id"},
		{"id not a case id", "VT-2026-00001", "", "id"},
		{"case.id not a case id", "", "nope", "case.id"},
	}
	version := c.GetVersion()
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Each success changes the level, so each makes a version.
			level := caseregistryv1.EducationLevel(int32(caseregistryv1.EducationLevel_EDUCATION_LEVEL_NONE) + int32(i))
			req := update(tt.id, version, &caseregistryv1.Case{Id: tt.legacy, Profile: &caseregistryv1.Profile{EducationLevel: level}},
				"profile.education_level")
			before := count(t, db, store.RevisionCollection)
			resp, err := s.UpdateCase(as(police, ""), req)
			if tt.wantField == "" {
				if err != nil {
					t.Fatal(err)
				}
				version++
				if resp.GetCase().GetId() != c.GetId() || resp.GetCase().GetVersion() != version {
					t.Errorf("updated case %s at version %d, want %s at %d", resp.GetCase().GetId(), resp.GetCase().GetVersion(), c.GetId(), version)
				}
				return
			}
			if got := apierr.ViolatedFields(err); status.Code(err) != codes.InvalidArgument || !slices.Equal(got, []string{tt.wantField}) {
				t.Errorf("%v (fields %v), want INVALID_ARGUMENT on %s", err, got, tt.wantField)
			}
			if count(t, db, store.RevisionCollection) != before {
				t.Error("a refused update wrote a revision")
			}
		})
	}
}

func tertiary() *caseregistryv1.Case {
	return &caseregistryv1.Case{Profile: &caseregistryv1.Profile{EducationLevel: caseregistryv1.EducationLevel_EDUCATION_LEVEL_TERTIARY}}
}

func TestUpdateChangesTheMaskedFieldsAndRecordsWhoDidIt(t *testing.T) {
	s, db, _ := newServer(t)
	c := register(t, s, nil)
	resp, err := s.UpdateCase(as(police, ""), update(c.GetId(), 1, tertiary(), "profile.education_level"))
	if err != nil {
		t.Fatal(err)
	}
	got := resp.GetCase()
	if got.GetVersion() != 2 || got.GetEtag() != `"2"` || got.GetProfile().GetEducationLevel() != caseregistryv1.EducationLevel_EDUCATION_LEVEL_TERTIARY {
		t.Fatalf("after the update: %v", got)
	}
	if got.GetProfile().GetSex() != c.GetProfile().GetSex() || len(got.GetProfile().GetCitizenships()) != 2 {
		t.Error("fields outside the mask changed")
	}
	if n := count(t, db, outbox.PointerCollection); n != 2 {
		t.Errorf("%d events announced, want registered and updated", n)
	}
	h, err := s.ListCaseHistory(as(police, ""), &caseregistryv1.ListCaseHistoryRequest{Id: c.GetId()})
	if err != nil {
		t.Fatal(err)
	}
	if len(h.GetEntries()) != 2 {
		t.Fatalf("history %v", h.GetEntries())
	}
	e := h.GetEntries()[1]
	if e.GetKind() != caseregistryv1.ChangeKind_CHANGE_KIND_UPDATED || e.GetInstitution() != "ASP-ANTITRAF" ||
		e.GetSubject() != "officer-7" || len(e.GetFields()) != 1 || e.GetFields()[0] != "profile.education_level" {
		t.Errorf("history entry %v", e)
	}
	// The same change again changes nothing: no new version, no event.
	again, err := s.UpdateCase(as(police, ""), update(c.GetId(), 2, tertiary(), "profile.education_level"))
	if err != nil || again.GetCase().GetVersion() != 2 {
		t.Errorf("a change to the same values: %v, %v", again, err)
	}
}

func TestAStaleUpdateIsRefusedAndWritesNothing(t *testing.T) {
	s, db, _ := newServer(t)
	c := register(t, s, nil)
	if _, err := s.UpdateCase(as(police, ""), update(c.GetId(), 1, tertiary(), "profile.education_level")); err != nil {
		t.Fatal(err)
	}
	before := count(t, db, store.RevisionCollection)
	other := &caseregistryv1.Case{Profile: &caseregistryv1.Profile{EducationLevel: caseregistryv1.EducationLevel_EDUCATION_LEVEL_PRIMARY}}
	_, err := s.UpdateCase(as(police, ""), update(c.GetId(), 1, other, "profile.education_level"))
	conflictOf(t, err, c.GetId(), 1, 2)
	if count(t, db, store.RevisionCollection) != before {
		t.Error("a stale update wrote a revision")
	}
	got, _ := s.GetCase(as(police, ""), &caseregistryv1.GetCaseRequest{Id: c.GetId()})
	if got.GetCase().GetProfile().GetEducationLevel() != caseregistryv1.EducationLevel_EDUCATION_LEVEL_TERTIARY {
		t.Error("the stale update overwrote the newer value")
	}
}

// Many institutions change the same version at once: exactly one wins, the rest are ABORTED.
func TestConcurrentConflictingUpdatesExactlyOneWins(t *testing.T) {
	s, _, _ := newServer(t)
	c := register(t, s, nil)
	levels := []caseregistryv1.EducationLevel{
		caseregistryv1.EducationLevel_EDUCATION_LEVEL_NONE, caseregistryv1.EducationLevel_EDUCATION_LEVEL_PRIMARY,
		caseregistryv1.EducationLevel_EDUCATION_LEVEL_LOWER_SECONDARY, caseregistryv1.EducationLevel_EDUCATION_LEVEL_UPPER_SECONDARY,
		caseregistryv1.EducationLevel_EDUCATION_LEVEL_VOCATIONAL, caseregistryv1.EducationLevel_EDUCATION_LEVEL_TERTIARY,
	}
	errs := make([]error, len(levels))
	var wg sync.WaitGroup
	for i, l := range levels {
		wg.Go(func() {
			_, errs[i] = s.UpdateCase(as(police, ""), update(c.GetId(), 1,
				&caseregistryv1.Case{Profile: &caseregistryv1.Profile{EducationLevel: l}}, "profile.education_level"))
		})
	}
	wg.Wait()
	won := -1
	for i, err := range errs {
		switch status.Code(err) {
		case codes.OK:
			if won >= 0 {
				t.Fatalf("updates %d and %d both won", won, i)
			}
			won = i
		case codes.Aborted:
			// Lost the race at the commit: the answer names the version that won it.
			conflictOf(t, err, c.GetId(), 1, 2)
		default:
			t.Fatalf("update %d: %v", i, err)
		}
	}
	if won < 0 {
		t.Fatal("no update won")
	}
	got, _ := s.GetCase(as(police, ""), &caseregistryv1.GetCaseRequest{Id: c.GetId()})
	if got.GetCase().GetVersion() != 2 || got.GetCase().GetProfile().GetEducationLevel() != levels[won] {
		t.Errorf("the stored case is not the winner's: %v", got.GetCase().GetProfile())
	}
}

func TestUpdateVersionsAndIfMatch(t *testing.T) {
	s, _, _ := newServer(t)
	c := register(t, s, nil)
	withIfMatch := func(tag string) context.Context {
		return metadata.NewIncomingContext(as(police, ""), metadata.Pairs(IfMatchHeader, tag))
	}
	for _, tt := range []struct {
		name string
		ctx  context.Context
		req  *caseregistryv1.UpdateCaseRequest
		want codes.Code
	}{
		{"no version at all", as(police, ""), update(c.GetId(), 0, tertiary(), "profile.education_level"), codes.InvalidArgument},
		{"negative version", as(police, ""), update(c.GetId(), -1, tertiary(), "profile.education_level"), codes.InvalidArgument},
		{"If-Match not an etag", withIfMatch("1"), update(c.GetId(), 0, tertiary(), "profile.education_level"), codes.InvalidArgument},
		{"If-Match disagrees with the field", withIfMatch(`"2"`), update(c.GetId(), 1, tertiary(), "profile.education_level"), codes.InvalidArgument},
		{"stale If-Match", withIfMatch(`"5"`), update(c.GetId(), 0, tertiary(), "profile.education_level"), codes.Aborted},
		{"bad id", as(police, ""), update("nope", 1, tertiary(), "profile.education_level"), codes.InvalidArgument},
		{"unknown case", as(police, ""), update("0190a3c4-0000-7000-8000-000000000000", 1, tertiary(), "profile.education_level"), codes.NotFound},
		{"output-only path", as(police, ""), update(c.GetId(), 1, tertiary(), "trafficking.status"), codes.InvalidArgument},
		{"uninvolved institution", as(shelter, ""), update(c.GetId(), 1, tertiary(), "profile.education_level"), codes.PermissionDenied},
		{"If-Match current", withIfMatch(`"1"`), update(c.GetId(), 0, tertiary(), "profile.education_level"), codes.OK},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := s.UpdateCase(tt.ctx, tt.req); status.Code(err) != tt.want {
				t.Errorf("got %v, want %s", err, tt.want)
			}
		})
	}
}

// Changing the identity re-seals it and moves its blind indexes: the old identity is no longer
// found as a duplicate, the new one is.
func TestIdentityUpdatesMoveTheBlindIndexes(t *testing.T) {
	s, db, _ := newServer(t)
	c := register(t, s, marker)
	newID := &caseregistryv1.Identity{GivenName: "Zamira", FamilyName: "NEWFAMILY", DateOfBirth: "2002-03-04", Address: "MARKERADDRESS Rruga e Kavajës"}
	if _, err := s.UpdateCase(as(shelter, ""), update(c.GetId(), 1, &caseregistryv1.Case{Identity: newID}, "identity")); status.Code(err) != codes.PermissionDenied {
		t.Errorf("an uninvolved institution changed the identity: %v", err)
	}
	resp, err := s.UpdateCase(as(police, "case-management"), update(c.GetId(), 1, &caseregistryv1.Case{Identity: newID}, "identity"))
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.GetCase().GetIdentity(); got.GetFamilyName() != "NEWFAMILY" || got.GetAddress() != newID.GetAddress() || got.GetDocumentNumber() != "" {
		t.Errorf("identity after the update: %v", got)
	}
	find := func(id *caseregistryv1.Identity) int {
		r, err := s.FindPossibleDuplicates(as(police, "case-management"), &caseregistryv1.FindPossibleDuplicatesRequest{Identity: id})
		if err != nil {
			t.Fatal(err)
		}
		return len(r.GetDuplicates())
	}
	if n := find(marker); n != 0 {
		t.Errorf("the old identity is still found: %d", n)
	}
	if n := find(newID); n != 1 {
		t.Errorf("the new identity is found %d times", n)
	}
	raw, err := db.Collection(store.RevisionCollection).FindOne(context.Background(), bson.D{{Key: "_id", Value: store.RevisionID(c.GetId(), 2)}}).Raw()
	if err != nil {
		t.Fatal(err)
	}
	if bytesContain(raw, "MARKERADDRESS") || bytesContain(raw, "NEWFAMILY") {
		t.Error("the identity is readable in the history")
	}
}

// Changing an identity into one that is likely another case's person is refused as a
// registration would be, unless the caller confirms it is someone else; changing its address is
// not checked again.
func TestAnIdentityChangedIntoAnotherCasesPersonIsRefused(t *testing.T) {
	s, _, _ := newServer(t)
	other := register(t, s, marker)
	c := register(t, s, &caseregistryv1.Identity{GivenName: "Someone", FamilyName: "Else", DateOfBirth: "2001-02-03"})
	into := update(c.GetId(), 1, &caseregistryv1.Case{Identity: marker}, "identity")
	_, err := s.UpdateCase(as(police, "case-management"), into)
	if st, _ := status.FromError(err); st.Code() != codes.AlreadyExists || !strings.Contains(fmt.Sprint(st.Details()), other.GetCode()) {
		t.Fatalf("an identity changed into another case's person: %v, want ALREADY_EXISTS naming %s", err, other.GetCode())
	}
	into.ConfirmedDifferentPerson, into.DifferentPersonReason = true, "twins, confirmed by the civil registry"
	if _, err := s.UpdateCase(as(police, "case-management"), into); err != nil {
		t.Fatalf("confirmed as another person: %v", err)
	}
	address := update(c.GetId(), 2, &caseregistryv1.Case{Identity: &caseregistryv1.Identity{Address: "Rruga 5"}}, "identity.address")
	if _, err := s.UpdateCase(as(police, "case-management"), address); err != nil {
		t.Errorf("an address change was checked for duplicates: %v", err)
	}
}

func TestStatusDecisionsClosureAndReopening(t *testing.T) {
	s, _, _ := newServer(t)
	c := register(t, s, nil)
	id := c.GetId()
	victim := &caseregistryv1.DecideStatusRequest{Id: id, Status: caseregistryv1.TraffickingStatus_TRAFFICKING_STATUS_VICTIM,
		DecidingBody: caseregistryv1.DecidingBody_DECIDING_BODY_JOINT_INTERVIEW, DecisionDate: "2026-10-01", Basis: "joint interview of 1 October"}
	_, err := s.DecideStatus(as(police, ""), victim)
	if code, r := reason(t, err); code != codes.FailedPrecondition || r != "STATUS_HEADINGS_MISSING" {
		t.Fatalf("victim without scope and channel: %v", err)
	}
	headings := &caseregistryv1.Case{
		Trafficking: &caseregistryv1.Trafficking{
			ExploitationTypes: []caseregistryv1.ExploitationType{caseregistryv1.ExploitationType_EXPLOITATION_TYPE_FORCED_LABOUR},
			Scope:             caseregistryv1.TraffickingScope_TRAFFICKING_SCOPE_INTERNAL,
		},
		Identification: &caseregistryv1.Identification{Channel: caseregistryv1.IdentificationChannel_IDENTIFICATION_CHANNEL_LABOUR_INSPECTION},
	}
	if _, err := s.UpdateCase(as(police, ""), update(id, 1, headings, "trafficking.scope", "identification.channel")); err != nil {
		t.Fatal(err)
	}
	decided, err := s.DecideStatus(as(police, ""), victim)
	if err != nil {
		t.Fatal(err)
	}
	tr := decided.GetCase().GetTrafficking()
	if tr.GetStatus() != caseregistryv1.TraffickingStatus_TRAFFICKING_STATUS_VICTIM || len(tr.GetStatusDecisions()) != 1 || tr.GetStatusDecisions()[0].GetRecordedBy() != "ASP-ANTITRAF" {
		t.Fatalf("after the decision: %v", tr)
	}
	if _, err := s.DecideStatus(as(police, ""), victim); status.Code(err) != codes.FailedPrecondition {
		t.Errorf("the same status again: %v", err)
	}
	clear := update(id, 3, &caseregistryv1.Case{Trafficking: &caseregistryv1.Trafficking{}}, "trafficking.scope")
	if _, err := s.UpdateCase(as(police, ""), clear); status.Code(err) != codes.InvalidArgument {
		t.Errorf("clearing the scope of a victim's case: %v, want InvalidArgument", err)
	}

	closing := &caseregistryv1.CloseCaseRequest{Id: id, Reason: caseregistryv1.ClosureReason_CLOSURE_REASON_REINTEGRATED, Date: "2026-11-01"}
	closed, err := s.CloseCase(as(police, ""), closing)
	if err != nil {
		t.Fatal(err)
	}
	if closed.GetCase().GetState() != caseregistryv1.CaseState_CASE_STATE_CLOSED || closed.GetCase().GetClosure().GetReason() != closing.GetReason() {
		t.Fatalf("after closing: %v", closed.GetCase())
	}
	if _, err := s.CloseCase(as(police, ""), closing); status.Code(err) != codes.FailedPrecondition {
		t.Errorf("closing twice: %v", err)
	}
	revision := &caseregistryv1.DecideStatusRequest{Id: id, Status: caseregistryv1.TraffickingStatus_TRAFFICKING_STATUS_NOT_A_VICTIM,
		DecidingBody: caseregistryv1.DecidingBody_DECIDING_BODY_AUTHORITY_MEETING, DecisionDate: "2026-11-10", Basis: "review at the meeting of November"}
	if _, err := s.DecideStatus(as(police, ""), revision); func() bool { _, r := reason(t, err); return r != "CASE_CLOSED" }() {
		t.Errorf("a decision on a closed case: %v", err)
	}
	reopened, err := s.ReopenCase(as(police, ""), &caseregistryv1.ReopenCaseRequest{Id: id, Reason: caseregistryv1.ReopenReason_REOPEN_REASON_RE_TRAFFICKING})
	if err != nil || reopened.GetCase().GetState() != caseregistryv1.CaseState_CASE_STATE_REOPENED || reopened.GetCase().GetClosure() != nil {
		t.Fatalf("reopening: %v, %v", reopened, err)
	}
	revised, err := s.DecideStatus(as(secretariat, ""), revision)
	if err != nil {
		t.Fatal(err)
	}
	ds := revised.GetCase().GetTrafficking().GetStatusDecisions()
	if len(ds) != 2 || !ds[1].GetRevision() || ds[0].GetStatus() != caseregistryv1.TraffickingStatus_TRAFFICKING_STATUS_VICTIM {
		t.Errorf("decisions after the revision: %v", ds)
	}
	h, err := s.ListCaseHistory(as(police, ""), &caseregistryv1.ListCaseHistoryRequest{Id: id, PageSize: 4})
	if err != nil || len(h.GetEntries()) != 4 || h.GetNextPageToken() == "" {
		t.Fatalf("first history page: %v, %v", h, err)
	}
	rest, err := s.ListCaseHistory(as(police, ""), &caseregistryv1.ListCaseHistoryRequest{Id: id, PageSize: 4, PageToken: h.GetNextPageToken()})
	if err != nil || len(rest.GetEntries()) != 2 || rest.GetNextPageToken() != "" || rest.GetEntries()[1].GetKind() != caseregistryv1.ChangeKind_CHANGE_KIND_STATUS_DECIDED {
		t.Fatalf("second history page: %v, %v", rest, err)
	}
	if _, err := s.ListCaseHistory(as(police, ""), &caseregistryv1.ListCaseHistoryRequest{Id: id, PageToken: "garbage"}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("bad page token: %v", err)
	}
}

func TestConsentIsRecordedAndWithdrawn(t *testing.T) {
	s, _, _ := newServer(t)
	c := register(t, s, nil)
	give := &caseregistryv1.RecordConsentRequest{Id: c.GetId(), Consent: &caseregistryv1.ConsentRecord{
		Scope: caseregistryv1.ConsentScope_CONSENT_SCOPE_REFERRAL, Decision: caseregistryv1.ConsentDecision_CONSENT_DECISION_GIVEN,
		Date: "2026-09-15", GivenBy: caseregistryv1.ConsentGiver_CONSENT_GIVER_PERSON}}
	if _, err := s.RecordConsent(as(police, ""), give); err != nil {
		t.Fatal(err)
	}
	withdraw := &caseregistryv1.RecordConsentRequest{Id: c.GetId(), Consent: &caseregistryv1.ConsentRecord{
		Scope: caseregistryv1.ConsentScope_CONSENT_SCOPE_REFERRAL, Decision: caseregistryv1.ConsentDecision_CONSENT_DECISION_WITHDRAWN,
		Date: "2026-09-20", GivenBy: caseregistryv1.ConsentGiver_CONSENT_GIVER_PERSON}}
	resp, err := s.RecordConsent(as(police, ""), withdraw)
	if err != nil {
		t.Fatal(err)
	}
	if ks := resp.GetCase().GetConsents(); len(ks) != 2 || ks[1].GetDecision() != caseregistryv1.ConsentDecision_CONSENT_DECISION_WITHDRAWN {
		t.Errorf("consents %v", ks)
	}
	if _, err := s.RecordConsent(as(police, ""), withdraw); func() bool { _, r := reason(t, err); return r != "CONSENT_NOT_GIVEN" }() {
		t.Errorf("withdrawing twice: %v", err)
	}
}

// Merging keeps both records and both histories; the duplicate points to the survivor, is no
// longer found as a possible duplicate, and accepts no change; a repeated merge is a no-op.
func TestMergeJoinsADuplicateIntoTheSurvivor(t *testing.T) {
	s, _, _ := newServer(t)
	survivor := register(t, s, nil)
	dup := registerAs(t, s, shelterRegistrar, marker)
	merge := &caseregistryv1.MergeCasesRequest{Id: survivor.GetId(), DuplicateId: dup.GetId(), Reason: "same person, confirmed at the joint interview"}
	for range 2 {
		resp, err := s.MergeCases(as(secretariat, ""), merge)
		if err != nil {
			t.Fatal(err)
		}
		if ids := resp.GetCase().GetMergedCaseIds(); len(ids) != 1 || ids[0] != dup.GetId() || resp.GetCase().GetVersion() != 2 {
			t.Fatalf("survivor after the merge: %v", resp.GetCase())
		}
	}
	got, err := s.GetCase(as(secretariat, ""), &caseregistryv1.GetCaseRequest{Id: dup.GetId()})
	if err != nil {
		t.Fatal(err)
	}
	if g := got.GetCase(); g.GetMergedInto() != survivor.GetId() || g.GetState() != caseregistryv1.CaseState_CASE_STATE_CLOSED ||
		g.GetClosure().GetReason() != caseregistryv1.ClosureReason_CLOSURE_REASON_DUPLICATE || g.GetVersion() != 2 {
		t.Errorf("duplicate after the merge: %v", g)
	}
	r, err := s.FindPossibleDuplicates(as(police, "case-management"), &caseregistryv1.FindPossibleDuplicatesRequest{Identity: marker})
	if err != nil || len(r.GetDuplicates()) != 0 {
		t.Errorf("the merged record is still found: %v, %v", r, err)
	}
	_, err = s.UpdateCase(as(secretariat, ""), update(dup.GetId(), 2, tertiary(), "profile.education_level"))
	if _, r := reason(t, err); r != "CASE_MERGED" {
		t.Errorf("changing a merged case: %v", err)
	}
	for _, id := range []string{survivor.GetId(), dup.GetId()} {
		h, err := s.ListCaseHistory(as(secretariat, ""), &caseregistryv1.ListCaseHistoryRequest{Id: id})
		if err != nil || len(h.GetEntries()) != 2 {
			t.Fatalf("history of %s: %v, %v", id, h, err)
		}
	}
	if _, err := s.MergeCases(as(secretariat, ""), &caseregistryv1.MergeCasesRequest{Id: survivor.GetId(), DuplicateId: survivor.GetId(), Reason: "x"}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("merging a case into itself: %v", err)
	}
	if _, err := s.MergeCases(as(secretariat, ""), &caseregistryv1.MergeCasesRequest{Id: dup.GetId(), DuplicateId: survivor.GetId(), Reason: "x"}); status.Code(err) != codes.FailedPrecondition {
		t.Errorf("merging into a merged case: %v", err)
	}
}

var shelterRegistrar = &auth.Principal{Institution: "KKSAT", Subject: "k", Roles: []auth.Role{auth.RoleCaseworker}}

func TestErasureDestroysTheKeyInTheVault(t *testing.T) {
	s, db, _ := newServer(t)
	c := register(t, s, marker)
	if n := count(t, db, store.KeyCollection); n != 1 {
		t.Fatalf("%d keys in the vault", n)
	}
	if _, err := s.EraseIdentity(as(secretariat, ""), &caseregistryv1.EraseIdentityRequest{Id: c.GetId(), Reason: "art. 17 request"}); err != nil {
		t.Fatal(err)
	}
	if n := count(t, db, store.KeyCollection); n != 0 {
		t.Errorf("%d keys left in the vault after erasure", n)
	}
	_, err := s.UpdateCase(as(police, ""), update(c.GetId(), 2, &caseregistryv1.Case{Identity: marker}, "identity"))
	if _, r := reason(t, err); r != "IDENTITY_ERASED" {
		t.Errorf("recording an erased identity again: %v", err)
	}
}
