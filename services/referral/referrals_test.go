package referral_test

import (
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.mongodb.org/mongo-driver/v2/bson"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	caseregistryv1 "github.com/nrm-albania/nrm/proto/nrm/caseregistry/v1"
	eventsv1 "github.com/nrm-albania/nrm/proto/nrm/events/v1"
	referralv1 "github.com/nrm-albania/nrm/proto/nrm/referral/v1"
	"github.com/nrm-albania/nrm/services/platform/auth"
	"github.com/nrm-albania/nrm/services/platform/mongodb"
	"github.com/nrm-albania/nrm/services/platform/testenv"
	"github.com/nrm-albania/nrm/services/referral/internal/cases"
)

var (
	given    = caseregistryv1.ConsentDecision_CONSENT_DECISION_GIVEN.String()
	adult    = cases.Case{ID: uuid.NewString(), Code: "VT-2026-00001", ReferralConsent: given}
	refusing = cases.Case{ID: uuid.NewString(), Code: "VT-2026-00002", ReferralConsent: caseregistryv1.ConsentDecision_CONSENT_DECISION_REFUSED.String()}
	child    = cases.Case{ID: uuid.NewString(), Code: "VT-2026-00003", Child: true}
	closed   = cases.Case{ID: uuid.NewString(), Code: "VT-2026-00004", ReferralConsent: given, Closed: true}
)

const secret = "Arta needs a safe place tonight"

func toShelter(caseID string) *referralv1.CreateReferralRequest {
	return &referralv1.CreateReferralRequest{CaseId: caseID, ServiceType: referralv1.ServiceType_SERVICE_TYPE_SHELTER,
		ProviderCode: "KKSAT", Urgency: referralv1.ReferralUrgency_REFERRAL_URGENCY_EMERGENCY, Reason: secret}
}

