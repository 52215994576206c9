package reporting_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	reportingv1 "github.com/nrm-albania/nrm/proto/nrm/reporting/v1"
	secretariatv1 "github.com/nrm-albania/nrm/proto/nrm/secretariat/v1"
	"github.com/nrm-albania/nrm/services/platform/auth"
	"github.com/nrm-albania/nrm/services/platform/testenv"
	"github.com/nrm-albania/nrm/services/reporting"
)

// The report through gRPC, approved under the rules of procedure the secretariat publishes:
// before they arrive, a report cannot be circulated and stays a draft; once they have, it goes to
// their members (two here) under the version in force; a member approves for itself only; the
// report is final after the second approval, and its submission keeps the PDF's hash.
func TestTheReportThroughGRPC(t *testing.T) {
	svc, err := reporting.Configured(map[string]string{"NRM_REPORT_AUTO_DRAFT": "false"})
	if err != nil {
		t.Fatal(err)
	}
	srv := testenv.Serve(t, reporting.Defaults(), svc.Setup)
	ctx := context.Background()
	admin := reportingv1.NewReportServiceClient(srv.Conn)
	as := func(code string) reportingv1.ReportServiceClient {
		p := auth.Principal{Institution: code, Subject: "dev-member-" + code, Roles: []auth.Role{auth.RoleMember}}
		return reportingv1.NewReportServiceClient(srv.Dial(t, srv.Issuer.TokenFor(t, p, time.Hour)))
	}
	d, err := admin.DraftReport(ctx, &reportingv1.DraftReportRequest{From: "2026-07-01", To: "2026-09-30"})
	if err != nil {
		t.Fatal(err)
	}
	id := d.GetReport().GetId()
	if d.GetReport().GetPeriod() != "2026-07-01..2026-09-30" || len(d.GetReport().GetApprovers()) != 0 || d.GetReport().GetApprovalRule() != nil {
		t.Fatalf("draft: %v", d.GetReport())
	}
	_, err = admin.CirculateReport(ctx, &reportingv1.CirculateReportRequest{Id: id})
	if status.Code(err) != codes.Unavailable || reasonOf(err) != "RULES_OF_PROCEDURE_UNKNOWN" {
		t.Fatalf("circulated before the rules of procedure arrived: %v", err)
	}
	if g, err := admin.GetReport(ctx, &reportingv1.GetReportRequest{Id: id}); err != nil || g.GetReport().GetVersion() != 1 ||
		g.GetReport().GetState() != reportingv1.ReportState_REPORT_STATE_DRAFT {
		t.Fatalf("after the refusal: %v, %v", g.GetReport(), err)
	}

	// The secretariat's versions: in force since 2023, and one adopted for 2999, twice over.
	adopted := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	rules := func(version int32, from string, tacit bool, members ...string) *secretariatv1.RulesAdopted {
		return &secretariatv1.RulesAdopted{Members: members, Rules: &secretariatv1.RulesOfProcedure{Version: version, EffectiveFrom: from,
			AdoptedBy: "test", QuorumMembers: 2, ReportApprovalDays: 7, TacitReportApproval: tacit}}
	}
	publishOn(t, srv.Bus, "rules.adopted", "rules-of-procedure", 1, adopted, rules(1, "2023-01-01", false, "SHSSH", "KKSAT"))
	for range 2 {
		publishOn(t, srv.Bus, "rules.adopted", "rules-of-procedure", 2, adopted, rules(2, "2999-01-01", true, "SHSSH", "KKSAT", "MAS"))
	}
	var c *reportingv1.CirculateReportResponse
	testenv.Eventually(t, 10*time.Second, "the report circulated once the rules arrived", func() bool {
		c, err = admin.CirculateReport(ctx, &reportingv1.CirculateReportRequest{Id: id})
		return err == nil
	})
	rule, circulated := c.GetReport().GetApprovalRule(), c.GetReport().GetCirculateTime().AsTime()
	if !slices.Equal(c.GetReport().GetApprovers(), []string{"SHSSH", "KKSAT"}) || rule.GetRulesVersion() != 1 || rule.GetTacit() ||
		rule.GetApprovalDays() != 7 || !rule.GetDueTime().AsTime().Equal(circulated.AddDate(0, 0, 7)) {
		t.Fatalf("circulated to %v under %v", c.GetReport().GetApprovers(), rule)
	}
	if _, err := as("KKSAT").ApproveReport(ctx, &reportingv1.ApproveReportRequest{Id: id, Institution: "SHSSH"}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("KKSAT approving for SHSSH: %v", err)
	}
	for i, m := range []string{"SHSSH", "KKSAT"} {
		a, err := as(m).ApproveReport(ctx, &reportingv1.ApproveReportRequest{Id: id})
		if err != nil {
			t.Fatal(err)
		}
		if final := a.GetReport().GetState() == reportingv1.ReportState_REPORT_STATE_APPROVED; final != (i == 1) {
			t.Fatalf("after %s: %v", m, a.GetReport().GetState())
		}
	}
	s, err := admin.SubmitReport(ctx, &reportingv1.SubmitReportRequest{Id: id})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.GetReport().GetSubmission().GetPdfSha256()) != 64 {
		t.Errorf("submission: %v", s.GetReport().GetSubmission())
	}
	if _, err := admin.DraftReport(ctx, &reportingv1.DraftReportRequest{From: "2026-07-01", To: "2026-09-30"}); status.Code(err) != codes.FailedPrecondition {
		t.Errorf("drafting a submitted report again: %v", err)
	}
	l, err := admin.ListReports(ctx, &reportingv1.ListReportsRequest{})
	if err != nil || len(l.GetReports()) != 1 || l.GetReports()[0].GetId() != id {
		t.Errorf("list: %v, %v", l, err)
	}
}
