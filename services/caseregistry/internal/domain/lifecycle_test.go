package domain

import (
	"reflect"
	"strings"
	"testing"
	"time"

	caseregistryv1 "github.com/nrm-albania/nrm/proto/nrm/caseregistry/v1"
)

var now = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

// stored is a registered case with the headings a victim decision needs, as the store holds it.
// Its slices have room to spare, so that a command appending in place would show.
func stored() Case {
	age := int32(17)
	decisions := make([]StatusDecision, 0, 4)
	consents := make([]Consent, 0, 4)
	return Case{
		ID: "c1", Code: "VT-2026-00001", Version: 3, State: "CASE_STATE_OPEN", OwnerInstitution: "ASP-ANTITRAF",
		Profile: Profile{Sex: "SEX_FEMALE", AgeAtIdentification: &age, Citizenships: []string{"AL"}},
		Trafficking: Trafficking{Status: "TRAFFICKING_STATUS_POTENTIAL_VICTIM", ExploitationTypes: []string{"EXPLOITATION_TYPE_SEXUAL"},
			Scope: "TRAFFICKING_SCOPE_INTERNAL", StatusDecisions: decisions},
		Identification: Identification{IdentifyingInstitution: "ASP-ANTITRAF", Date: "2026-10-02", Channel: "IDENTIFICATION_CHANNEL_HOTLINE"},
		Consents:       consents,
	}
}

// decided is stored after a decision that the person is a victim.
func decided() Case {
	c := stored()
	c.Trafficking.Status = "TRAFFICKING_STATUS_VICTIM"
	c.Trafficking.StatusDecisions = append(c.Trafficking.StatusDecisions, StatusDecision{Status: "TRAFFICKING_STATUS_VICTIM",
		DecidingBody: "DECIDING_BODY_JOINT_INTERVIEW", Date: "2026-10-20", Basis: "interview", RecordedBy: "ASP-ANTITRAF", RecordedAt: decidedAt})
	return c
}

func closed() Case {
	c := stored()
	c.State = "CASE_STATE_CLOSED"
	c.Closure = &Closure{Reason: "CLOSURE_REASON_LOST_CONTACT", Date: "2026-11-01"}
	return c
}

// same reports whether a and b hold the same values, including the spare room of their
// appendable slices, so that an append into the input's backing array is caught.
func same(a, b Case) bool {
	spare := func(c Case) ([]StatusDecision, []Consent, []string) {
		return c.Trafficking.StatusDecisions[:cap(c.Trafficking.StatusDecisions)], c.Consents[:cap(c.Consents)],
			c.MergedCaseIDs[:cap(c.MergedCaseIDs)]
	}
	ad, ac, am := spare(a)
	bd, bc, bm := spare(b)
	return reflect.DeepEqual(a, b) && reflect.DeepEqual(ad, bd) && reflect.DeepEqual(ac, bc) && reflect.DeepEqual(am, bm)
}

// clone copies a case deeply enough for same to compare it with the original afterwards.
func clone(c Case) Case {
	out := c
	out.Trafficking.StatusDecisions = copyWithRoom(c.Trafficking.StatusDecisions)
	out.Consents = copyWithRoom(c.Consents)
	out.MergedCaseIDs = copyWithRoom(c.MergedCaseIDs)
	if c.Closure != nil {
		cl := *c.Closure
		out.Closure = &cl
	}
	return out
}

// copyWithRoom copies s with the same length and capacity (nil stays nil).
func copyWithRoom[E any](s []E) []E {
	if s == nil {
		return nil
	}
	return append(make([]E, 0, cap(s)), s...)
}

func TestCheckChangeable(t *testing.T) {
	if err := CheckChangeable(stored()); err != nil {
		t.Errorf("open case: %v", err)
	}
	if err := CheckChangeable(closed()); err != nil {
		t.Errorf("closed case: %v", err)
	}
	c := stored()
	c.MergedInto = "c2"
	err := CheckChangeable(c)
	if got := outcome(t, err); got != "precondition: CASE_MERGED" {
		t.Fatalf("merged case: %q", got)
	}
	if md := errorInfo(t, err).GetMetadata(); md["merged_into"] != "c2" || md["case_id"] != "c1" {
		t.Errorf("metadata %v", md)
	}
}