// referralsIn counts the referrals stored in the service's database.
func referralsIn(t *testing.T, s *testenv.Served) int64 {
	t.Helper()
	c, err := mongodb.Connect(testenv.MongoURI(t), "test")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Disconnect(t.Context())
	n, err := c.Database(s.DB).Collection("referrals").CountDocuments(t.Context(), bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestReferralsAreRefusedWithNothingWritten(t *testing.T) {
	reg := &registry{cases: map[string]cases.Case{adult.ID: adult, refusing.ID: refusing, child.ID: child, closed.ID: closed}}
	s := serveWith(t, reg)
	police := as(t, s, "ASP-ANTITRAF", auth.RoleCaseworker)
	stewards := referralv1.NewReferralServiceClient(s.Conn) // holds the chair's role too
	ctx := t.Context()
	if _, err := stewards.UpdateProvider(ctx, &referralv1.UpdateProviderRequest{Code: "SHSSH", Provider: &referralv1.Provider{},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"active"}}}); err != nil {
		t.Fatal(err)
	}
	edit := func(c cases.Case, f func(*referralv1.CreateReferralRequest)) *referralv1.CreateReferralRequest {
		r := toShelter(c.ID)
		f(r)
		return r
	}
	cases := []struct {
		name   string
		req    *referralv1.CreateReferralRequest
		code   codes.Code
		reason string
	}{
		{"an adult without consent", toShelter(refusing.ID), codes.FailedPrecondition, "CONSENT_REQUIRED"},
		{"an override by a caseworker", edit(refusing, func(r *referralv1.CreateReferralRequest) { r.OverrideReason = "in danger" }), codes.PermissionDenied, "OVERRIDE_CHAIR_ONLY"},
		{"an override where consent is given", edit(adult, func(r *referralv1.CreateReferralRequest) { r.OverrideReason = "in danger" }), codes.InvalidArgument, ""},
		{"a child without the decision", toShelter(child.ID), codes.InvalidArgument, ""},
		{"an adult with a child's decision", edit(adult, func(r *referralv1.CreateReferralRequest) { r.ChildProtectionDecision = "X" }), codes.InvalidArgument, ""},
		{"a closed case", toShelter(closed.ID), codes.FailedPrecondition, "CASE_CLOSED"},
		{"an unknown case", toShelter(uuid.NewString()), codes.NotFound, ""},
		{"an unknown provider", edit(adult, func(r *referralv1.CreateReferralRequest) { r.ProviderCode = "NOBODY" }), codes.FailedPrecondition, "PROVIDER_UNKNOWN"},
		{"an inactive provider", edit(adult, func(r *referralv1.CreateReferralRequest) { r.ProviderCode = "SHSSH" }), codes.FailedPrecondition, "PROVIDER_INACTIVE"},
		{"a service the provider does not offer", edit(adult, func(r *referralv1.CreateReferralRequest) {
			r.ServiceType = referralv1.ServiceType_SERVICE_TYPE_MEDICAL
		}), codes.FailedPrecondition, "SERVICE_NOT_OFFERED"},
		{"no reason", edit(adult, func(r *referralv1.CreateReferralRequest) { r.Reason = " " }), codes.InvalidArgument, ""},
		{"a reason too long", edit(adult, func(r *referralv1.CreateReferralRequest) { r.Reason = strings.Repeat("x", 2001) }), codes.InvalidArgument, ""},
		{"no urgency", edit(adult, func(r *referralv1.CreateReferralRequest) { r.Urgency = 0 }), codes.InvalidArgument, ""},
		{"an unknown service", edit(adult, func(r *referralv1.CreateReferralRequest) { r.ServiceType = 99 }), codes.InvalidArgument, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := police.CreateReferral(ctx, c.req)
			if r, _ := reason(err); status.Code(err) != c.code || r != c.reason {
				t.Fatalf("CreateReferral: %v (%s), want %s %s", err, r, c.code, c.reason)
			}
		})
	}
	reg.mu.Lock()
	reg.down = true
	reg.mu.Unlock()
	if _, err := police.CreateReferral(ctx, toShelter(adult.ID)); status.Code(err) != codes.Unavailable {
		t.Fatalf("the registry down: %v, want Unavailable", err)
	}
	if n := referralsIn(t, s); n != 0 {
		t.Errorf("%d referrals written by refused requests", n)
	}
	reg.mu.Lock()
	reg.down = false
	reg.mu.Unlock()
	over := edit(refusing, func(r *referralv1.CreateReferralRequest) { r.OverrideReason = "in immediate danger" })
	if _, err := stewards.CreateReferral(ctx, over); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("an override without a stated purpose: %v", err)
	}
	made, err := stewards.CreateReferral(metadata.AppendToOutgoingContext(ctx, "x-nrm-purpose", "referral;ref=AUTH-2026-14"), over)
	if err != nil || !made.GetReferral().GetConsentOverridden() {
		t.Fatalf("the chair's override: %v, %v", made, err)
	}
}

