package app

import (
	"context"
	"log/slog"
	"time"
)

// Every returns the worker that does round at once and then every interval, until its context
// ends: the services' watches and sweeps. A round that fails is logged, naming what it does, and
// the next round tries again, so a round must be idempotent (replicas run it side by side too).
// interval is positive: the settings that give it require it.
func Every(interval time.Duration, what string, log *slog.Logger, round func(context.Context) error) Worker {
	return func(ctx context.Context) error {
		for {
			if err := round(ctx); err != nil && ctx.Err() == nil {
				log.WarnContext(ctx, what+" did not finish; next round in "+interval.String(), "error", err)
			}
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(interval):
			}
		}
	}
}