func decideReq() *caseregistryv1.DecideStatusRequest {
	return &caseregistryv1.DecideStatusRequest{Id: "c1", Status: caseregistryv1.TraffickingStatus_TRAFFICKING_STATUS_VICTIM,
		DecidingBody: caseregistryv1.DecidingBody_DECIDING_BODY_JOINT_INTERVIEW, DecisionDate: "2026-11-20", Basis: "  joint interview of 20 November  "}
}

func TestDecideStatusRefuses(t *testing.T) {
	type R = caseregistryv1.DecideStatusRequest
	tests := []struct {
		name    string
		base    func() Case
		change  func(c *Case, r *R)
		want    string
		missing string
	}{
		{"status unspecified", stored, func(_ *Case, r *R) { r.Status = 0 }, "invalid: status", ""},
		{"status unknown number", stored, func(_ *Case, r *R) { r.Status = 4 }, "invalid: status", ""},
		{"potential victim without an earlier decision", stored, func(_ *Case, r *R) {
			r.Status = caseregistryv1.TraffickingStatus_TRAFFICKING_STATUS_POTENTIAL_VICTIM
		}, "invalid: status", ""},
		{"deciding body unspecified", stored, func(_ *Case, r *R) { r.DecidingBody = 0 }, "invalid: deciding_body", ""},
		{"deciding body unknown number", stored, func(_ *Case, r *R) { r.DecidingBody = 5 }, "invalid: deciding_body", ""},
		{"no date", stored, func(_ *Case, r *R) { r.DecisionDate = "" }, "invalid: decision_date", ""},
		{"date not a date", stored, func(_ *Case, r *R) { r.DecisionDate = "2026-11-31" }, "invalid: decision_date", ""},
		{"date in the future", stored, func(_ *Case, r *R) { r.DecisionDate = "2026-11-28" }, "invalid: decision_date", ""},
		{"date before the identification", stored, func(_ *Case, r *R) { r.DecisionDate = "2026-10-01" }, "invalid: decision_date", ""},
		{"date before the previous decision", decided, func(_ *Case, r *R) {
			r.Status, r.DecisionDate = caseregistryv1.TraffickingStatus_TRAFFICKING_STATUS_NOT_A_VICTIM, "2026-10-19"
		}, "invalid: decision_date", ""},
		{"no basis", stored, func(_ *Case, r *R) { r.Basis = "" }, "invalid: basis", ""},
		{"blank basis", stored, func(_ *Case, r *R) { r.Basis = " \n\t " }, "invalid: basis", ""},
		{"basis too long", stored, func(_ *Case, r *R) { r.Basis = strings.Repeat("b", 2001) }, "invalid: basis", ""},
		{"basis with a control character", stored, func(_ *Case, r *R) { r.Basis = "a\x07b" }, "invalid: basis", ""},
		{"basis not UTF-8", stored, func(_ *Case, r *R) { r.Basis = "a\xffb" }, "invalid: basis", ""},
		{"merged", stored, func(c *Case, _ *R) { c.MergedInto = "c2" }, "precondition: CASE_MERGED", ""},
		{"closed", closed, func(*Case, *R) {}, "precondition: CASE_CLOSED", ""},
		{"status unchanged", decided, func(*Case, *R) {}, "precondition: STATUS_UNCHANGED", ""},
		{"victim with the exploitation unknown", stored, func(c *Case, _ *R) {
			c.Trafficking.ExploitationTypes = []string{"EXPLOITATION_TYPE_UNKNOWN"}
		}, "precondition: STATUS_HEADINGS_MISSING", "trafficking.exploitation_types"},
		{"victim without a scope", stored, func(c *Case, _ *R) { c.Trafficking.Scope = "" }, "precondition: STATUS_HEADINGS_MISSING", "trafficking.scope"},
		{"victim with the scope unknown", stored, func(c *Case, _ *R) {
			c.Trafficking.Scope = "TRAFFICKING_SCOPE_UNKNOWN"
		}, "precondition: STATUS_HEADINGS_MISSING", "trafficking.scope"},
		{"victim without a channel", stored, func(c *Case, _ *R) { c.Identification.Channel = "" }, "precondition: STATUS_HEADINGS_MISSING", "identification.channel"},
		{"victim with nothing known", stored, func(c *Case, _ *R) {
			c.Trafficking.ExploitationTypes, c.Trafficking.Scope, c.Identification.Channel = []string{"EXPLOITATION_TYPE_UNKNOWN"}, "", ""
		}, "precondition: STATUS_HEADINGS_MISSING", "trafficking.exploitation_types,trafficking.scope,identification.channel"},
		{"bad input is reported before the state", closed, func(_ *Case, r *R) { r.Basis = "" }, "invalid: basis", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, r := tt.base(), decideReq()
			tt.change(&c, r)
			before := clone(c)
			got, d, err := DecideStatus(c, r, today, "ASP-ANTITRAF", now)
			if o := outcome(t, err); o != tt.want {
				t.Fatalf("got %q, want %q (%v)", o, tt.want, err)
			}
			if tt.missing != "" {
				if md := errorInfo(t, err).GetMetadata(); md["missing"] != tt.missing {
					t.Errorf("missing %q, want %q", md["missing"], tt.missing)
				}
			}
			if !reflect.DeepEqual(got, Case{}) || d != (StatusDecision{}) {
				t.Errorf("a result came back with the error")
			}
			if !same(c, before) {
				t.Error("the input case was changed")
			}
		})
	}
}

