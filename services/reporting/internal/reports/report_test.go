package reports

import (
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

var members = []string{"MB-DPAM", "ASP-ANTITRAF", "ASP-KUFIRI", "ASP-DHF-MINORE", "ASP-KIBERNETIK", "MEPJ-KONSULLORE",
	"MSHMS", "ASHDMF", "SHSSH", "MAS", "AKPA", "ISHPSHSH", "KKSAT"}

var at = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

func figures(n string) []Section {
	return []Section{{Title: "Cases identified", Tables: []Table{{Title: "Total", Columns: []string{"Cases", "Number"}, Rows: [][]string{{"Identified in the period", n}}}}}}
}

func member(code string) Actor { return Actor{Institution: code, Subject: "dev-member-" + code} }

// explicit and tacit are the rules of approval of two versions of the rules of procedure.
var (
	explicit = ApprovalRule{RulesVersion: 1, Days: 10}
	tacit    = ApprovalRule{RulesVersion: 2, Days: 5, Tacit: true}
)

// circulated is a report of October 2026 circulated to the 13 members, approved by the first n.
func circulated(t *testing.T, n int) Report { return circulatedUnder(t, explicit, n) }

// circulatedUnder is circulated, under rule.
func circulatedUnder(t *testing.T, rule ApprovalRule, n int) Report {
	t.Helper()
	p, _ := Month("2026-10")
	r, _, err := New(ID(p), p, figures("3"), at).Circulate(rule, members, at)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range members[:n] {
		if r, _, err = r.Approve(member(m), 0, at); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

func reason(err error) string {
	for _, d := range status.Convert(err).Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info.GetReason()
		}
	}
	return ""
}

// The approval rules, one step from a given report each.
func TestApprovalRules(t *testing.T) {
	submitted := func(t *testing.T) Report {
		r, err := circulated(t, 13).Submit(Submission{Actor: member("MB-DPAM"), Recipients: []string{"general director"}, At: at}, []byte("%PDF"))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	returned := func(t *testing.T) Report {
		r, err := circulated(t, 3).Return(member("MAS"), "the shelter figures are late", at)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	redraft := func(r Report) (Report, bool, error) { return r.Redraft(figures("4"), at) }
	tests := []struct {
		name    string
		from    func(*testing.T) Report
		step    func(Report) (Report, bool, error)
		code    codes.Code
		reason  string
		state   string
		pending int
		changed bool
	}{
		{"12 approvals do not finalise", func(t *testing.T) Report { return circulated(t, 11) },
			func(r Report) (Report, bool, error) { return r.Approve(member("ISHPSHSH"), 0, at) }, codes.OK, "", Circulated, 1, true},
		{"the 13th approval finalises", func(t *testing.T) Report { return circulated(t, 12) },
			func(r Report) (Report, bool, error) { return r.Approve(member("KKSAT"), 0, at) }, codes.OK, "", Approved, 0, true},
		{"approving twice changes nothing", func(t *testing.T) Report { return circulated(t, 5) },
			func(r Report) (Report, bool, error) { return r.Approve(member("MB-DPAM"), 0, at) }, codes.OK, "", Circulated, 8, false},
		{"approving twice after the report is final changes nothing", func(t *testing.T) Report { return circulated(t, 13) },
			func(r Report) (Report, bool, error) { return r.Approve(member("KKSAT"), 0, at) }, codes.OK, "", Approved, 0, false},
		{"a redraft after 12 approvals restarts them", func(t *testing.T) Report { return circulated(t, 12) },
			redraft, codes.OK, "", Draft, 0, true},
		{"a redraft with the same figures of a draft changes nothing", func(t *testing.T) Report {
			p, _ := Month("2026-10")
			return New(ID(p), p, figures("4"), at)
		}, redraft, codes.OK, "", Draft, 0, false},
		{"an institution that is not an approver", func(t *testing.T) Report { return circulated(t, 0) },
			func(r Report) (Report, bool, error) { return r.Approve(member("OSCE"), 0, at) }, codes.PermissionDenied, "NOT_AN_APPROVER", Circulated, 13, false},
		{"a draft is not approved before it is circulated", func(t *testing.T) Report {
			p, _ := Month("2026-10")
			return New(ID(p), p, figures("4"), at)
		}, func(r Report) (Report, bool, error) { return r.Approve(member("MAS"), 0, at) }, codes.FailedPrecondition, "NOT_CIRCULATED", Draft, 0, false},
		{"a replaced revision is not approved", func(t *testing.T) Report { return circulated(t, 0) },
			func(r Report) (Report, bool, error) { return r.Approve(member("MAS"), 7, at) }, codes.FailedPrecondition, "REVISION_CHANGED", Circulated, 13, false},
		{"a returned report is not approved", returned,
			func(r Report) (Report, bool, error) { return r.Approve(member("KKSAT"), 0, at) }, codes.FailedPrecondition, "NOT_CIRCULATED", Returned, 10, false},
		{"a returned report is not circulated again", returned,
			func(r Report) (Report, bool, error) { return r.Circulate(explicit, members, at) }, codes.FailedPrecondition, "RETURNED", Returned, 10, false},
		// Its approvers are named again when it is circulated again.
		{"a returned report is drafted again", returned, redraft, codes.OK, "", Draft, 0, true},
		{"a final report is not drafted again", func(t *testing.T) Report { return circulated(t, 13) },
			redraft, codes.FailedPrecondition, "REPORT_FINAL", Approved, 0, false},
		{"a final report is not returned", func(t *testing.T) Report { return circulated(t, 13) },
			func(r Report) (Report, bool, error) {
				r, err := r.Return(member("MAS"), "late", at)
				return r, false, err
			}, codes.FailedPrecondition, "REPORT_FINAL", Approved, 0, false},
		{"a submitted report is not drafted again", submitted, redraft, codes.FailedPrecondition, "REPORT_FINAL", Submitted, 0, false},
		{"a submitted report is not submitted again", submitted, func(r Report) (Report, bool, error) {
			r, err := r.Submit(Submission{At: at}, nil)
			return r, false, err
		}, codes.FailedPrecondition, "REPORT_FINAL", Submitted, 0, false},
		{"a report is submitted only when approved", func(t *testing.T) Report { return circulated(t, 12) },
			func(r Report) (Report, bool, error) {
				r, err := r.Submit(Submission{At: at}, nil)
				return r, false, err
			}, codes.FailedPrecondition, "NOT_APPROVED", Circulated, 1, false},
		{"an approved report is submitted", func(t *testing.T) Report { return circulated(t, 13) },
			func(r Report) (Report, bool, error) {
				r, err := r.Submit(Submission{At: at}, []byte("%PDF"))
				return r, err == nil, err
			}, codes.OK, "", Submitted, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := tt.from(t)
			r, changed, err := tt.step(before)
			if status.Code(err) != tt.code || reason(err) != tt.reason {
				t.Fatalf("got %v (%s), want %v %s", err, reason(err), tt.code, tt.reason)
			}
			if err != nil {
				r = before
			}
			if r.State != tt.state || len(r.Pending()) != tt.pending || changed != tt.changed {
				t.Errorf("state %s, %d pending, changed %v; want %s, %d, %v", r.State, len(r.Pending()), changed, tt.state, tt.pending, tt.changed)
			}
		})
	}
}

// A redraft keeps the earlier revision's approvals as history, and counts none of them.
func TestARedraftKeepsTheEarlierApprovalsAsHistory(t *testing.T) {
	r, _, err := circulated(t, 12).Redraft(figures("5"), at)
	if err != nil {
		t.Fatal(err)
	}
	if r.Revision != 2 || len(r.Approvals) != 12 || r.Approvers != nil || r.Rule != nil {
		t.Fatalf("revision %d, %d approvals, approvers %v under %v", r.Revision, len(r.Approvals), r.Approvers, r.Rule)
	}
	if r, _, err = r.Circulate(tacit, members, at); err != nil {
		t.Fatal(err)
	}
	if len(r.Pending()) != 13 || *r.Rule != tacit {
		t.Fatalf("circulated again: %d pending, under %+v", len(r.Pending()), r.Rule)
	}
	for i, m := range members {
		if r, _, err = r.Approve(member(m), 2, at); err != nil {
			t.Fatal(err)
		}
		if final := i == len(members)-1; (r.State == Approved) != final {
			t.Fatalf("after %d approvals of revision 2: %s", i+1, r.State)
		}
	}
	if a := r.Approvals[len(r.Approvals)-1]; a.Institution != "KKSAT" || a.Subject != "dev-member-KKSAT" || a.Revision != 2 || !a.At.Equal(at) {
		t.Errorf("the last approval: %+v", a)
	}
}

func TestPeriods(t *testing.T) {
	tests := []struct {
		from, to string
		key      string
		months   int
	}{
		{"2026-10-01", "2026-10-31", "2026-10", 1},
		{"2026-02-01", "2026-02-28", "2026-02", 1},
		{"2026-10-01", "2026-10-30", "2026-10-01..2026-10-30", 1},
		{"2026-01-15", "2026-03-31", "2026-01-15..2026-03-31", 3},
		{"2025-12-01", "2026-11-30", "2025-12-01..2026-11-30", 12},
	}
	for _, tt := range tests {
		p, err := Days(tt.from, tt.to)
		if err != nil {
			t.Fatal(err)
		}
		ms := p.Months()
		if p.Key() != tt.key || len(ms) != tt.months || ms[0].From != tt.from || ms[len(ms)-1].To != tt.to {
			t.Errorf("%s..%s: key %s, months %v", tt.from, tt.to, p.Key(), ms)
		}
	}
	for _, bad := range [][2]string{{"2026-10-31", "2026-10-01"}, {"2026-13-01", "2026-12-31"}, {"2026-10-01", ""}} {
		if _, err := Days(bad[0], bad[1]); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
	if p, err := Month("2024-02"); err != nil || p.To != "2024-02-29" {
		t.Errorf("February 2024: %+v, %v", p, err)
	}
	if _, err := Month("2026-1"); err == nil {
		t.Error(`"2026-1" accepted as a month`)
	}
	if ID(Period{"2026-10-01", "2026-10-31"}) == ID(Period{"2026-11-01", "2026-11-30"}) {
		t.Error("two periods share an id")
	}
}

// Tacit approval: only under a rule that allows it, once the revision has been circulated for
// the rule's days, for the approvers that have not answered, at most so many at a time; a
// returned report is not circulated, so one return blocks it.
func TestApproveTacitly(t *testing.T) {
	due := at.AddDate(0, 0, int(tacit.Days))
	draft := func(*testing.T) Report {
		p, _ := Month("2026-10")
		return New(ID(p), p, figures("3"), at)
	}
	returned := func(t *testing.T) Report {
		r, err := circulatedUnder(t, tacit, 3).Return(member("MAS"), "the shelter figures are late", at)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	threeOf := func(t *testing.T) Report { return circulatedUnder(t, tacit, 3) }
	for _, tc := range []struct {
		name            string
		from            func(*testing.T) Report
		at              time.Time
		most            int
		changed         bool
		state           string
		explicit, tacit int
	}{
		{"explicit rules, never", func(t *testing.T) Report { return circulated(t, 3) }, at.AddDate(1, 0, 0), 15, false, Circulated, 3, 0},
		{"a second early, nothing", threeOf, due.Add(-time.Second), 15, false, Circulated, 3, 0},
		{"on the day, the ten silent ones", threeOf, due, 15, true, Approved, 3, 10},
		{"four at a time: not final yet", threeOf, due, 4, true, Circulated, 3, 4},
		{"approved by all already, nothing", func(t *testing.T) Report { return circulatedUnder(t, tacit, 13) }, due, 15, false, Approved, 13, 0},
		{"a draft is not circulated", draft, due, 15, false, Draft, 0, 0},
		{"a return blocks it", returned, due, 15, false, Returned, 3, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, changed := tc.from(t).ApproveTacitly(tc.at, tc.most)
			var explicit, tacit int
			for _, a := range r.Approvals {
				switch {
				case a.Tacit && a.Subject == "" && a.At.Equal(tc.at):
					tacit++
				case !a.Tacit:
					explicit++
				}
			}
			if changed != tc.changed || r.State != tc.state || explicit != tc.explicit || tacit != tc.tacit {
				t.Errorf("changed %v, state %s, %d explicit and %d tacit approvals; want %v, %s, %d and %d",
					changed, r.State, explicit, tacit, tc.changed, tc.state, tc.explicit, tc.tacit)
			}
		})
	}
}

// A report is circulated to the members of the rules in force, and only to some: circulating it
// to no one is a fault of the caller, refused without a change.
func TestCirculateNamesTheApprovers(t *testing.T) {
	p, _ := Month("2026-10")
	d := New(ID(p), p, figures("3"), at)
	if len(d.Approvers) != 0 || d.Rule != nil || len(d.Pending()) != 0 {
		t.Fatalf("a draft has approvers %v under %v", d.Approvers, d.Rule)
	}
	if _, _, err := d.Approve(member("MAS"), 0, at); reason(err) != "NOT_CIRCULATED" {
		t.Errorf("an approval of a draft: %v", err)
	}
	if r, changed, err := d.Circulate(explicit, nil, at); err == nil || changed || r.State != Draft {
		t.Errorf("circulated to no one: %s, %v, %v", r.State, changed, err)
	}
	r, _, err := d.Circulate(explicit, []string{"MAS", "KKSAT"}, at)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.Approve(member("SHSSH"), 0, at); reason(err) != "NOT_AN_APPROVER" {
		t.Errorf("an approval by an institution not among the approvers: %v", err)
	}
	if got := r.Rule.Due(r.CirculatedAt); !got.Equal(at.AddDate(0, 0, 10)) {
		t.Errorf("due %v", got)
	}
}
