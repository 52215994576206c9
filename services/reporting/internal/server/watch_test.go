package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"google.golang.org/protobuf/proto"

	eventsv1 "github.com/nrm-albania/nrm/proto/nrm/events/v1"
	reportingv1 "github.com/nrm-albania/nrm/proto/nrm/reporting/v1"
	"github.com/nrm-albania/nrm/services/platform/auth"
	"github.com/nrm-albania/nrm/services/platform/outbox"
	"github.com/nrm-albania/nrm/services/platform/testenv"
	"github.com/nrm-albania/nrm/services/reporting/internal/procedure"
	"github.com/nrm-albania/nrm/services/reporting/internal/reports"
)

// figures is a section whose one figure is the builder's: so a test sees which revision it reads.
type figures struct{ n *string }

func (f figures) Build(context.Context, reports.Period) (reports.Section, error) {
	return reports.Section{Title: "Figures", Tables: []reports.Table{{Title: "Total", Columns: []string{"", "Number"}, Rows: [][]string{{"All", *f.n}}}}}, nil
}

type relay struct{}

func (relay) Notify() {}

// adopted are the rules of procedure as if the secretariat had adopted one version.
type adopted procedure.Rules

func (a adopted) On(context.Context, string) (procedure.Rules, error) { return procedure.Rules(a), nil }

// rulesFor are rules of procedure whose members are approvers, with tacit approval after days
// when tacit.
func rulesFor(tacit bool, days int32, approvers ...string) adopted {
	return adopted{Version: 3, EffectiveFrom: "2026-01-01", AdoptedBy: "test", Members: approvers, ApprovalDays: days, Tacit: tacit}
}

// watched is a report service over an empty database at the clock *now, under rules, and the
// context of the service's principal.
func watched(t *testing.T, now *time.Time, rules adopted) (*Reports, context.Context) {
	n := "1"
	s := NewReports(ReportDeps{Store: reports.NewStore(testenv.Database(t)), Builders: []reports.Builder{figures{&n}},
		Rules: rules, Recipients: []string{"general director"}, Relay: relay{},
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return *now }})
	return s, auth.NewContext(context.Background(), &auth.Principal{Institution: "NRM", Subject: "reporting/reports", Roles: []auth.Role{auth.RoleService}})
}

func periods(t *testing.T, ctx context.Context, s *Reports) []string {
	t.Helper()
	all, err := s.Store.All(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range all {
		out = append(out, r.Period+"@"+r.State)
	}
	slices.Sort(out)
	return out
}

// The automatic draft: the month before the clock's, in Tirana, once; a report drafted and
// circulated by the secretariat is left alone; nothing at all when it is off.
func TestWatchDraftsEachMonthOnce(t *testing.T) {
	t.Parallel()
	// Tirana is UTC+1 in winter: 23:30 UTC on 31 October is already November there.
	lastOfOctober, firstOfNovember := time.Date(2026, 10, 31, 22, 30, 0, 0, time.UTC), time.Date(2026, 10, 31, 23, 30, 0, 0, time.UTC)
	for _, tc := range []struct {
		name      string
		autoDraft bool
		// before runs, at the first look's time, before it.
		before func(t *testing.T, ctx context.Context, s *Reports)
		looks  []time.Time
		want   []string
	}{
		{"in October, September's", true, nil, []time.Time{lastOfOctober}, []string{"2026-09@REPORT_STATE_DRAFT"}},
		{"once November starts in Tirana, October's too", true, nil, []time.Time{lastOfOctober, firstOfNovember},
			[]string{"2026-09@REPORT_STATE_DRAFT", "2026-10@REPORT_STATE_DRAFT"}},
		{"looking again changes nothing", true, nil, []time.Time{firstOfNovember, firstOfNovember.Add(time.Hour), firstOfNovember.AddDate(0, 0, 20)},
			[]string{"2026-10@REPORT_STATE_DRAFT"}},
		{"a report circulated already is left alone", true, func(t *testing.T, ctx context.Context, s *Reports) {
			p, _ := reports.Month("2026-10")
			if _, err := s.KeepDrafted(ctx, p); err != nil {
				t.Fatal(err)
			}
			if _, err := s.execute(ctx, reports.ID(p), 0, func(r reports.Report) (reports.Report, []string, error) {
				next, _, err := r.Circulate(reports.ApprovalRule{RulesVersion: 3, Days: 10}, []string{"KKSAT"}, s.stamp())
				return next, []string{"report.circulated"}, err
			}); err != nil {
				t.Fatal(err)
			}
		}, []time.Time{firstOfNovember}, []string{"2026-10@REPORT_STATE_CIRCULATED"}},
		{"off", false, nil, []time.Time{lastOfOctober, firstOfNovember}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			now := tc.looks[0]
			s, ctx := watched(t, &now, rulesFor(false, 10, "KKSAT"))
			if tc.before != nil {
				tc.before(t, ctx, s)
			}
			w := Watch{Reports: s, AutoDraft: tc.autoDraft}
			for _, at := range tc.looks {
				now = at
				if err := w.Look(ctx); err != nil {
					t.Fatal(err)
				}
			}
			if got := periods(t, ctx, s); !slices.Equal(got, tc.want) {
				t.Errorf("reports %v, want %v", got, tc.want)
			}
		})
	}
}