func TestDecideStatusRecords(t *testing.T) {
	type R = caseregistryv1.DecideStatusRequest
	tests := []struct {
		name   string
		base   func() Case
		change func(c *Case, r *R)
		want   StatusDecision
	}{
		{"victim", stored, func(*Case, *R) {}, StatusDecision{Status: "TRAFFICKING_STATUS_VICTIM", DecidingBody: "DECIDING_BODY_JOINT_INTERVIEW",
			Date: "2026-11-20", Basis: "joint interview of 20 November", RecordedBy: "ASP-ANTITRAF", RecordedAt: now}},
		{"not a victim needs no headings", stored, func(c *Case, r *R) {
			c.Trafficking.Scope, c.Identification.Channel = "", ""
			r.Status, r.DecidingBody = caseregistryv1.TraffickingStatus_TRAFFICKING_STATUS_NOT_A_VICTIM, caseregistryv1.DecidingBody_DECIDING_BODY_AUTHORITY_MEETING
		}, StatusDecision{Status: "TRAFFICKING_STATUS_NOT_A_VICTIM", DecidingBody: "DECIDING_BODY_AUTHORITY_MEETING",
			Date: "2026-11-20", Basis: "joint interview of 20 November", RecordedBy: "ASP-ANTITRAF", RecordedAt: now}},
		{"revision to potential victim, on the day of the previous decision", decided, func(_ *Case, r *R) {
			r.Status, r.DecisionDate, r.Basis = caseregistryv1.TraffickingStatus_TRAFFICKING_STATUS_POTENTIAL_VICTIM, "2026-10-20", "court"
			r.DecidingBody = caseregistryv1.DecidingBody_DECIDING_BODY_COURT
		}, StatusDecision{Status: "TRAFFICKING_STATUS_POTENTIAL_VICTIM", DecidingBody: "DECIDING_BODY_COURT",
			Date: "2026-10-20", Basis: "court", RecordedBy: "ASP-ANTITRAF", RecordedAt: now, Revision: true}},
		{"on the identification date, today, in a reopened case", stored, func(c *Case, r *R) {
			c.State = "CASE_STATE_REOPENED"
			r.DecisionDate, r.Basis = "2026-10-02", strings.Repeat("b", 2000)
		}, StatusDecision{Status: "TRAFFICKING_STATUS_VICTIM", DecidingBody: "DECIDING_BODY_JOINT_INTERVIEW",
			Date: "2026-10-02", Basis: strings.Repeat("b", 2000), RecordedBy: "ASP-ANTITRAF", RecordedAt: now}},
		{"a multi-line basis", stored, func(_ *Case, r *R) { r.Basis = "line one\n\tline two" }, StatusDecision{Status: "TRAFFICKING_STATUS_VICTIM",
			DecidingBody: "DECIDING_BODY_JOINT_INTERVIEW", Date: "2026-11-20", Basis: "line one\n\tline two", RecordedBy: "ASP-ANTITRAF", RecordedAt: now}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, r := tt.base(), decideReq()
			tt.change(&c, r)
			before := clone(c)
			got, d, err := DecideStatus(c, r, today, "ASP-ANTITRAF", now)
			if err != nil {
				t.Fatal(err)
			}
			if d != tt.want {
				t.Errorf("decision\n got %+v\nwant %+v", d, tt.want)
			}
			want := clone(c)
			want.Trafficking.Status = tt.want.Status
			want.Trafficking.StatusDecisions = append(want.Trafficking.StatusDecisions, tt.want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("case\n got %+v\nwant %+v", got, want)
			}
			if !same(c, before) {
				t.Error("the input case was changed")
			}
		})
	}
}

