package stack_test

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nrm-albania/nrm/services/platform/testenv"
	"github.com/nrm-albania/nrm/tools/stack"
)

// The monthly meeting through REST: events put a pending status decision and an overdue
// referral on the backlog; the chair schedules the meeting and its agenda holds them; the
// invitations reach the mail catcher with an iCalendar invitation; seven members reply; the
// attendance makes a quorum only once seven are present; two decisions and an action item are
// recorded; the minutes are drafted, circulated and approved at the next meeting, whose agenda
// carries the open action item; the frozen PDF holds the decisions; the month is compliant.
func TestTheMonthlyMeetingThroughREST(t *testing.T) {
	s := startStack(t, func(o *stack.Options) {
		o.MailCatcher, o.ReferralEmergencyDeadline = true, time.Second
	})
	police := bearerOf(t, s, "NRM_TOKEN_CASEWORKER_POLICE")
	chair := bearerOf(t, s, "NRM_TOKEN_CHAIR")
	sec := bearerOf(t, s, "NRM_TOKEN_SECRETARIAT")

	// A case, and an emergency referral of it that nobody answers.
	code, reg := call(t, "POST", s.GatewayURL+"/v1/cases", strings.NewReader(string(adultCase(t))), police)
	if code != http.StatusOK {
		t.Fatalf("register: %d %v", code, reg)
	}
	c := reg["case"].(map[string]any)
	caseID, caseCode := c["id"].(string), c["code"].(string)
	consent := `{"consent": {"scope": "CONSENT_SCOPE_REFERRAL", "decision": "CONSENT_DECISION_GIVEN", "date": "2026-10-03", "givenBy": "CONSENT_GIVER_PERSON"}}`
	if code, out := call(t, "POST", s.GatewayURL+"/v1/cases/"+caseID+":recordConsent", strings.NewReader(consent), police); code != http.StatusOK {
		t.Fatalf("recordConsent: %d %v", code, out)
	}
	code, ref := call(t, "POST", s.GatewayURL+"/v1/cases/"+caseID+"/referrals", strings.NewReader(
		`{"serviceType": "SERVICE_TYPE_SHELTER", "providerCode": "KKSAT", "urgency": "REFERRAL_URGENCY_EMERGENCY", "reason": "Needs a safe place tonight."}`), police)
	if code != http.StatusOK {
		t.Fatalf("refer: %d %v", code, ref)
	}
	referralID := ref["referral"].(map[string]any)["id"].(string)
	testenv.Eventually(t, 30*time.Second, "the backlog to hold the case and the overdue referral", func() bool {
		_, b := call(t, "GET", s.GatewayURL+"/v1/agenda-backlog", nil, chair)
		return holds(b["items"], caseCode, "") && holds(b["items"], "", referralID)
	})

	// A meeting inside the notice period is refused, and nothing is written.
	soon := time.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339)
	if code, e := call(t, "POST", s.GatewayURL+"/v1/meetings", strings.NewReader(
		`{"kind": "MEETING_KIND_REGULAR", "startTime": "`+soon+`", "place": "Ministry of Interior, room 3"}`), chair); code != http.StatusBadRequest || !containsReason(e, "NOTICE_PERIOD") {
		t.Fatalf("a regular meeting in two days: %d %v", code, e)
	}
	if _, l := call(t, "GET", s.GatewayURL+"/v1/meetings", nil, chair); len(l["meetings"].([]any)) != 0 {
		t.Fatalf("a refused meeting was kept: %v", l)
	}

	start := time.Now().AddDate(0, 0, 10).UTC().Truncate(time.Minute)
	meeting := schedule(t, s, chair, start)
	id := meeting["id"].(string)
	_, agenda := call(t, "GET", s.GatewayURL+"/v1/meetings/"+id+"/agenda", nil, chair)
	if !holds(agenda["items"], caseCode, "") || !holds(agenda["items"], "", referralID) {
		t.Fatalf("the agenda lacks the backlog's items: %v", agenda)
	}
	statusItem := itemFor(t, agenda["items"], caseCode)

	// Invitations: two messages per member (representative and substitute), each with the .ics.
	if code, out := call(t, "POST", s.GatewayURL+"/v1/meetings/"+id+":sendInvitations", strings.NewReader(`{}`), sec); code != http.StatusOK {
		t.Fatalf("sendInvitations: %d %v", code, out)
	}
	var mails []string
	testenv.Eventually(t, 30*time.Second, "26 invitations at the mail catcher", func() bool {
		mails, _ = filepath.Glob(filepath.Join(s.MailDir, "*.eml"))
		return len(mails) >= 26
	})
	raw, err := os.ReadFile(mails[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"BEGIN:VCALENDAR", "METHOD:REQUEST", "BEGIN:VEVENT", "DTSTART:" + start.Format("20060102T150405Z"), "UID:" + id, "END:VCALENDAR"} {
		if !strings.Contains(strings.ReplaceAll(string(raw), "\r\n ", ""), want) {
			t.Errorf("the invitation lacks %q", want)
		}
	}
	if strings.Contains(string(raw), "Kapllani") {
		t.Error("an invitation carries a person's name")
	}

	// Seven members reply; a member cannot reply for another institution.
	repliers := []string{"MB_DPAM", "ASP_ANTITRAF", "ASP_KUFIRI", "MSHMS", "ASHDMF", "SHSSH", "KKSAT"}
	for _, m := range repliers {
		if code, out := call(t, "POST", s.GatewayURL+"/v1/meetings/"+id+":reply", strings.NewReader(`{"reply": "INVITATION_REPLY_ATTENDS"}`),
			bearerOf(t, s, "NRM_TOKEN_MEMBER_"+m)); code != http.StatusOK {
			t.Fatalf("%s replies: %d %v", m, code, out)
		}
	}
	if code, e := call(t, "POST", s.GatewayURL+"/v1/meetings/"+id+":reply", strings.NewReader(`{"institution": "MAS", "reply": "INVITATION_REPLY_DECLINES"}`),
		bearerOf(t, s, "NRM_TOKEN_MEMBER_KKSAT")); code != http.StatusForbidden || !containsReason(e, "NOT_YOUR_INSTITUTION") {
		t.Fatalf("KKSAT replying for MAS: %d %v", code, e)
	}

	// Six present: no quorum, and the decision is refused; the seventh makes it.
	for _, m := range repliers[:6] {
		attend(t, s, sec, id, strings.ReplaceAll(m, "_", "-"))
	}
	if code, out := call(t, "POST", s.GatewayURL+"/v1/meetings/"+id+":open", strings.NewReader(`{}`), chair); code != http.StatusOK {
		t.Fatalf("open: %d %v", code, out)
	}
	decision := fmt.Sprintf(`{"agendaItemId": %q, "text": "Recommend victim status for %s.", "kind": "DECISION_KIND_STATUS_RECOMMENDATION", "consensus": true, "caseCodes": [%q]}`,
		statusItem, caseCode, caseCode)
	if code, e := call(t, "POST", s.GatewayURL+"/v1/meetings/"+id+"/decisions", strings.NewReader(decision), chair); code != http.StatusBadRequest || !containsReason(e, "NO_QUORUM") {
		t.Fatalf("a decision without quorum: %d %v", code, e)
	}
	attend(t, s, sec, id, "KKSAT")
	if code, out := call(t, "POST", s.GatewayURL+"/v1/meetings/"+id+"/decisions", strings.NewReader(decision), chair); code != http.StatusOK {
		t.Fatalf("the status decision: %d %v", code, out)
	}
	due := time.Now().AddDate(0, 0, 3).Format(time.DateOnly)
	followUp := fmt.Sprintf(`{"agendaItemId": %q, "text": "KKSAT to answer referral %s within a day.", "kind": "DECISION_KIND_REFERRAL_FOLLOW_UP", "consensus": true,
		"referralIds": [%q], "actionItems": [{"owner": "KKSAT", "title": "Answer the overdue referral", "dueDate": %q}]}`,
		itemFor(t, agenda["items"], referralID), referralID, referralID, due)
	if code, out := call(t, "POST", s.GatewayURL+"/v1/meetings/"+id+"/decisions", strings.NewReader(followUp), chair); code != http.StatusOK {
		t.Fatalf("the follow-up decision: %d %v", code, out)
	}
	for _, step := range []struct{ path, body string }{
		{":close", `{}`}, {"/minutes:draft", `{"notes": "Opened at 10:00 by the chair."}`}, {"/minutes:circulate", `{}`},
	} {
		if code, out := call(t, "POST", s.GatewayURL+"/v1/meetings/"+id+step.path, strings.NewReader(step.body), sec); code != http.StatusOK {
			t.Fatalf("%s: %d %v", step.path, code, out)
		}
	}

	// The next meeting carries the open action item and approves the minutes.
	next := schedule(t, s, chair, start.AddDate(0, 0, 10))
	nextID := next["id"].(string)
	if !holdsSource(next["agenda"], "AGENDA_ITEM_SOURCE_ACTION_ITEM") || !holdsSource(next["agenda"], "AGENDA_ITEM_SOURCE_MINUTES") {
		t.Fatalf("the next meeting's agenda lacks the open action item or the minutes to approve: %v", next["agenda"])
	}
	if code, out := call(t, "POST", s.GatewayURL+"/v1/meetings/"+nextID+":sendInvitations", strings.NewReader(`{}`), sec); code != http.StatusOK {
		t.Fatalf("next sendInvitations: %d %v", code, out)
	}
	for _, m := range repliers {
		attend(t, s, sec, nextID, strings.ReplaceAll(m, "_", "-"))
	}
	if code, out := call(t, "POST", s.GatewayURL+"/v1/meetings/"+nextID+":open", strings.NewReader(`{}`), chair); code != http.StatusOK {
		t.Fatalf("open the next: %d %v", code, out)
	}
	code, approved := call(t, "POST", s.GatewayURL+"/v1/meetings/"+id+"/minutes:approve", strings.NewReader(`{"atMeetingId": "`+nextID+`"}`), chair)
	if code != http.StatusOK {
		t.Fatalf("approve: %d %v", code, approved)
	}
	minutes := approved["meeting"].(map[string]any)["minutes"].(map[string]any)
	if minutes["pdfSha256"] == "" {
		t.Fatalf("approved minutes without a hash: %v", minutes)
	}
	if code, e := call(t, "POST", s.GatewayURL+"/v1/meetings/"+id+"/minutes:amend", strings.NewReader(`{"notes": "changed"}`), sec); code != http.StatusBadRequest || !containsReason(e, "MINUTES_APPROVED") {
		t.Fatalf("amending approved minutes: %d %v", code, e)
	}

	// The PDF holds the decisions.
	pdf := download(t, s.GatewayURL+"/v1/meetings/"+id+"/minutes.pdf", chair)
	if text := strings.Join(strings.Fields(pdfText(t, pdf)), " "); !strings.Contains(text, "Recommend victim status for "+caseCode) || !strings.Contains(text, "Answer the overdue referral") {
		t.Errorf("the minutes' text lacks the decisions:\n%s", text)
	}

	// The year view shows the month as compliant.
	month := start.In(tirana(t)).Format("2006-01")
	_, year := call(t, "GET", s.GatewayURL+"/v1/compliance/"+start.In(tirana(t)).Format("2006"), nil, bearerOf(t, s, "NRM_TOKEN_ANALYST"))
	for _, m := range year["months"].([]any) {
		mm := m.(map[string]any)
		if mm["month"] == month && mm["compliant"] != true {
			t.Errorf("%s is not compliant: %v", month, mm)
		}
	}
}