func TestTheRecipientAnswersAndOnlyOneOfRacingAnswersWins(t *testing.T) {
	s := serveWith(t, &registry{cases: map[string]cases.Case{adult.ID: adult, child.ID: child}})
	police := as(t, s, "ASP-ANTITRAF", auth.RoleCaseworker)
	shelter := as(t, s, "KKSAT", auth.RoleCaseworker, auth.RoleMember)
	ctx := t.Context()
	purpose := metadata.AppendToOutgoingContext(ctx, "x-nrm-purpose", "referral")

	first, err := police.CreateReferral(ctx, toShelter(adult.ID))
	if err != nil {
		t.Fatal(err)
	}
	id := first.GetReferral().GetId()
	if first.GetReferral().GetReason() != "" || !first.GetReferral().GetReasonWithheld() {
		t.Error("the reason was shown without a stated purpose")
	}
	if got, err := shelter.GetReferral(purpose, &referralv1.GetReferralRequest{Id: id}); err != nil || got.GetReferral().GetReason() != secret {
		t.Errorf("the recipient with a purpose: %v, %v", got, err)
	}
	mas := as(t, s, "MAS", auth.RoleCaseworker)
	if _, err := mas.GetReferral(purpose, &referralv1.GetReferralRequest{Id: id}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("an institution not involved: %v", err)
	}

	// Accept racing cancel: exactly one wins, the other learns the referral moved on.
	var wg sync.WaitGroup
	var acceptErr, cancelErr error
	wg.Go(func() {
		_, acceptErr = shelter.AcceptReferral(ctx, &referralv1.AcceptReferralRequest{Id: id, ExpectedVersion: 1})
	})
	wg.Go(func() {
		_, cancelErr = police.CancelReferral(ctx, &referralv1.CancelReferralRequest{Id: id, ExpectedVersion: 1})
	})
	wg.Wait()
	if (acceptErr == nil) == (cancelErr == nil) {
		t.Fatalf("accept %v, cancel %v: want exactly one to win", acceptErr, cancelErr)
	}
	for _, err := range []error{acceptErr, cancelErr} {
		if err != nil && status.Code(err) != codes.Aborted {
			t.Errorf("the loser: %v, want ABORTED", err)
		}
	}

	second, err := police.CreateReferral(ctx, toShelter(adult.ID))
	if err != nil {
		t.Fatal(err)
	}
	id2 := second.GetReferral().GetId()
	if _, err := police.DeclineReferral(ctx, &referralv1.DeclineReferralRequest{Id: id2, Reason: referralv1.DeclineReason_DECLINE_REASON_NO_CAPACITY}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("the sender declining: %v", err)
	}
	if _, err := shelter.DeclineReferral(ctx, &referralv1.DeclineReferralRequest{Id: id2, Reason: referralv1.DeclineReason_DECLINE_REASON_OTHER}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("OTHER without a note: %v", err)
	}
	declined, err := shelter.DeclineReferral(ctx, &referralv1.DeclineReferralRequest{Id: id2, Reason: referralv1.DeclineReason_DECLINE_REASON_NO_CAPACITY, Note: "Full until Monday"})
	if err != nil || declined.GetReferral().GetState() != referralv1.ReferralState_REFERRAL_STATE_DECLINED {
		t.Fatalf("decline: %v, %v", declined, err)
	}
	if _, err := shelter.AcceptReferral(ctx, &referralv1.AcceptReferralRequest{Id: id2}); status.Code(err) != codes.FailedPrecondition {
		t.Errorf("accepting a declined referral: %v", err)
	}
	if got, _ := police.GetReferral(purpose, &referralv1.GetReferralRequest{Id: id2}); got.GetReferral().GetDeclineNote() != "Full until Monday" {
		t.Errorf("the decline note: %q", got.GetReferral().GetDeclineNote())
	}

	list, err := police.ListCaseReferrals(ctx, &referralv1.ListCaseReferralsRequest{CaseId: adult.ID, PageSize: 1})
	if err != nil || len(list.GetReferrals()) != 1 || list.GetReferrals()[0].GetId() != id || list.GetNextPageToken() == "" {
		t.Fatalf("the case's first page: %v, %v", list, err)
	}
	rest, err := police.ListCaseReferrals(ctx, &referralv1.ListCaseReferralsRequest{CaseId: adult.ID, PageToken: list.GetNextPageToken()})
	if err != nil || len(rest.GetReferrals()) != 1 || rest.GetReferrals()[0].GetId() != id2 || rest.GetNextPageToken() != "" {
		t.Fatalf("the case's second page: %v, %v", rest, err)
	}

	// At rest, the free text is sealed: no document of the referrals or their revisions holds it.
	c, err := mongodb.Connect(testenv.MongoURI(t), "test")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Disconnect(ctx)
	for _, coll := range []string{"referrals", "referral_revisions"} {
		cur, err := c.Database(s.DB).Collection(coll).Find(ctx, bson.D{})
		if err != nil {
			t.Fatal(err)
		}
		for cur.Next(ctx) {
			if strings.Contains(string(cur.Current), "safe place") || strings.Contains(string(cur.Current), "Monday") {
				t.Errorf("a document of %s holds the free text in clear", coll)
			}
		}
		_ = cur.Close(ctx)
	}

	// The events carry ids, codes and states: never the reason or the notes.
	envs := eventsWhen(t, s, "the referrals' 4 events", func(envs []*eventsv1.Envelope) bool { return len(envs) == 7+4 })
	var types []string
	for _, env := range envs {
		if strings.Contains(string(env.GetPayload().GetValue()), "safe place") || strings.Contains(string(env.GetPayload().GetValue()), "Monday") {
			t.Errorf("event %s carries free text", env.GetType())
		}
		if strings.HasPrefix(env.GetType(), "referral.") && env.GetType() != "referral.provider_changed" {
			types = append(types, env.GetType())
		}
	}
	if len(types) != 4 || types[0] != "referral.created" || types[3] != "referral.declined" {
		t.Errorf("referral events %v", types)
	}
}

