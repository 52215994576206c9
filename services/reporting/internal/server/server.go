// Package server implements nrm.reporting.v1.ReportingService.
package server

import (
	"context"

	reportingv1 "github.com/nrm-albania/nrm/proto/nrm/reporting/v1"
	"github.com/nrm-albania/nrm/services/platform/apierr"
	"github.com/nrm-albania/nrm/services/reporting/internal/projection"
)

// StatisticsReader reads the case statistics of a period; projection.Projection is one.
type StatisticsReader interface {
	Statistics(ctx context.Context, from, to string) (projection.Statistics, error)
}

// Server serves the statistics.
type Server struct {
	reportingv1.UnimplementedReportingServiceServer
	stats StatisticsReader
}

// New returns the service reading from stats.
func New(stats StatisticsReader) *Server { return &Server{stats: stats} }

// GetCaseStatistics counts the cases identified from..to (by identification date).
func (s *Server) GetCaseStatistics(ctx context.Context, req *reportingv1.GetCaseStatisticsRequest) (*reportingv1.GetCaseStatisticsResponse, error) {
	if err := validatePeriod(req.GetFrom(), req.GetTo()); err != nil {
		return nil, err
	}
	st, err := s.stats.Statistics(ctx, req.GetFrom(), req.GetTo())
	if err != nil {
		return nil, err
	}
	return toResponse(st, req.GetFrom(), req.GetTo()), nil
}

// validatePeriod checks that both bounds, when given, are dates and in order.
func validatePeriod(from, to string) error {
	var v apierr.Violations
	if from != "" && !projection.ValidDay(from) {
		v.Add("from", "must be a date YYYY-MM-DD, or empty for no lower bound; got %q", from)
	}
	if to != "" && !projection.ValidDay(to) {
		v.Add("to", "must be a date YYYY-MM-DD, or empty for no upper bound; got %q", to)
	}
	if len(v) == 0 && from != "" && to != "" && from > to {
		v.Add("to", "must not be before from (%s); got %s", from, to)
	}
	return v.Err()
}