// The automatic draft follows the figures while it is a draft, a revision for each change and
// none without one; once circulated, or returned, the watch leaves it alone.
func TestWatchKeepsTheDraftUpToDate(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	s, ctx := watched(t, &now, rulesFor(false, 10, "KKSAT"))
	n := "1"
	s.Builders = []reports.Builder{figures{&n}}
	w := Watch{Reports: s, AutoDraft: true}
	p, _ := reports.Month("2026-10")
	look := func(figure string, wantRevision int64, wantState, wantFigure string) {
		t.Helper()
		n = figure
		now = now.Add(time.Hour)
		if err := w.Look(ctx); err != nil {
			t.Fatal(err)
		}
		r, err := s.Store.Get(ctx, reports.ID(p))
		if err != nil {
			t.Fatal(err)
		}
		if got := r.Sections[0].Tables[0].Rows[0][1]; r.Revision != wantRevision || r.State != wantState || got != wantFigure {
			t.Errorf("with %s: revision %d, %s, figure %s; want %d, %s, %s", figure, r.Revision, r.State, got, wantRevision, wantState, wantFigure)
		}
	}
	look("1", 1, reports.Draft, "1")
	look("1", 1, reports.Draft, "1") // nothing changed: no revision
	look("4", 2, reports.Draft, "4") // the members' data came in
	if _, err := s.CirculateReport(ctx, &reportingv1.CirculateReportRequest{Id: reports.ID(p)}); err != nil {
		t.Fatal(err)
	}
	look("5", 2, reports.Circulated, "4")
	if _, err := s.ReturnReport(member(ctx, "KKSAT"), &reportingv1.ReturnReportRequest{Id: reports.ID(p), Comment: "the shelters' data is missing"}); err != nil {
		t.Fatal(err)
	}
	look("6", 2, reports.Returned, "4") // the secretariat drafts it again, not the watch
}