func TestARetriedReferralIsTheSameAndAReusedKeyIsRefused(t *testing.T) {
	s := serveWith(t, &registry{cases: map[string]cases.Case{adult.ID: adult}})
	police := as(t, s, "ASP-ANTITRAF", auth.RoleCaseworker)
	ctx := metadata.AppendToOutgoingContext(t.Context(), "idempotency-key", "ref-42")
	first, err := police.CreateReferral(ctx, toShelter(adult.ID))
	if err != nil {
		t.Fatal(err)
	}
	again, err := police.CreateReferral(ctx, toShelter(adult.ID))
	if err != nil || again.GetReferral().GetId() != first.GetReferral().GetId() {
		t.Fatalf("a retry: %v, %v", again, err)
	}
	other := toShelter(adult.ID)
	other.Reason = "another reason"
	if _, err := police.CreateReferral(ctx, other); status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("a reused key: %v", err)
	}
	if n := referralsIn(t, s); n != 1 {
		t.Errorf("%d referrals, want 1", n)
	}
}

// consentEvent is the registry's case.updated recording a consent-to-referral answer.
func consentEvent(t *testing.T, caseID string, decision caseregistryv1.ConsentDecision) *eventsv1.Envelope {
	t.Helper()
	payload, err := anypb.New(&caseregistryv1.CaseUpdated{CaseId: caseID, Headings: []string{"consent"}, Fields: []string{"consents.referral"},
		Consent: &caseregistryv1.ConsentRecord{Scope: caseregistryv1.ConsentScope_CONSENT_SCOPE_REFERRAL, Decision: decision, Date: "2026-12-01"}})
	if err != nil {
		t.Fatal(err)
	}
	return &eventsv1.Envelope{Id: uuid.NewString(), Type: "case.updated", AggregateId: caseID, AggregateVersion: 9, Payload: payload}
}

