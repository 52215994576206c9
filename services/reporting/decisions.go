package reporting

import (
	reportingv1 "github.com/nrm-albania/nrm/proto/nrm/reporting/v1"
	"github.com/nrm-albania/nrm/services/platform/app"
	"github.com/nrm-albania/nrm/services/platform/consumer"
	"github.com/nrm-albania/nrm/services/platform/natsbus"
	"github.com/nrm-albania/nrm/services/reporting/internal/decisionstats"
	"github.com/nrm-albania/nrm/services/reporting/internal/events"
	"github.com/nrm-albania/nrm/services/reporting/internal/server"
)

// DecisionStatisticsConsumer feeds the figures of status decisions, closures and reopenings
// from the case stream. A consumer of its own, so that an installation that had the case
// statistics before these figures builds them from the beginning of the stream; its handler
// checks each event's type before decoding, since every case event shares the subjects.
const DecisionStatisticsConsumer = "reporting-case-decisions"

// setupDecisions registers DecisionStatisticsService and returns the consumer of its figures.
func setupDecisions(rt *app.Runtime) []app.Worker {
	figures := decisionstats.New(rt.DB)
	reportingv1.RegisterDecisionStatisticsServiceServer(rt.GRPC, server.NewDecisions(figures))
	return []app.Worker{
		rt.Consumer(consumer.Config{Stream: natsbus.StreamCase, Durable: DecisionStatisticsConsumer, Subjects: []string{"nrm.case.>"}},
			events.DecisionStatistics(figures, rt.Logger)).Run,
	}
}