func closeReq() *caseregistryv1.CloseCaseRequest {
	return &caseregistryv1.CloseCaseRequest{Id: "c1", Reason: caseregistryv1.ClosureReason_CLOSURE_REASON_REINTEGRATED,
		Date: "2026-11-20", Note: " reintegration plan completed "}
}

func TestClose(t *testing.T) {
	type R = caseregistryv1.CloseCaseRequest
	notAVictim := func() Case {
		c := stored()
		c.Trafficking.Status = "TRAFFICKING_STATUS_NOT_A_VICTIM"
		return c
	}
	tests := []struct {
		name   string
		base   func() Case
		change func(c *Case, r *R)
		want   string
		result *Closure // when accepted
	}{
		{"reintegrated", stored, func(*Case, *R) {}, "", &Closure{Reason: "CLOSURE_REASON_REINTEGRATED", Date: "2026-11-20", Note: "reintegration plan completed"}},
		{"no date means today", stored, func(_ *Case, r *R) { r.Date, r.Note = "", "" }, "", &Closure{Reason: "CLOSURE_REASON_REINTEGRATED", Date: today}},
		{"on the identification date", stored, func(_ *Case, r *R) { r.Date = "2026-10-02" }, "", &Closure{Reason: "CLOSURE_REASON_REINTEGRATED", Date: "2026-10-02", Note: "reintegration plan completed"}},
		{"a reopened case", stored, func(c *Case, r *R) { c.State, r.Note = "CASE_STATE_REOPENED", "" }, "", &Closure{Reason: "CLOSURE_REASON_REINTEGRATED", Date: "2026-11-20"}},
		{"not a victim once decided", notAVictim, func(_ *Case, r *R) {
			r.Reason, r.Note = caseregistryv1.ClosureReason_CLOSURE_REASON_NOT_A_VICTIM, "a\nb"
		}, "", &Closure{Reason: "CLOSURE_REASON_NOT_A_VICTIM", Date: "2026-11-20", Note: "a\nb"}},
		{"reason unspecified", stored, func(_ *Case, r *R) { r.Reason = 0 }, "invalid: reason", nil},
		{"reason unknown number", stored, func(_ *Case, r *R) { r.Reason = 7 }, "invalid: reason", nil},
		{"date not a date", stored, func(_ *Case, r *R) { r.Date = "20.11.2026" }, "invalid: date", nil},
		{"date in the future", stored, func(_ *Case, r *R) { r.Date = "2026-11-28" }, "invalid: date", nil},
		{"date before the identification", stored, func(_ *Case, r *R) { r.Date = "2026-10-01" }, "invalid: date", nil},
		{"note too long", stored, func(_ *Case, r *R) { r.Note = strings.Repeat("n", 1001) }, "invalid: note", nil},
		{"note with a control character", stored, func(_ *Case, r *R) { r.Note = "a\x00" }, "invalid: note", nil},
		{"as a duplicate", stored, func(_ *Case, r *R) { r.Reason = caseregistryv1.ClosureReason_CLOSURE_REASON_DUPLICATE }, "precondition: USE_MERGE", nil},
		{"merged", stored, func(c *Case, _ *R) { c.MergedInto = "c2" }, "precondition: CASE_MERGED", nil},
		{"already closed", closed, func(*Case, *R) {}, "precondition: CASE_ALREADY_CLOSED", nil},
		{"not a victim while potential victim", stored, func(_ *Case, r *R) {
			r.Reason = caseregistryv1.ClosureReason_CLOSURE_REASON_NOT_A_VICTIM
		}, "precondition: CLOSURE_NEEDS_STATUS", nil},
		{"not a victim while victim", decided, func(_ *Case, r *R) {
			r.Reason = caseregistryv1.ClosureReason_CLOSURE_REASON_NOT_A_VICTIM
		}, "precondition: CLOSURE_NEEDS_STATUS", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, r := tt.base(), closeReq()
			tt.change(&c, r)
			before := clone(c)
			got, err := Close(c, r, today)
			if o := outcome(t, err); o != tt.want {
				t.Fatalf("got %q, want %q (%v)", o, tt.want, err)
			}
			if !same(c, before) {
				t.Error("the input case was changed")
			}
			if tt.result == nil {
				if !reflect.DeepEqual(got, Case{}) {
					t.Error("a case came back with the error")
				}
				return
			}
			want := clone(c)
			want.State, want.Closure = "CASE_STATE_CLOSED", tt.result
			if !reflect.DeepEqual(got, want) {
				t.Errorf("case\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestReopen(t *testing.T) {
	type R = caseregistryv1.ReopenCaseRequest
	tests := []struct {
		name   string
		base   func() Case
		change func(c *Case, r *R)
		want   string
	}{
		{"re-trafficked", closed, func(*Case, *R) {}, ""},
		{"with a note of 1000 characters", closed, func(_ *Case, r *R) { r.Note = strings.Repeat("n", 1000) }, ""},
		{"reason unspecified", closed, func(_ *Case, r *R) { r.Reason = 0 }, "invalid: reason"},
		{"reason unknown number", closed, func(_ *Case, r *R) { r.Reason = 5 }, "invalid: reason"},
		{"note too long", closed, func(_ *Case, r *R) { r.Note = strings.Repeat("n", 1001) }, "invalid: note"},
		{"note not UTF-8", closed, func(_ *Case, r *R) { r.Note = "\xff" }, "invalid: note"},
		{"merged", closed, func(c *Case, _ *R) { c.MergedInto = "c2" }, "precondition: CASE_MERGED"},
		{"open", stored, func(*Case, *R) {}, "precondition: CASE_NOT_CLOSED"},
		{"reopened", stored, func(c *Case, _ *R) { c.State = "CASE_STATE_REOPENED" }, "precondition: CASE_NOT_CLOSED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.base()
			r := &R{Id: "c1", Reason: caseregistryv1.ReopenReason_REOPEN_REASON_RE_TRAFFICKING, Note: "found again in Durrës"}
			tt.change(&c, r)
			before := clone(c)
			got, err := Reopen(c, r)
			if o := outcome(t, err); o != tt.want {
				t.Fatalf("got %q, want %q (%v)", o, tt.want, err)
			}
			if !same(c, before) {
				t.Error("the input case was changed")
			}
			if err != nil {
				return
			}
			want := clone(c)
			want.State, want.Closure = "CASE_STATE_REOPENED", nil
			if !reflect.DeepEqual(got, want) {
				t.Errorf("case\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestStatusHeadingsStayKnownForAVictim(t *testing.T) {
	victim := Case{
		Trafficking: Trafficking{
			Status:            caseregistryv1.TraffickingStatus_TRAFFICKING_STATUS_VICTIM.String(),
			ExploitationTypes: []string{caseregistryv1.ExploitationType_EXPLOITATION_TYPE_SEXUAL.String()},
			Scope:             caseregistryv1.TraffickingScope_TRAFFICKING_SCOPE_INTERNAL.String(),
		},
		Identification: Identification{Channel: caseregistryv1.IdentificationChannel_IDENTIFICATION_CHANNEL_HOTLINE.String()},
	}
	if err := CheckStatusHeadings(victim); err != nil {
		t.Fatalf("complete victim case: %v", err)
	}
	for name, tt := range map[string]struct {
		change func(*Case)
		field  string
	}{
		"scope cleared": {func(c *Case) { c.Trafficking.Scope = "" }, "trafficking.scope"},
		"scope unknown": {func(c *Case) {
			c.Trafficking.Scope = caseregistryv1.TraffickingScope_TRAFFICKING_SCOPE_UNKNOWN.String()
		}, "trafficking.scope"},
		"channel cleared": {func(c *Case) { c.Identification.Channel = "" }, "identification.channel"},
		"exploitation unknown": {func(c *Case) {
			c.Trafficking.ExploitationTypes = []string{caseregistryv1.ExploitationType_EXPLOITATION_TYPE_UNKNOWN.String()}
		}, "trafficking.exploitation_types"},
	} {
		t.Run(name, func(t *testing.T) {
			c := victim
			tt.change(&c)
			if got := violations(t, CheckStatusHeadings(c)); len(got) != 1 || got[0] != tt.field {
				t.Errorf("violations %v, want %s", got, tt.field)
			}
		})
	}
	potential := victim
	potential.Trafficking.Status = caseregistryv1.TraffickingStatus_TRAFFICKING_STATUS_POTENTIAL_VICTIM.String()
	potential.Trafficking.Scope = ""
	if err := CheckStatusHeadings(potential); err != nil {
		t.Errorf("a potential victim needs no scope: %v", err)
	}
}