// Consent withdrawn in the registry withdraws the case's pending and accepted referrals, once;
// an answer other than a withdrawal, or a completed referral, is left alone.
func TestWithdrawnConsentWithdrawsTheOpenReferrals(t *testing.T) {
	s := serveWith(t, &registry{cases: map[string]cases.Case{adult.ID: adult}})
	police := as(t, s, "ASP-ANTITRAF", auth.RoleCaseworker)
	shelter := as(t, s, "KKSAT", auth.RoleCaseworker, auth.RoleMember)
	ctx := t.Context()
	var ids []string
	for range 3 {
		made, err := police.CreateReferral(ctx, toShelter(adult.ID))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, made.GetReferral().GetId())
	}
	for _, id := range ids[1:] {
		if _, err := shelter.AcceptReferral(ctx, &referralv1.AcceptReferralRequest{Id: id}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := shelter.CompleteReferral(ctx, &referralv1.CompleteReferralRequest{Id: ids[2], Outcome: referralv1.ReferralOutcome_REFERRAL_OUTCOME_DELIVERED}); err != nil {
		t.Fatal(err)
	}
	state := func(id string) referralv1.ReferralState {
		r, err := police.GetReferral(ctx, &referralv1.GetReferralRequest{Id: id})
		if err != nil {
			t.Fatal(err)
		}
		return r.GetReferral().GetState()
	}
	s.Bus.Publish(t, "nrm.case.updated", consentEvent(t, adult.ID, caseregistryv1.ConsentDecision_CONSENT_DECISION_GIVEN), nil)
	withdrawal := consentEvent(t, adult.ID, caseregistryv1.ConsentDecision_CONSENT_DECISION_WITHDRAWN)
	s.Bus.Publish(t, "nrm.case.updated", withdrawal, nil)
	testenv.Eventually(t, 10*time.Second, "open referrals withdrawn", func() bool {
		return state(ids[0]) == referralv1.ReferralState_REFERRAL_STATE_WITHDRAWN && state(ids[1]) == referralv1.ReferralState_REFERRAL_STATE_WITHDRAWN
	})
	if got := state(ids[2]); got != referralv1.ReferralState_REFERRAL_STATE_COMPLETED {
		t.Errorf("a completed referral became %s", got)
	}
	// Redelivered (a new message id, the same facts): the referrals withdrawn stay as they are.
	// A referral made meanwhile (the test's registry still says consent is given) shows when the
	// redelivery has been handled.
	late, err := police.CreateReferral(ctx, toShelter(adult.ID))
	if err != nil {
		t.Fatal(err)
	}
	withdrawal.Id = uuid.NewString()
	s.Bus.Publish(t, "nrm.case.updated", withdrawal, nil)
	testenv.Eventually(t, 10*time.Second, "redelivery handled", func() bool {
		return state(late.GetReferral().GetId()) == referralv1.ReferralState_REFERRAL_STATE_WITHDRAWN
	})
	if r, _ := police.GetReferral(ctx, &referralv1.GetReferralRequest{Id: ids[0]}); r.GetReferral().GetVersion() != 2 {
		t.Errorf("the withdrawn referral is at version %d, want 2", r.GetReferral().GetVersion())
	}
}

// The recipient records the services it delivered once it has accepted; their notes are sealed
// like the reason; the events name the service and dates only. The recipient decides on the
// case's pseudonymous profile, which the referral carries.
func TestTheRecipientRecordsTheServicesItDelivered(t *testing.T) {
	withProfile := adult
	withProfile.Sex, withProfile.AgeBand, withProfile.Language = "SEX_FEMALE", "AGE_BAND_18_24", "sq"
	s := serveWith(t, &registry{cases: map[string]cases.Case{adult.ID: withProfile}})
	police := as(t, s, "ASP-ANTITRAF", auth.RoleCaseworker)
	shelter := as(t, s, "KKSAT", auth.RoleCaseworker, auth.RoleMember)
	ctx := t.Context()
	purpose := metadata.AppendToOutgoingContext(ctx, "x-nrm-purpose", "assistance")
	made, err := police.CreateReferral(ctx, toShelter(adult.ID))
	if err != nil {
		t.Fatal(err)
	}
	id := made.GetReferral().GetId()
	if p := made.GetReferral().GetProfile(); p.GetSex() != caseregistryv1.Sex_SEX_FEMALE || p.GetPrimaryLanguage() != "sq" {
		t.Errorf("the profile the recipient decides on: %v", p)
	}
	today := time.Now().In(time.FixedZone("Tirana", 3600)).AddDate(0, 0, -1).Format(time.DateOnly)
	service := &referralv1.ServiceDelivered{ServiceType: referralv1.ServiceType_SERVICE_TYPE_SHELTER, StartDate: today, Note: "Room 4, with her sister"}
	if _, err := shelter.RecordServiceDelivered(ctx, &referralv1.RecordServiceDeliveredRequest{Id: id, Service: service}); status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("a service before acceptance: %v", err)
	}
	if _, err := shelter.AcceptReferral(ctx, &referralv1.AcceptReferralRequest{Id: id}); err != nil {
		t.Fatal(err)
	}
	if _, err := police.RecordServiceDelivered(ctx, &referralv1.RecordServiceDeliveredRequest{Id: id, Service: service}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("the sender recording a service: %v", err)
	}
	for name, bad := range map[string]*referralv1.ServiceDelivered{
		"no type":          {StartDate: today},
		"no start":         {ServiceType: referralv1.ServiceType_SERVICE_TYPE_SHELTER},
		"a future start":   {ServiceType: referralv1.ServiceType_SERVICE_TYPE_SHELTER, StartDate: "2099-01-01"},
		"an end too early": {ServiceType: referralv1.ServiceType_SERVICE_TYPE_SHELTER, StartDate: today, EndDate: "2020-01-01"},
		"not a date":       {ServiceType: referralv1.ServiceType_SERVICE_TYPE_SHELTER, StartDate: "yesterday"},
	} {
		if _, err := shelter.RecordServiceDelivered(ctx, &referralv1.RecordServiceDeliveredRequest{Id: id, Service: bad}); status.Code(err) != codes.InvalidArgument {
			t.Errorf("%s: %v", name, err)
		}
	}
	got, err := shelter.RecordServiceDelivered(ctx, &referralv1.RecordServiceDeliveredRequest{Id: id, Service: service})
	if err != nil || len(got.GetReferral().GetServices()) != 1 || got.GetReferral().GetServices()[0].GetNote() != "" {
		t.Fatalf("RecordServiceDelivered: %v, %v (the note is shown with a purpose only)", got, err)
	}
	read, err := shelter.GetReferral(purpose, &referralv1.GetReferralRequest{Id: id})
	if err != nil || read.GetReferral().GetServices()[0].GetNote() != service.GetNote() || read.GetReferral().GetServices()[0].GetRecordedBy() != "KKSAT" {
		t.Fatalf("with a purpose: %v, %v", read, err)
	}
	envs := eventsWhen(t, s, "the service's event", func(envs []*eventsv1.Envelope) bool {
		return len(envs) > 0 && envs[len(envs)-1].GetType() == "referral.service_delivered"
	})
	last := envs[len(envs)-1]
	var e referralv1.ReferralChanged
	if err := last.GetPayload().UnmarshalTo(&e); err != nil || last.GetType() != "referral.service_delivered" ||
		e.GetService().GetStartDate() != today || strings.Contains(string(last.GetPayload().GetValue()), "Room 4") {
		t.Errorf("the event: %s %v, %v", last.GetType(), &e, err)
	}
}

