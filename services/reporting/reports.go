package reporting

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	reportingv1 "github.com/nrm-albania/nrm/proto/nrm/reporting/v1"
	"github.com/nrm-albania/nrm/services/platform/app"
	"github.com/nrm-albania/nrm/services/platform/auth"
	"github.com/nrm-albania/nrm/services/platform/config"
	"github.com/nrm-albania/nrm/services/reporting/internal/datasets"
	"github.com/nrm-albania/nrm/services/reporting/internal/decisionstats"
	"github.com/nrm-albania/nrm/services/reporting/internal/meetingstats"
	"github.com/nrm-albania/nrm/services/reporting/internal/projection"
	"github.com/nrm-albania/nrm/services/reporting/internal/referralstats"
	"github.com/nrm-albania/nrm/services/reporting/internal/reports"
	"github.com/nrm-albania/nrm/services/reporting/internal/server"
)

// DefaultReportApprovers are the 13 member institutions of the Authority: by the default rules
// of procedure, the monthly report is final when every one of them has approved it.
const DefaultReportApprovers = "MB-DPAM,ASP-ANTITRAF,ASP-KUFIRI,ASP-DHF-MINORE,ASP-KIBERNETIK,MEPJ-KONSULLORE,MSHMS,ASHDMF,SHSSH,MAS,AKPA,ISHPSHSH,KKSAT"

// DefaultReportRecipients are the offices the Authority reports to monthly (point 11).
const DefaultReportRecipients = "general director of the Ministry of Interior,deputy minister of the interior"

// reportSettings are the monthly report's settings. They mirror the rules of procedure, which
// the secretariat keeps; reading them from there is to come (docs/decisions.md).
type reportSettings struct {
	approvers, recipients string
	// autoDraft drafts each month's report once it ends; watch paces the looks.
	autoDraft bool
	watch     time.Duration
	// tacitDays are the days after which a circulated report is approved tacitly by the
	// approvers that have not answered; 0, the default rules of procedure, never.
	tacitDays int
}

// maxTacitApprovers bounds the approvers when approval may be tacit: their tacit approvals and
// report.final are one change, and a change carries at most 16 events (package outbox).
const maxTacitApprovers = 15

// bindReports registers the report's settings.
func (s *Service) bindReports(set *config.Set) {
	set.String(&s.reports.approvers, "report-approvers", DefaultReportApprovers,
		"institution codes, comma-separated, whose approval makes a report final (the rules of procedure: every member)")
	set.String(&s.reports.recipients, "report-recipients", DefaultReportRecipients,
		"the offices, comma-separated, the final report is submitted to")
	set.Bool(&s.reports.autoDraft, "report-auto-draft", true,
		"draft each month's report once the month ends in Tirana, unless it was drafted already")
	set.Duration(&s.reports.watch, "report-watch-interval", time.Hour,
		"pause between two looks for the reports due: the month's draft, the tacit approvals")
	set.RequirePositive("report-watch-interval", &s.reports.watch)
	set.Int(&s.reports.tacitDays, "report-tacit-approval-days", 0,
		"days after its circulation when a report counts as approved by every approver that has not answered; 0: approval is explicit only")
	set.Check(func() error {
		if s.reports.tacitDays < 0 {
			return fmt.Errorf("%s: must be 0 (off) or a number of days; got %d", config.EnvName("report-tacit-approval-days"), s.reports.tacitDays)
		}
		if n := len(list(s.reports.approvers)); s.reports.tacitDays > 0 && n > maxTacitApprovers {
			return fmt.Errorf("%s: at most %d approvers when approval may be tacit; got %d", config.EnvName("report-approvers"), maxTacitApprovers, n)
		}
		return nil
	})
	set.Check(func() error {
		if len(list(s.reports.approvers)) == 0 {
			return fmt.Errorf("report-approvers: name at least one institution")
		}
		if len(list(s.reports.recipients)) == 0 {
			return fmt.Errorf("report-recipients: name at least one recipient")
		}
		return nil
	})
}

// setupReports registers the report service, whose sections are built from the case statistics,
// the referral and meeting figures and the members' submissions, and returns its watch.
func (s *Service) setupReports(rt *app.Runtime, stats *projection.Projection) app.Worker {
	sections := []struct {
		name    string
		builder reports.Builder
	}{
		{"cases", reports.Cases{Stats: stats}},
		{"decisions", reports.Decisions{Stats: decisionstats.New(rt.DB)}},
		{"referrals", reports.Referrals{Stats: referralstats.New(rt.DB)}},
		{"meetings", reports.Meetings{Stats: meetingstats.New(rt.DB), Members: list(s.reports.approvers)}},
		{"members-data", reports.MembersData{Data: datasets.NewStore(rt.DB, s.dataSets, time.Now)}},
	}
	byName := map[string]reports.Builder{}
	var builders []reports.Builder
	for _, sec := range sections {
		builders, byName[sec.name] = append(builders, sec.builder), sec.builder
	}
	srv := server.NewReports(server.ReportDeps{
		Store:      reports.NewStore(rt.DB),
		Builders:   builders,
		Sections:   byName,
		Approvers:  list(s.reports.approvers),
		Recipients: list(s.reports.recipients),
		Relay:      rt.Outbox,
		Log:        rt.Logger,
	})
	reportingv1.RegisterReportServiceServer(rt.GRPC, srv)
	return watchReports(server.Watch{Reports: srv, AutoDraft: s.reports.autoDraft,
		TacitAfter: time.Duration(s.reports.tacitDays) * 24 * time.Hour}, rt, s.reports.watch)
}

// reportWatcher is the principal of the reports' own changes (the automatic draft, the tacit
// approvals) in their histories and events: the Authority's service, no person.
var reportWatcher = &auth.Principal{Institution: "NRM", Subject: "reporting/reports", Roles: []auth.Role{auth.RoleService}}

// watchReports returns the worker that looks, every interval, for what the reports need.
func watchReports(w server.Watch, rt *app.Runtime, interval time.Duration) app.Worker {
	interval = cmp.Or(interval, time.Hour)
	return func(ctx context.Context) error {
		ctx = auth.NewContext(ctx, reportWatcher)
		for {
			if err := w.Look(ctx); err != nil && ctx.Err() == nil {
				rt.Logger.WarnContext(ctx, "the reports' look failed; next look in "+interval.String(), "error", err)
			}
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(interval):
			}
		}
	}
}

// list is a comma-separated setting's values, trimmed, without empty or repeated ones.
func list(v string) []string {
	var out []string
	for _, x := range strings.Split(v, ",") {
		if x = strings.TrimSpace(x); x != "" && !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}
