// Package events applies the events the reporting service consumes to its projections.
package events

import (
	"context"
	"fmt"
	"log/slog"

	eventsv1 "github.com/nrm-albania/nrm/proto/nrm/events/v1"
	"github.com/nrm-albania/nrm/services/platform/consumer"
	"github.com/nrm-albania/nrm/services/reporting/internal/projection"
)

// CaseProjection applies case events, each once and the newest winning; projection.Projection
// is one.
type CaseProjection interface {
	Apply(ctx context.Context, e projection.Event) (bool, error)
}

// CaseStatistics returns the handler of the case-statistics consumer. An event that can never be
// applied (a payload of the wrong type, no valid identification date) is a permanent error, so
// it is dead-lettered at once instead of redelivered. Event types that change no figure are
// acknowledged, so that the case registry can add new ones without stalling this consumer.
func CaseStatistics(stats CaseProjection, log *slog.Logger) consumer.Handler {
	return func(ctx context.Context, env *eventsv1.Envelope) error {
		e, ok, err := eventOf(env)
		if err != nil {
			return consumer.Permanent(fmt.Errorf("event %s: %w", env.GetId(), err))
		}
		if !ok {
			log.DebugContext(ctx, "event changes no case statistics; skipped", "type", env.GetType(), "event_id", env.GetId())
			return nil
		}
		if err := e.Validate(); err != nil {
			return consumer.Permanent(fmt.Errorf("event %s: %w", env.GetId(), err))
		}
		newer, err := stats.Apply(ctx, e)
		if err != nil {
			return fmt.Errorf("event %s: %w", env.GetId(), err)
		}
		if !newer {
			log.DebugContext(ctx, "case event no newer than the one applied; duplicate or late delivery ignored",
				"event_id", env.GetId(), "case_id", e.CaseID, "version", e.Version)
		}
		return nil
	}
}
