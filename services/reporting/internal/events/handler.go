// Package events applies the events the reporting service consumes to its projections.
package events

import (
	"context"
	"fmt"
	"log/slog"

	caseregistryv1 "github.com/nrm-albania/nrm/proto/nrm/caseregistry/v1"
	eventsv1 "github.com/nrm-albania/nrm/proto/nrm/events/v1"
	"github.com/nrm-albania/nrm/services/platform/consumer"
	"github.com/nrm-albania/nrm/services/reporting/internal/projection"
)

// TypeCaseRegistered is the type of the event the case registry publishes for a new case.
const TypeCaseRegistered = "case.registered"

// CaseCounter counts a case once per event; projection.Projection is one.
type CaseCounter interface {
	Apply(ctx context.Context, c projection.Case) (bool, error)
}

// CaseStatistics returns the handler of the case-statistics consumer. An event that can never be
// counted (a payload of the wrong type, no valid identification date) is a permanent error, so
// it is dead-lettered at once instead of redelivered. Event types the statistics do not use are
// acknowledged, so that the case registry can add new ones without stalling this consumer.
func CaseStatistics(stats CaseCounter, log *slog.Logger) consumer.Handler {
	return func(ctx context.Context, env *eventsv1.Envelope) error {
		if env.GetType() != TypeCaseRegistered {
			log.DebugContext(ctx, "event type not used by the case statistics; skipped",
				"type", env.GetType(), "event_id", env.GetId())
			return nil
		}
		var ev caseregistryv1.CaseRegistered
		if err := env.GetPayload().UnmarshalTo(&ev); err != nil {
			return consumer.Permanent(fmt.Errorf("event %s: payload is not a CaseRegistered: %w", env.GetId(), err))
		}
		c := caseOf(env, &ev)
		if err := c.Validate(); err != nil {
			return consumer.Permanent(fmt.Errorf("event %s: %w", env.GetId(), err))
		}
		counted, err := stats.Apply(ctx, c)
		if err != nil {
			return fmt.Errorf("event %s: %w", env.GetId(), err)
		}
		if !counted {
			log.DebugContext(ctx, "event counted before; duplicate delivery ignored", "event_id", env.GetId(), "marker", c.Marker())
		}
		return nil
	}
}
