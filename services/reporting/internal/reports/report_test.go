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

// circulated is a report of October 2026 circulated to the 13 members, approved by the first n.
func circulated(t *testing.T, n int) Report {
	t.Helper()
	p, _ := Month("2026-10")
	r, _, err := New(ID(p), p, figures("3"), members, at).Circulate(at)
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
	redraft := func(r Report) (Report, bool, error) { return r.Redraft(figures("4"), members, at) }
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
			redraft, codes.OK, "", Draft, 13, true},
		{"a redraft with the same figures of a draft changes nothing", func(t *testing.T) Report {
			p, _ := Month("2026-10")
			return New(ID(p), p, figures("4"), members, at)
		}, redraft, codes.OK, "", Draft, 13, false},
		{"an institution that is not an approver", func(t *testing.T) Report { return circulated(t, 0) },
			func(r Report) (Report, bool, error) { return r.Approve(member("OSCE"), 0, at) }, codes.PermissionDenied, "NOT_AN_APPROVER", Circulated, 13, false},
		{"a draft is not approved before it is circulated", func(t *testing.T) Report {
			p, _ := Month("2026-10")
			return New(ID(p), p, figures("4"), members, at)
		}, func(r Report) (Report, bool, error) { return r.Approve(member("MAS"), 0, at) }, codes.FailedPrecondition, "NOT_CIRCULATED", Draft, 13, false},
		{"a replaced revision is not approved", func(t *testing.T) Report { return circulated(t, 0) },
			func(r Report) (Report, bool, error) { return r.Approve(member("MAS"), 7, at) }, codes.FailedPrecondition, "REVISION_CHANGED", Circulated, 13, false},
		{"a returned report is not approved", returned,
			func(r Report) (Report, bool, error) { return r.Approve(member("KKSAT"), 0, at) }, codes.FailedPrecondition, "NOT_CIRCULATED", Returned, 10, false},
		{"a returned report is not circulated again", returned,
			func(r Report) (Report, bool, error) { return r.Circulate(at) }, codes.FailedPrecondition, "RETURNED", Returned, 10, false},
		{"a returned report is drafted again", returned, redraft, codes.OK, "", Draft, 13, true},
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
	r, _, err := circulated(t, 12).Redraft(figures("5"), members, at)
	if err != nil {
		t.Fatal(err)
	}
	if r.Revision != 2 || len(r.Approvals) != 12 || len(r.Pending()) != 13 {
		t.Fatalf("revision %d, %d approvals, %d pending", r.Revision, len(r.Approvals), len(r.Pending()))
	}
	if r, _, err = r.Circulate(at); err != nil {
		t.Fatal(err)
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

// Tacit approval: only a report circulated for the days allowed, for the approvers that have not
// answered; a returned report is not circulated, so one return blocks it.
func TestApproveTacitly(t *testing.T) {
	const after = 5 * 24 * time.Hour
	draft := func(*testing.T) Report {
		p, _ := Month("2026-10")
		return New(ID(p), p, figures("3"), members, at)
	}
	returned := func(t *testing.T) Report {
		r, err := circulated(t, 3).Return(member("MAS"), "the shelter figures are late", at)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	for _, tc := range []struct {
		name          string
		from          func(*testing.T) Report
		at            time.Time
		changed       bool
		state         string
		explicit, tac int
	}{
		{"a day early, nothing", func(t *testing.T) Report { return circulated(t, 3) }, at.Add(after - time.Second), false, Circulated, 3, 0},
		{"on the day, the ten silent ones", func(t *testing.T) Report { return circulated(t, 3) }, at.Add(after), true, Approved, 3, 10},
		{"approved by all already, nothing", func(t *testing.T) Report { return circulated(t, 13) }, at.Add(after), false, Approved, 13, 0},
		{"a draft is not circulated", draft, at.Add(after), false, Draft, 0, 0},
		{"a return blocks it", returned, at.Add(after), false, Returned, 3, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, changed := tc.from(t).ApproveTacitly(after, tc.at)
			var explicit, tacit int
			for _, a := range r.Approvals {
				switch {
				case a.Tacit && a.Subject == "" && a.At.Equal(tc.at):
					tacit++
				case !a.Tacit:
					explicit++
				}
			}
			if changed != tc.changed || r.State != tc.state || explicit != tc.explicit || tacit != tc.tac {
				t.Errorf("changed %v, state %s, %d explicit and %d tacit approvals; want %v, %s, %d and %d",
					changed, r.State, explicit, tacit, tc.changed, tc.state, tc.explicit, tc.tac)
			}
		})
	}
}
