package server

import (
	"context"
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
	"github.com/nrm-albania/nrm/services/reporting/internal/reports"
)

// figures is a section whose one figure is the builder's: so a test sees which revision it reads.
type figures struct{ n *string }

func (f figures) Build(context.Context, reports.Period) (reports.Section, error) {
	return reports.Section{Title: "Figures", Tables: []reports.Table{{Title: "Total", Columns: []string{"", "Number"}, Rows: [][]string{{"All", *f.n}}}}}, nil
}

type relay struct{}

func (relay) Notify() {}

// watched is a report service over an empty database at the clock *now, with approvers, and the
// context of the service's principal.
func watched(t *testing.T, now *time.Time, approvers ...string) (*Reports, context.Context) {
	n := "1"
	s := NewReports(ReportDeps{Store: reports.NewStore(testenv.Database(t)), Builders: []reports.Builder{figures{&n}},
		Approvers: approvers, Recipients: []string{"general director"}, Relay: relay{},
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
			if _, err := s.DraftIfAbsent(ctx, p); err != nil {
				t.Fatal(err)
			}
			if _, err := s.execute(ctx, reports.ID(p), 0, func(r reports.Report) (reports.Report, []string, error) {
				next, _, err := r.Circulate(s.stamp())
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
			s, ctx := watched(t, &now, "KKSAT")
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

// Tacit approval by the watch: off, nothing happens; on, a report circulated for the days
// allowed is approved by the approvers that have not answered, and final, unless a member
// returned it.
func TestWatchApprovesTacitly(t *testing.T) {
	t.Parallel()
	circulated := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	const days = 5
	for _, tc := range []struct {
		name     string
		after    time.Duration
		answer   func(ctx context.Context, s *Reports, id string) error
		look     time.Time
		state    string
		approved []string
		final    bool
	}{
		{"off", 0, nil, circulated.AddDate(0, 0, 60), reports.Circulated, []string{"KKSAT"}, false},
		{"on, a day early", days * 24 * time.Hour, nil, circulated.AddDate(0, 0, days-1), reports.Circulated, []string{"KKSAT"}, false},
		{"on, after the days", days * 24 * time.Hour, nil, circulated.AddDate(0, 0, days), reports.Approved,
			[]string{"KKSAT", "MAS tacit", "SHSSH tacit"}, true},
		{"on, returned by a member", days * 24 * time.Hour, func(ctx context.Context, s *Reports, id string) error {
			_, err := s.ReturnReport(member(ctx, "MAS"), &reportingv1.ReturnReportRequest{Id: id, Comment: "our figures are missing"})
			return err
		}, circulated.AddDate(0, 0, 30), reports.Returned, []string{"KKSAT"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			now := circulated
			s, ctx := watched(t, &now, "KKSAT", "MAS", "SHSSH")
			p, _ := reports.Month("2026-10")
			if _, err := s.DraftIfAbsent(ctx, p); err != nil {
				t.Fatal(err)
			}
			id := reports.ID(p)
			if _, err := s.CirculateReport(ctx, &reportingv1.CirculateReportRequest{Id: id}); err != nil {
				t.Fatal(err)
			}
			if _, err := s.ApproveReport(member(ctx, "KKSAT"), &reportingv1.ApproveReportRequest{Id: id}); err != nil {
				t.Fatal(err)
			}
			if tc.answer != nil {
				if err := tc.answer(ctx, s, id); err != nil {
					t.Fatal(err)
				}
			}
			now = tc.look
			if err := (Watch{Reports: s, TacitAfter: tc.after}).Look(ctx); err != nil {
				t.Fatal(err)
			}
			r, err := s.Store.Get(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			approved, final := approvedEvents(t, ctx, s)
			if r.State != tc.state || !slices.Equal(approved, tc.approved) || final != tc.final {
				t.Errorf("state %s, approved %v, final %v; want %s, %v, %v", r.State, approved, final, tc.state, tc.approved, tc.final)
			}
		})
	}
}

// member is ctx with a member of institution as the caller.
func member(ctx context.Context, institution string) context.Context {
	return auth.NewContext(ctx, &auth.Principal{Institution: institution, Subject: "dev-member-" + institution, Roles: []auth.Role{auth.RoleMember}})
}