// approvedEvents are the report.approved events of the report in the outbox, as
// "<institution>" or "<institution> tacit", and whether report.final is among them.
func approvedEvents(t *testing.T, ctx context.Context, s *Reports) (approved []string, final bool) {
	t.Helper()
	cur, err := s.Store.Collection().Database().Collection(outbox.PointerCollection).Find(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	var pointers []struct {
		Event outbox.Event `bson:"event"`
	}
	if err := cur.All(ctx, &pointers); err != nil {
		t.Fatal(err)
	}
	for _, p := range pointers {
		var env eventsv1.Envelope
		var e reportingv1.ReportChanged
		if err := proto.Unmarshal(p.Event.Data, &env); err != nil {
			t.Fatal(err)
		}
		if err := env.GetPayload().UnmarshalTo(&e); err != nil {
			t.Fatal(err)
		}
		switch env.GetType() {
		case "report.approved":
			approved = append(approved, strings.TrimSpace(e.GetInstitution()+" "+map[bool]string{true: "tacit"}[e.GetTacit()]))
		case "report.final":
			final = true
		}
	}
	slices.Sort(approved)
	return approved, final
}

// Tacit approval by the watch, as the rules of procedure of the circulation day say: explicit,
// nothing happens; tacit, a report circulated for the days allowed is approved by the approvers
// that have not answered, and final, unless a member returned it; rules adopted after the
// circulation do not change its approval.
func TestWatchApprovesTacitly(t *testing.T) {
	t.Parallel()
	circulated := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	const days = 5
	three := []string{"KKSAT", "MAS", "SHSSH"}
	// twenty approvers, more than a change's events can approve at once.
	var twenty []string
	for i := range 20 {
		twenty = append(twenty, fmt.Sprintf("M%02d", i))
	}
	tacitly := func(approvers []string) []string {
		out := []string{approvers[0]}
		for _, a := range approvers[1:] {
			out = append(out, a+" tacit")
		}
		return out
	}
	for _, tc := range []struct {
		name     string
		rules    adopted
		answer   func(ctx context.Context, s *Reports, id string) error
		look     time.Time
		state    string
		approved []string
		final    bool
	}{
		{"explicit", rulesFor(false, days, three...), nil, circulated.AddDate(0, 0, 60), reports.Circulated, []string{"KKSAT"}, false},
		{"tacit, a day early", rulesFor(true, days, three...), nil, circulated.AddDate(0, 0, days-1), reports.Circulated, []string{"KKSAT"}, false},
		{"tacit, after the days", rulesFor(true, days, three...), nil, circulated.AddDate(0, 0, days), reports.Approved, tacitly(three), true},
		{"tacit, twenty approvers", rulesFor(true, days, twenty...), nil, circulated.AddDate(0, 0, days), reports.Approved, tacitly(twenty), true},
		{"tacit, returned by a member", rulesFor(true, days, three...), func(ctx context.Context, s *Reports, id string) error {
			_, err := s.ReturnReport(member(ctx, "MAS"), &reportingv1.ReturnReportRequest{Id: id, Comment: "our figures are missing"})
			return err
		}, circulated.AddDate(0, 0, 30), reports.Returned, []string{"KKSAT"}, false},
		{"explicit when circulated, tacit rules adopted since", rulesFor(false, days, three...), func(ctx context.Context, s *Reports, id string) error {
			s.Rules = rulesFor(true, 1, three...)
			return nil
		}, circulated.AddDate(0, 0, 30), reports.Circulated, []string{"KKSAT"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			now := circulated
			approvers := tc.rules.Members
			s, ctx := watched(t, &now, tc.rules)
			p, _ := reports.Month("2026-10")
			if _, err := s.KeepDrafted(ctx, p); err != nil {
				t.Fatal(err)
			}
			id := reports.ID(p)
			if _, err := s.CirculateReport(ctx, &reportingv1.CirculateReportRequest{Id: id}); err != nil {
				t.Fatal(err)
			}
			if _, err := s.ApproveReport(member(ctx, approvers[0]), &reportingv1.ApproveReportRequest{Id: id}); err != nil {
				t.Fatal(err)
			}
			if tc.answer != nil {
				if err := tc.answer(ctx, s, id); err != nil {
					t.Fatal(err)
				}
			}
			now = tc.look
			if err := (Watch{Reports: s}).Look(ctx); err != nil {
				t.Fatal(err)
			}
			r, err := s.Store.Get(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			approved, final := approvedEvents(t, ctx, s)
			want := slices.Sorted(slices.Values(tc.approved))
			if r.State != tc.state || !slices.Equal(approved, want) || final != tc.final {
				t.Errorf("state %s, approved %v, final %v; want %s, %v, %v", r.State, approved, final, tc.state, want, tc.final)
			}
		})
	}
}

// member is ctx with a member of institution as the caller.
func member(ctx context.Context, institution string) context.Context {
	return auth.NewContext(ctx, &auth.Principal{Institution: institution, Subject: "dev-member-" + institution, Roles: []auth.Role{auth.RoleMember}})
}