func tirana(t *testing.T) *time.Location {
	loc, err := time.LoadLocation("Europe/Tirane")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func schedule(t *testing.T, s *stack.Stack, chair map[string]string, start time.Time) map[string]any {
	t.Helper()
	code, out := call(t, "POST", s.GatewayURL+"/v1/meetings", strings.NewReader(
		`{"kind": "MEETING_KIND_REGULAR", "startTime": "`+start.Format(time.RFC3339)+`", "place": "Ministry of Interior, room 3"}`), chair)
	if code != http.StatusOK {
		t.Fatalf("schedule: %d %v", code, out)
	}
	return out["meeting"].(map[string]any)
}

func attend(t *testing.T, s *stack.Stack, sec map[string]string, id, inst string) {
	t.Helper()
	if code, out := call(t, "POST", s.GatewayURL+"/v1/meetings/"+id+":recordAttendance",
		strings.NewReader(`{"institution": "`+inst+`", "presence": "PRESENCE_REPRESENTATIVE"}`), sec); code != http.StatusOK {
		t.Fatalf("attendance of %s: %d %v", inst, code, out)
	}
}

// holds reports whether agenda items name the case code or the referral id.
func holds(items any, caseCode, referralID string) bool {
	list, _ := items.([]any)
	return slices.ContainsFunc(list, func(i any) bool {
		m := i.(map[string]any)
		codes, _ := m["caseCodes"].([]any)
		refs, _ := m["referralIds"].([]any)
		return caseCode != "" && slices.Contains(codes, any(caseCode)) || referralID != "" && slices.Contains(refs, any(referralID))
	})
}

func holdsSource(items any, source string) bool {
	list, _ := items.([]any)
	return slices.ContainsFunc(list, func(i any) bool { return i.(map[string]any)["source"] == source })
}

func itemFor(t *testing.T, items any, link string) string {
	t.Helper()
	for _, i := range items.([]any) {
		m := i.(map[string]any)
		codes, _ := m["caseCodes"].([]any)
		refs, _ := m["referralIds"].([]any)
		if slices.Contains(codes, any(link)) || slices.Contains(refs, any(link)) {
			return m["id"].(string)
		}
	}
	t.Fatalf("no agenda item concerns %s", link)
	return ""
}

func download(t *testing.T, url string, header map[string]string) []byte {
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
	if err != nil || resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/pdf" {
		t.Fatalf("GET %s: %d %s %v", url, resp.StatusCode, resp.Header.Get("Content-Type"), err)
	}
	return b
}

// pdfText is the PDF's text as pdftotext (poppler-utils; .ci/run installs it) reads it.
func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	if _, err := exec.LookPath("pdftotext"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("pdftotext is missing: CI installs poppler-utils")
		}
		t.Skip("pdftotext is not installed (apt-get install poppler-utils)")
	}
	path := filepath.Join(t.TempDir(), "minutes.pdf")
	if err := os.WriteFile(path, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-layout", path, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}
