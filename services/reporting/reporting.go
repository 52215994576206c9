// Package reporting is the Authority's statistics and reports service (points 5, 10 and 11 of
// the Joint Instruction). Its statistics are projections built only from the events of the
// other services.
package reporting

import (
	"context"
	"time"

	reportingv1 "github.com/nrm-albania/nrm/proto/nrm/reporting/v1"
	"github.com/nrm-albania/nrm/services/platform/app"
	"github.com/nrm-albania/nrm/services/platform/config"
	"github.com/nrm-albania/nrm/services/platform/consumer"
	"github.com/nrm-albania/nrm/services/platform/natsbus"
	"github.com/nrm-albania/nrm/services/reporting/internal/datasets"
	"github.com/nrm-albania/nrm/services/reporting/internal/events"
	"github.com/nrm-albania/nrm/services/reporting/internal/projection"
	"github.com/nrm-albania/nrm/services/reporting/internal/server"
)

// CaseStatisticsConsumer is the durable consumer that feeds the case statistics; it also names
// their dead letters, nrm.dlq.reporting-case-counts.<subject>. It replaced "reporting-case-facts"
// (and that one "reporting-case-statistics") when the statistics moved onto package tally's
// documents: a new name is a new consumer, which starts from the beginning of the case stream
// and so rebuilds the statistics of an existing installation in the new collections
// (docs/decisions.md 32 and 38).
const CaseStatisticsConsumer = "reporting-case-counts"

// Service is the reporting service with its own settings. Each of its parts binds its settings
// in Bind and starts in Setup.
type Service struct {
	reports  reportSettings
	dataSets datasets.Calendar
	// dataWatch paces the announcements of members' missing data.
	dataWatch    time.Duration
	publications publications
}

// Bind registers the service's own settings.
func (s *Service) Bind(set *config.Set) {
	s.bindReports(set)
	s.bindDataSets(set)
	s.bindPublications(set)
}

// Configured returns the service as the settings' values would give it, the defaults for the
// rest, for the dev launcher and tests: values keyed by environment variable name.
func Configured(values map[string]string) (*Service, error) {
	var s Service
	if err := config.Apply("reporting", values, s.Bind); err != nil {
		return nil, err
	}
	return &s, nil
}

// Defaults are the service's settings when nothing is configured.
func Defaults() app.Config { return app.Defaults("reporting", "127.0.0.1:9104", "127.0.0.1:9204") }

// Setup registers the services and returns their background workers: the consumers that keep
// the case statistics, the decisions' and closures' figures (setupDecisions) and the referral
// and meeting figures (setupActivity) up to date, the reports' watch and rules (setupReports), and what
// the data sets need (setupDataSets).
func (s *Service) Setup(ctx context.Context, rt *app.Runtime) ([]app.Worker, error) {
	stats := projection.New(rt.DB)
	reportingv1.RegisterReportingServiceServer(rt.GRPC, server.New(stats))
	reportWorkers := s.setupReports(rt, stats)
	s.setupPublications(ctx, rt)
	c := rt.Consumer(consumer.Config{
		Stream:   natsbus.StreamCase,
		Durable:  CaseStatisticsConsumer,
		Subjects: []string{"nrm.case.>"},
	}, events.CaseStatistics(stats, rt.Logger))
	workers := append(append([]app.Worker{c.Run}, reportWorkers...), s.setupDataSets(ctx, rt)...)
	workers = append(workers, setupDecisions(rt)...)
	return append(workers, setupActivity(rt)...), nil
}
