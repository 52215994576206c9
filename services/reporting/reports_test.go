package reporting_test

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	reportingv1 "github.com/nrm-albania/nrm/proto/nrm/reporting/v1"
	"github.com/nrm-albania/nrm/services/platform/auth"
	"github.com/nrm-albania/nrm/services/platform/testenv"
	"github.com/nrm-albania/nrm/services/reporting"
)

// The report through gRPC, with two approvers configured: a member approves for itself only;
// the report is final after the second approval, and its submission keeps the PDF's hash.
func TestTheReportThroughGRPC(t *testing.T) {
	svc, err := reporting.Configured(map[string]string{"NRM_REPORT_APPROVERS": "SHSSH, KKSAT", "NRM_REPORT_AUTO_DRAFT": "false"})
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
	if d.GetReport().GetPeriod() != "2026-07-01..2026-09-30" || len(d.GetReport().GetPendingApprovers()) != 2 {
		t.Fatalf("draft: %v", d.GetReport())
	}
	if _, err := admin.CirculateReport(ctx, &reportingv1.CirculateReportRequest{Id: id}); err != nil {
		t.Fatal(err)
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
