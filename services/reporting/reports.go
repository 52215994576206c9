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
	"github.com/nrm-albania/nrm/services/platform/consumer"
	"github.com/nrm-albania/nrm/services/platform/natsbus"
	"github.com/nrm-albania/nrm/services/reporting/internal/datasets"
	"github.com/nrm-albania/nrm/services/reporting/internal/decisionstats"
	"github.com/nrm-albania/nrm/services/reporting/internal/events"
	"github.com/nrm-albania/nrm/services/reporting/internal/meetingstats"
	"github.com/nrm-albania/nrm/services/reporting/internal/procedure"
	"github.com/nrm-albania/nrm/services/reporting/internal/projection"
	"github.com/nrm-albania/nrm/services/reporting/internal/referralstats"
	"github.com/nrm-albania/nrm/services/reporting/internal/reports"
	"github.com/nrm-albania/nrm/services/reporting/internal/server"
)

// DefaultReportRecipients are the offices the Authority reports to monthly (point 11).
const DefaultReportRecipients = "general director of the Ministry of Interior,deputy minister of the interior"

// RulesOfProcedureConsumer keeps the reports' copy of the rules of procedure from the
// secretariat's rules.adopted events: who approves a report, and how.
const RulesOfProcedureConsumer = "reporting-rules-of-procedure"

// reportSettings are the monthly report's settings. Who approves a report, and how, are not
// among them: the rules of procedure say, as the secretariat adopts them.
type reportSettings struct {
	recipients string
	// autoDraft drafts each month's report once it ends; watch paces the looks.
	autoDraft bool
	watch     time.Duration
}

// bindReports registers the report's settings.
func (s *Service) bindReports(set *config.Set) {
	set.String(&s.reports.recipients, "report-recipients", DefaultReportRecipients,
		"the offices, comma-separated, the final report is submitted to")
	set.Bool(&s.reports.autoDraft, "report-auto-draft", true,
		"draft each month's report once the month ends in Tirana, unless it was drafted already")
	set.Duration(&s.reports.watch, "report-watch-interval", time.Hour,
		"pause between two looks for the reports due: the month's draft, the tacit approvals")
	set.RequirePositive("report-watch-interval", &s.reports.watch)
	set.Check(func() error {
		if len(list(s.reports.recipients)) == 0 {
			return fmt.Errorf("report-recipients: name at least one recipient")
		}
		return nil
	})
}

// setupReports registers the report service, whose sections are built from the case statistics,
// the referral and meeting figures and the members' submissions, and returns its workers: the
// watch, and the consumer of the rules of procedure the reports are approved by.
func (s *Service) setupReports(rt *app.Runtime, stats *projection.Projection) []app.Worker {
	rules := procedure.New(rt.DB)
	sections := []struct {
		name    string
		builder reports.Builder
	}{
		{"cases", reports.Cases{Stats: stats}},
		{"decisions", reports.Decisions{Stats: decisionstats.New(rt.DB)}},
		{"referrals", reports.Referrals{Stats: referralstats.New(rt.DB)}},
		{"meetings", reports.Meetings{Stats: meetingstats.New(rt.DB), Rules: rules}},
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
		Rules:      rules,
		Recipients: list(s.reports.recipients),
		Relay:      rt.Outbox,
		Log:        rt.Logger,
	})
	reportingv1.RegisterReportServiceServer(rt.GRPC, srv)
	return []app.Worker{
		app.Every(cmp.Or(s.reports.watch, time.Hour), "the reports' look", rt.Logger, func(ctx context.Context) error {
			return server.Watch{Reports: srv, AutoDraft: s.reports.autoDraft}.Look(auth.NewContext(ctx, reportWatcher))
		}),
		rt.Consumer(consumer.Config{Stream: natsbus.StreamMeeting, Durable: RulesOfProcedureConsumer, Subjects: []string{"nrm.rules.>"}},
			events.RulesOfProcedure(rules, rt.Logger)).Run,
	}
}

// reportWatcher is the principal of the reports' own changes (the automatic draft, the tacit
// approvals) in their histories and events: the Authority's service, no person.
var reportWatcher = &auth.Principal{Institution: "NRM", Subject: "reporting/reports", Roles: []auth.Role{auth.RoleService}}

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
