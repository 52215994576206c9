package reporting_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/timestamppb"

	eventsv1 "github.com/nrm-albania/nrm/proto/nrm/events/v1"
	referralv1 "github.com/nrm-albania/nrm/proto/nrm/referral/v1"
	reportingv1 "github.com/nrm-albania/nrm/proto/nrm/reporting/v1"
	secretariatv1 "github.com/nrm-albania/nrm/proto/nrm/secretariat/v1"
	"github.com/nrm-albania/nrm/services/platform/testenv"
	"github.com/nrm-albania/nrm/services/reporting"
)

// publishOn publishes payload as event typ of aggregate id at version, on nrm.<typ>.
func publishOn(t *testing.T, bus *testenv.Bus, typ, id string, version int64, at time.Time, payload proto.Message) {
	t.Helper()
	a, err := anypb.New(payload)
	if err != nil {
		t.Fatal(err)
	}
	env := &eventsv1.Envelope{Id: fmt.Sprintf("%s@%d/%s", id, version, typ), Type: typ, AggregateId: id, AggregateVersion: version,
		OccurredAt: timestamppb.New(at), Payload: a}
	bus.Publish(t, "nrm."+typ, env, nil)
}

// The referral and meeting events published reach ActivityService's figures through the
// service's own consumers, over gRPC.
func TestActivityFiguresOverGRPC(t *testing.T) {
	srv := testenv.Serve(t, reporting.Defaults(), mustConfigured(t).Setup)
	client := reportingv1.NewActivityServiceClient(srv.Conn)
	created := time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC)
	referral := func(v int64, state referralv1.ReferralState) *referralv1.ReferralChanged {
		return &referralv1.ReferralChanged{ReferralId: "r1", Version: v, ServiceType: referralv1.ServiceType_SERVICE_TYPE_SHELTER,
			ProviderCode: "SHELTER-TR", SenderInstitution: "ASP-ANTITRAF", Urgency: referralv1.ReferralUrgency_REFERRAL_URGENCY_EMERGENCY,
			State: state, CreatedAt: timestamppb.New(created)}
	}
	publishOn(t, srv.Bus, "referral.created", "r1", 1, created, referral(1, referralv1.ReferralState_REFERRAL_STATE_PENDING))
	publishOn(t, srv.Bus, "referral.provider_changed", "SHELTER-TR", 3, created, &referralv1.Provider{Code: "SHELTER-TR"})
	publishOn(t, srv.Bus, "referral.accepted", "r1", 2, created.Add(3*time.Hour), referral(2, referralv1.ReferralState_REFERRAL_STATE_ACCEPTED))
	publishOn(t, srv.Bus, "meeting.closed", "m1", 6, created, &secretariatv1.MeetingChanged{MeetingId: "m1", Version: 6, Month: "2025-03",
		Kind: secretariatv1.MeetingKind_MEETING_KIND_REGULAR, State: secretariatv1.MeetingState_MEETING_STATE_HELD, Attendance: []string{"ASP", "MSHMS"}})
	publishOn(t, srv.Bus, "decision.recorded", "m1", 5, created, &secretariatv1.DecisionRecorded{MeetingId: "m1", Version: 5, DecisionId: "d1",
		Kind: secretariatv1.DecisionKind_DECISION_KIND_STATUS_RECOMMENDATION, Adopted: true})
	publishOn(t, srv.Bus, "action.created", "m1", 5, created, &secretariatv1.ActionChanged{ActionId: "a1", MeetingId: "m1", Version: 5,
		State: secretariatv1.ActionState_ACTION_STATE_OPEN})

	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	var refs *reportingv1.GetReferralStatisticsResponse
	testenv.Eventually(t, within, "the referral accepted", func() bool {
		r, err := client.GetReferralStatistics(ctx, &reportingv1.GetReferralStatisticsRequest{From: "2025-03-01", To: "2025-03-31"})
		refs = r
		return err == nil && r.GetAnswered() == 1
	})
	if refs.GetTotal() != 1 || count(refs.GetByState(), "REFERRAL_STATE_ACCEPTED") != 1 || count(refs.GetByState(), "REFERRAL_STATE_PENDING") != 0 ||
		refs.GetMeanResponseSeconds() != 3*3600 || refs.GetMedianResponseSeconds() != 4*3600 || count(refs.GetByProvider(), "SHELTER-TR") != 1 {
		t.Errorf("referral figures: %v", refs)
	}
	var meetings *reportingv1.GetMeetingStatisticsResponse
	testenv.Eventually(t, within, "the meeting, its decision and its action", func() bool {
		r, err := client.GetMeetingStatistics(ctx, &reportingv1.GetMeetingStatisticsRequest{From: "2025-03-15", To: "2025-03-15"})
		meetings = r
		return err == nil && r.GetHeld() == 1 && r.GetDecisions() == 1 && r.GetActions() == 1
	})
	if count(meetings.GetAttendanceByInstitution(), "MSHMS") != 1 || meetings.GetActionsOpen() != 1 || meetings.GetDecisionsAdopted() != 1 {
		t.Errorf("meeting figures: %v", meetings)
	}
	if r, err := client.GetReferralStatistics(ctx, &reportingv1.GetReferralStatisticsRequest{From: "2025-04-01"}); err != nil || r.GetTotal() != 0 {
		t.Errorf("April on: %v, %v; want nothing", r, err)
	}
	if _, err := client.GetMeetingStatistics(ctx, &reportingv1.GetMeetingStatisticsRequest{From: "March"}); err == nil {
		t.Error("a period that is no date was accepted")
	}
}

// The case events reach the cross-tabulations through their own consumer; a pair of dimensions
// that is not one is refused.
func TestCaseCrossTabOverGRPC(t *testing.T) {
	srv := testenv.Serve(t, reporting.Defaults(), mustConfigured(t).Setup)
	s := &service{client: reportingv1.NewReportingServiceClient(srv.Conn), bus: srv.Bus}
	client := reportingv1.NewActivityServiceClient(srv.Conn)
	at := time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC)
	s.publishEvent(t, event(t, registered("c1", "2025-03-09", "ASP-ANTITRAF"), at))
	s.publishEvent(t, event(t, registered("c2", "2025-03-10", "SHSSH"), at))
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	var tab *reportingv1.GetCaseCrossTabResponse
	testenv.Eventually(t, within, "both cases cross-tabulated", func() bool {
		r, err := client.GetCaseCrossTab(ctx, &reportingv1.GetCaseCrossTabRequest{Rows: "identifying_institution", Columns: "sex"})
		tab = r
		return err == nil && r.GetTotal() == 2
	})
	want := []*reportingv1.CrossTabCell{{Row: "ASP-ANTITRAF", Column: "SEX_FEMALE", Count: 1}, {Row: "SHSSH", Column: "SEX_FEMALE", Count: 1}}
	if len(tab.GetCells()) != len(want) {
		t.Fatalf("cells %v, want %v", tab.GetCells(), want)
	}
	for i, c := range tab.GetCells() {
		if !proto.Equal(c, want[i]) {
			t.Errorf("cell %d: %v, want %v", i, c, want[i])
		}
	}
	for _, req := range []*reportingv1.GetCaseCrossTabRequest{
		{Rows: "sex", Columns: "sex"},
		{Rows: "name", Columns: "sex"},
		{Rows: "sex", Columns: "status", From: "2025-03-10", To: "2025-03-09"},
	} {
		if _, err := client.GetCaseCrossTab(ctx, req); status.Code(err) != codes.InvalidArgument {
			t.Errorf("%v: %v; want InvalidArgument", req, err)
		}
	}
}
