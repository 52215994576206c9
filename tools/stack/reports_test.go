package stack_test

import (
	"bytes"
	"encoding/csv"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nrm-albania/nrm/services/platform/testenv"
	"github.com/nrm-albania/nrm/services/platform/workdays"
	"github.com/nrm-albania/nrm/tools/stack"
)

// The monthly report through REST, as outside checks drive it: a case identified in October
// 2026 is counted; the secretariat drafts October's report and circulates it; the 13 members
// approve it, each with its own token, and it is APPROVED only after the 13th; a member cannot
// approve for another; the secretariat submits it; it exports as PDF, XLSX and CSV with the
// figures.
func TestTheMonthlyReportThroughREST(t *testing.T) {
	s := startStack(t, func(o *stack.Options) { o.MailCatcher = true })
	sec := bearerOf(t, s, "NRM_TOKEN_SECRETARIAT")
	if code, reg := call(t, "POST", s.GatewayURL+"/v1/cases", strings.NewReader(string(example(t))), bearerOf(t, s, "NRM_TOKEN_CASEWORKER_POLICE")); code != http.StatusOK {
		t.Fatalf("register: %d %v", code, reg)
	}
	testenv.Eventually(t, 30*time.Second, "October's statistics to count the case", func() bool {
		_, st := call(t, "GET", s.GatewayURL+"/v1/statistics/cases?from=2026-10-01&to=2026-10-31", nil, sec)
		return st["total"] == "1"
	})

	code, out := call(t, "POST", s.GatewayURL+"/v1/reports:draft", strings.NewReader(`{"period": "2026-10"}`), sec)
	if code != http.StatusOK {
		t.Fatalf("draft: %d %v", code, out)
	}
	report := out["report"].(map[string]any)
	id := report["id"].(string)
	if report["state"] != "REPORT_STATE_DRAFT" || report["version"] != "1" || report["period"] != "2026-10" {
		t.Fatalf("the draft: %v", report)
	}
	// Circulated under the secretariat's rules of procedure, version 1 as seeded: to the 13
	// members, explicitly, in 10 days.
	code, out = call(t, "POST", s.GatewayURL+"/v1/reports/"+id+":circulate", strings.NewReader(`{}`), sec)
	if code != http.StatusOK {
		t.Fatalf("circulate: %d %v", code, out)
	}
	report = out["report"].(map[string]any)
	if rule, _ := report["approvalRule"].(map[string]any); len(report["approvers"].([]any)) != 13 || rule["rulesVersion"] != float64(1) ||
		rule["approvalDays"] != float64(10) || rule["tacit"] == true || rule["dueTime"] == nil {
		t.Fatalf("circulated to %v under %v", report["approvers"], report["approvalRule"])
	}

	// KKSAT cannot approve for MAS, and the secretariat is no member.
	if code, e := call(t, "POST", s.GatewayURL+"/v1/reports/"+id+":approve", strings.NewReader(`{"institution": "MAS"}`),
		bearerOf(t, s, "NRM_TOKEN_MEMBER_KKSAT")); code != http.StatusForbidden || !containsReason(e, "NOT_YOUR_INSTITUTION") {
		t.Fatalf("KKSAT approving for MAS: %d %v", code, e)
	}
	if code, e := call(t, "POST", s.GatewayURL+"/v1/reports/"+id+":approve", strings.NewReader(`{}`), sec); code != http.StatusForbidden {
		t.Fatalf("the secretariat approving: %d %v", code, e)
	}
	if code, e := call(t, "POST", s.GatewayURL+"/v1/reports/"+id+":submit", strings.NewReader(`{}`), sec); code != http.StatusBadRequest || !containsReason(e, "NOT_APPROVED") {
		t.Fatalf("submitting before the approvals: %d %v", code, e)
	}

	members := []string{"MB_DPAM", "ASP_ANTITRAF", "ASP_KUFIRI", "ASP_DHF_MINORE", "ASP_KIBERNETIK", "MEPJ_KONSULLORE",
		"MSHMS", "ASHDMF", "SHSSH", "MAS", "AKPA", "ISHPSHSH", "KKSAT"}
	for i, m := range members {
		if code, out := call(t, "POST", s.GatewayURL+"/v1/reports/"+id+":approve", strings.NewReader(`{}`), bearerOf(t, s, "NRM_TOKEN_MEMBER_"+m)); code != http.StatusOK {
			t.Fatalf("%s approves: %d %v", m, code, out)
		}
		_, got := call(t, "GET", s.GatewayURL+"/v1/reports/"+id, nil, sec)
		state := got["report"].(map[string]any)["state"]
		if last := i == len(members)-1; (state == "REPORT_STATE_APPROVED") != last {
			t.Fatalf("after %d approvals the report is %v", i+1, state)
		}
	}

	code, out = call(t, "POST", s.GatewayURL+"/v1/reports/"+id+":submit", strings.NewReader(`{}`), sec)
	if code != http.StatusOK {
		t.Fatalf("submit: %d %v", code, out)
	}
	report = out["report"].(map[string]any)
	sub, _ := report["submission"].(map[string]any)
	if report["state"] != "REPORT_STATE_SUBMITTED" || sub == nil || len(sub["pdfSha256"].(string)) != 64 || len(sub["recipients"].([]any)) != 2 {
		t.Fatalf("the submitted report: %v", report)
	}
	// The secretariat mails it to the Ministry's recipients, the PDF attached, once.
	var mails []string
	testenv.Eventually(t, 30*time.Second, "the report mailed to the general director and the deputy minister", func() bool {
		mails = mails[:0]
		all, _ := filepath.Glob(filepath.Join(s.MailDir, "*.eml"))
		for _, m := range all {
			if b, err := os.ReadFile(m); err == nil && bytes.Contains(b, []byte("report-2026-10.pdf")) {
				mails = append(mails, string(b))
			}
		}
		return len(mails) == 2
	})
	joined := strings.ReplaceAll(strings.Join(mails, ""), "=\r\n", "") // quoted-printable's soft breaks
	if !strings.Contains(joined, "general.director@ministry.nrm.test") || !strings.Contains(joined, sub["pdfSha256"].(string)) {
		t.Errorf("the mails lack a recipient or the PDF's hash")
	}
	if code, e := call(t, "POST", s.GatewayURL+"/v1/reports:draft", strings.NewReader(`{"period": "2026-10"}`), sec); code != http.StatusBadRequest || !containsReason(e, "REPORT_FINAL") {
		t.Fatalf("drafting a submitted month again: %d %v", code, e)
	}

	analyst := bearerOf(t, s, "NRM_TOKEN_ANALYST")
	pdf := fetch(t, s.GatewayURL+"/v1/reports/"+id+":export?format=pdf", "application/pdf", analyst)
	if text := strings.Join(strings.Fields(pdfText(t, pdf)), " "); !strings.Contains(text, "Identified in the period 1") || !strings.Contains(text, "Approved by all 13 members") {
		t.Errorf("the PDF lacks the figures:\n%s", text)
	}
	if xlsx := fetch(t, s.GatewayURL+"/v1/reports/"+id+":export?format=xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", analyst); !bytes.HasPrefix(xlsx, []byte("PK")) {
		t.Errorf("the XLSX is no zip: %q", xlsx[:min(len(xlsx), 16)])
	}
	lines, err := csv.NewReader(bytes.NewReader(fetch(t, s.GatewayURL+"/v1/reports/"+id+":export?format=csv", "text/csv; charset=utf-8", analyst))).ReadAll()
	if err != nil || strings.Join(lines[0], ",") != "section,table,row,column,value" ||
		strings.Join(lines[1], ",") != "Cases identified,Total,Identified in the period,Number,1" {
		t.Errorf("the CSV: %v %v", lines, err)
	}

	// The Authority adopts rules of procedure under which silence approves a report after 3
	// days: the next report circulated follows them; the submitted one keeps its own.
	today := time.Now().In(workdays.Tirana).Format(time.DateOnly)
	if code, out := call(t, "POST", s.GatewayURL+"/v1/rules-of-procedure", strings.NewReader(`{"effective_from": "`+today+`", "adopted_by": "decision MB-2026-12-R/2",
		"quorum_members": 7, "quorum_requires_chair": true, "regular_notice_working_days": 5, "extraordinary_notice_hours": 24,
		"members_to_call_extraordinary": 5, "minutes_approval": "MINUTES_APPROVAL_NEXT_MEETING", "minutes_circulation_days": 5,
		"tacit_report_approval": true, "report_approval_days": 3, "meeting_reminder_day": 10}`), sec); code != http.StatusOK {
		t.Fatalf("adopt the rules of procedure: %d %v", code, out)
	}
	if code, out := call(t, "POST", s.GatewayURL+"/v1/reports:draft", strings.NewReader(`{"period": "2026-09"}`), sec); code != http.StatusOK {
		t.Fatalf("draft September's: %d %v", code, out)
	}
	september := ""
	testenv.Eventually(t, 30*time.Second, "September's report circulated under version 2", func() bool {
		_, l := call(t, "GET", s.GatewayURL+"/v1/reports", nil, sec)
		for _, r := range l["reports"].([]any) {
			if r := r.(map[string]any); r["period"] == "2026-09" {
				september = r["id"].(string)
			}
		}
		// Circulated before version 2 arrives, it would be under version 1: so draft again
		// (a new revision, back to a draft) until the circulation shows version 2.
		_, _ = call(t, "POST", s.GatewayURL+"/v1/reports:draft", strings.NewReader(`{"period": "2026-09"}`), sec)
		_, c := call(t, "POST", s.GatewayURL+"/v1/reports/"+september+":circulate", strings.NewReader(`{}`), sec)
		rule, _ := c["report"].(map[string]any)["approvalRule"].(map[string]any)
		return rule["rulesVersion"] == float64(2) && rule["tacit"] == true && rule["approvalDays"] == float64(3)
	})
	if _, got := call(t, "GET", s.GatewayURL+"/v1/reports/"+id, nil, sec); got["report"].(map[string]any)["approvalRule"].(map[string]any)["rulesVersion"] != float64(1) {
		t.Errorf("the submitted report's rule changed: %v", got["report"])
	}

	// Any section's tables over any period, as a file.
	tables := s.GatewayURL + "/v1/statistics/tables:export?section=cases&from=2026-10-01&to=2026-10-31&format="
	lines, err = csv.NewReader(bytes.NewReader(fetch(t, tables+"csv", "text/csv; charset=utf-8", analyst))).ReadAll()
	if err != nil || len(lines) < 2 || strings.Join(lines[1], ",") != "Cases identified,Total,Identified in the period,Number,1" {
		t.Errorf("the cases' tables as CSV: %v %v", lines, err)
	}
	if xlsx := fetch(t, tables+"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", analyst); !bytes.HasPrefix(xlsx, []byte("PK")) {
		t.Errorf("the cases' tables as XLSX: no zip")
	}
	if code, e := call(t, "GET", s.GatewayURL+"/v1/statistics/tables:export?section=victims&from=2026-10-01&to=2026-10-31&format=csv", nil, analyst); code != http.StatusBadRequest {
		t.Errorf("an unknown section: %d %v", code, e)
	}
}

// fetch GETs a file, which must come as contentType.
func fetch(t *testing.T, url, contentType string, header map[string]string) []byte {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != contentType {
		t.Fatalf("GET %s: %d %s %v %s", url, resp.StatusCode, resp.Header.Get("Content-Type"), err, b)
	}
	return b
}
