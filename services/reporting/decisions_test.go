package reporting_test

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	caseregistryv1 "github.com/nrm-albania/nrm/proto/nrm/caseregistry/v1"
	reportingv1 "github.com/nrm-albania/nrm/proto/nrm/reporting/v1"
	"github.com/nrm-albania/nrm/services/platform/testenv"
	"github.com/nrm-albania/nrm/services/reporting"
)

// The case registry's acts published reach DecisionStatisticsService's figures through the
// service's own consumer, each once and in the period of its own date.
func TestDecisionFiguresOverGRPC(t *testing.T) {
	srv := testenv.Serve(t, reporting.Defaults(), mustConfigured(t).Setup)
	client := reportingv1.NewDecisionStatisticsServiceClient(srv.Conn)
	at := time.Date(2025, 4, 10, 9, 0, 0, 0, time.UTC)
	decided := func(v int64, st caseregistryv1.TraffickingStatus, day string, revision bool) *caseregistryv1.CaseStatusDecided {
		return &caseregistryv1.CaseStatusDecided{CaseId: "c1", Version: v, Status: st, DecidingBody: caseregistryv1.DecidingBody_DECIDING_BODY_JOINT_INTERVIEW,
			DecisionDate: day, RegistrationDate: "2025-03-01", Revision: revision}
	}
	publishOn(t, srv.Bus, "case.status_decided", "c1", 2, at, decided(2, caseregistryv1.TraffickingStatus_TRAFFICKING_STATUS_VICTIM, "2025-03-20", false))
	publishOn(t, srv.Bus, "case.status_decided", "c1", 2, at, decided(2, caseregistryv1.TraffickingStatus_TRAFFICKING_STATUS_VICTIM, "2025-03-20", false))
	publishOn(t, srv.Bus, "case.closed", "c1", 3, at, &caseregistryv1.CaseClosed{CaseId: "c1", Version: 3,
		Reason: caseregistryv1.ClosureReason_CLOSURE_REASON_REINTEGRATED, Date: "2025-04-01"})
	publishOn(t, srv.Bus, "case.reopened", "c1", 4, at, &caseregistryv1.CaseReopened{CaseId: "c1", Version: 4,
		Reason: caseregistryv1.ReopenReason_REOPEN_REASON_NEW_INFORMATION})
	publishOn(t, srv.Bus, "case.status_decided", "c1", 5, at, decided(5, caseregistryv1.TraffickingStatus_TRAFFICKING_STATUS_POTENTIAL_VICTIM, "2025-04-10", true))

	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	var got *reportingv1.GetDecisionStatisticsResponse
	testenv.Eventually(t, within, "the decision, closure, reopening and revision", func() bool {
		r, err := client.GetDecisionStatistics(ctx, &reportingv1.GetDecisionStatisticsRequest{})
		got = r
		return err == nil && r.GetDecisions().GetTotal() == 1 && r.GetRevisions().GetTotal() == 1 && r.GetClosures() == 1 && r.GetReopenings() == 1
	})
	interview := []*reportingv1.Count{{Key: "DECIDING_BODY_JOINT_INTERVIEW", Count: 1}}
	want := &reportingv1.GetDecisionStatisticsResponse{
		Decisions:          &reportingv1.StatusDecisions{Total: 1, ByStatus: []*reportingv1.Count{{Key: "TRAFFICKING_STATUS_VICTIM", Count: 1}}, ByDecidingBody: interview},
		Revisions:          &reportingv1.StatusDecisions{Total: 1, ByStatus: []*reportingv1.Count{{Key: "TRAFFICKING_STATUS_POTENTIAL_VICTIM", Count: 1}}, ByDecidingBody: interview},
		MeanDaysToDecision: 19, MedianDaysToDecision: 30, DaysToDecisionHistogram: []*reportingv1.Count{{Key: "le_30d", Count: 1}},
		Closures: 1, ClosuresByReason: []*reportingv1.Count{{Key: "CLOSURE_REASON_REINTEGRATED", Count: 1}},
		Reopenings: 1, ReopeningsByReason: []*reportingv1.Count{{Key: "REOPEN_REASON_NEW_INFORMATION", Count: 1}},
	}
	got.AsOf = nil
	if !proto.Equal(got, want) {
		t.Errorf("all time:\n got %v\nwant %v", got, want)
	}

	// April holds the closure, the reopening and the revision; the first decision was March's.
	april, err := client.GetDecisionStatistics(ctx, &reportingv1.GetDecisionStatisticsRequest{From: "2025-04-01", To: "2025-04-30"})
	if err != nil {
		t.Fatal(err)
	}
	if d := april.GetDecisions().GetTotal(); d != 0 || april.GetRevisions().GetTotal() != 1 || april.GetClosures() != 1 || april.GetReopenings() != 1 {
		t.Errorf("April: %v", april)
	}

	for _, req := range []*reportingv1.GetDecisionStatisticsRequest{{From: "2025-4-01"}, {From: "2025-04-10", To: "2025-04-09"}} {
		if _, err := client.GetDecisionStatistics(ctx, req); status.Code(err) != codes.InvalidArgument {
			t.Errorf("%v: %v; want InvalidArgument", req, err)
		}
	}
}
