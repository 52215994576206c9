package server

import (
	"context"

	reportingv1 "github.com/nrm-albania/nrm/proto/nrm/reporting/v1"
	"github.com/nrm-albania/nrm/services/reporting/internal/decisionstats"
)

// DecisionReader reads the figures of the acts dated in a period; decisionstats.Figures is one.
type DecisionReader interface {
	Statistics(ctx context.Context, from, to string) (decisionstats.Statistics, error)
}

// Decisions serves the figures of status decisions, closures and reopenings.
type Decisions struct {
	reportingv1.UnimplementedDecisionStatisticsServiceServer
	figures DecisionReader
}

// NewDecisions returns the service reading from figures.
func NewDecisions(figures DecisionReader) *Decisions { return &Decisions{figures: figures} }

// GetDecisionStatistics counts the acts dated from..to.
func (d *Decisions) GetDecisionStatistics(ctx context.Context, req *reportingv1.GetDecisionStatisticsRequest) (*reportingv1.GetDecisionStatisticsResponse, error) {
	if err := validatePeriod(req.GetFrom(), req.GetTo()); err != nil {
		return nil, err
	}
	st, err := d.figures.Statistics(ctx, req.GetFrom(), req.GetTo())
	if err != nil {
		return nil, err
	}
	return &reportingv1.GetDecisionStatisticsResponse{
		Decisions:               statusDecisions(st.First),
		Revisions:               statusDecisions(st.Revisions),
		MeanDaysToDecision:      st.MeanDays(),
		MedianDaysToDecision:    st.MedianDays(),
		DaysToDecisionHistogram: counts(st.Histogram),
		Closures:                st.Closures,
		ClosuresByReason:        counts(st.ClosedByReason),
		Reopenings:              st.Reopenings,
		ReopeningsByReason:      counts(st.ReopenedByReason),
		From:                    req.GetFrom(),
		To:                      req.GetTo(),
		AsOf:                    asOf(st.AsOf),
	}, nil
}

func statusDecisions(d decisionstats.Decisions) *reportingv1.StatusDecisions {
	return &reportingv1.StatusDecisions{Total: d.Total, ByStatus: counts(d.ByStatus), ByDecidingBody: counts(d.ByBody)}
}