func ids(rs []*referralv1.Referral) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.GetId())
	}
	return out
}

// An institution lists what it received (its inbox: the pending ones by deadline, or all newest
// first) and what it sent; the stewards list every referral, with filters; nobody else's.
func TestInboxesOutboxesAndTheStewardsView(t *testing.T) {
	s := serveWith(t, &registry{cases: map[string]cases.Case{adult.ID: adult}})
	police := as(t, s, "ASP-ANTITRAF", auth.RoleCaseworker)
	shelter := as(t, s, "KKSAT", auth.RoleCaseworker, auth.RoleMember)
	stewards := referralv1.NewReferralServiceClient(s.Conn)
	ctx := t.Context()
	make := func(provider string, service referralv1.ServiceType, urgency referralv1.ReferralUrgency) string {
		t.Helper()
		r := toShelter(adult.ID)
		r.ProviderCode, r.ServiceType, r.Urgency = provider, service, urgency
		made, err := police.CreateReferral(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		return made.GetReferral().GetId()
	}
	standard, emergency := referralv1.ReferralUrgency_REFERRAL_URGENCY_STANDARD, referralv1.ReferralUrgency_REFERRAL_URGENCY_EMERGENCY
	first := make("KKSAT", referralv1.ServiceType_SERVICE_TYPE_SHELTER, standard)
	second := make("KKSAT", referralv1.ServiceType_SERVICE_TYPE_SHELTER, emergency)
	third := make("SHSSH", referralv1.ServiceType_SERVICE_TYPE_FINANCIAL_AID, standard)
	fourth := make("KKSAT", referralv1.ServiceType_SERVICE_TYPE_LEGAL, standard)
	if _, err := shelter.AcceptReferral(ctx, &referralv1.AcceptReferralRequest{Id: fourth}); err != nil {
		t.Fatal(err)
	}

	pending, err := shelter.ListReferrals(ctx, &referralv1.ListReferralsRequest{Recipient: "KKSAT", Pending: true})
	if err != nil || !slices.Equal(ids(pending.GetReferrals()), []string{second, first}) {
		t.Fatalf("the inbox's pending, soonest deadline first: %v, %v", ids(pending.GetReferrals()), err)
	}
	var inbox []string
	req := &referralv1.ListReferralsRequest{Recipient: "KKSAT", PageSize: 2}
	for {
		page, err := shelter.ListReferrals(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		inbox = append(inbox, ids(page.GetReferrals())...)
		if page.GetNextPageToken() == "" {
			break
		}
		req.PageToken = page.GetNextPageToken()
	}
	if !slices.Equal(inbox, []string{fourth, second, first}) {
		t.Errorf("the inbox, newest first: %v", inbox)
	}
	if out, err := police.ListReferrals(ctx, &referralv1.ListReferralsRequest{Sender: "ASP-ANTITRAF"}); err != nil || len(out.GetReferrals()) != 4 {
		t.Errorf("the outbox: %v, %v", ids(out.GetReferrals()), err)
	}
	for name, bad := range map[string]*referralv1.ListReferralsRequest{
		"another's inbox":  {Recipient: "SHSSH"},
		"another's outbox": {Sender: "ASP-ANTITRAF"},
		"every referral":   {},
	} {
		if _, err := shelter.ListReferrals(ctx, bad); status.Code(err) != codes.PermissionDenied {
			t.Errorf("%s: %v", name, err)
		}
	}
	for name, f := range map[string]struct {
		req  *referralv1.ListReferralsRequest
		want []string
	}{
		"everything":  {&referralv1.ListReferralsRequest{}, []string{fourth, third, second, first}},
		"by provider": {&referralv1.ListReferralsRequest{ProviderCode: "SHSSH"}, []string{third}},
		"by state":    {&referralv1.ListReferralsRequest{State: referralv1.ReferralState_REFERRAL_STATE_ACCEPTED}, []string{fourth}},
		"by service":  {&referralv1.ListReferralsRequest{ServiceType: referralv1.ServiceType_SERVICE_TYPE_SHELTER}, []string{second, first}},
		"overdue":     {&referralv1.ListReferralsRequest{OverdueOnly: true}, nil},
	} {
		got, err := stewards.ListReferrals(ctx, f.req)
		if err != nil || !slices.Equal(ids(got.GetReferrals()), f.want) {
			t.Errorf("the stewards' view %s: %v, %v", name, ids(got.GetReferrals()), err)
		}
	}
	for name, bad := range map[string]*referralv1.ListReferralsRequest{
		"both parties": {Recipient: "KKSAT", Sender: "KKSAT"},
		"a bad code":   {Recipient: "kksat"},
		"a bad state":  {State: 99},
		"a bad token":  {PageToken: "x"},
	} {
		if _, err := stewards.ListReferrals(ctx, bad); status.Code(err) != codes.InvalidArgument {
			t.Errorf("%s: %v", name, err)
		}
	}
}
