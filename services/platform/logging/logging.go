// Package logging builds the JSON slog logger every binary uses. Each record carries the
// service name and, when the context has them, the request id and the trace and span ids, so a
// line can be followed to the request and the trace that produced it.
package logging

import (
	"context"
	"io"
	"log/slog"
	"slices"

	"go.opentelemetry.io/otel/trace"

	"github.com/nrm-albania/nrm/services/platform/requestid"
)

// New returns a JSON logger writing to w at the given level ("debug", "info", "warn", "error").
func New(w io.Writer, service, level string) *slog.Logger {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		lv = slog.LevelInfo
	}
	h := slog.NewJSONHandler(w, &slog.HandlerOptions{Level: lv})
	return slog.New(newContextHandler(h)).With("service", service)
}

// contextHandler adds the request and trace ids found in the record's context, at the top level
// of the record even when the logger has groups: it keeps the handler it was built from (base)
// and the With/WithGroup steps taken since, and replays those steps over base plus the ids.
type contextHandler struct {
	base  slog.Handler
	steps []func(slog.Handler) slog.Handler
	h     slog.Handler // base with the steps applied, for records without ids
}

func newContextHandler(base slog.Handler) contextHandler {
	return contextHandler{base: base, h: base}
}

func (c contextHandler) Enabled(ctx context.Context, l slog.Level) bool { return c.h.Enabled(ctx, l) }

func (c contextHandler) Handle(ctx context.Context, r slog.Record) error {
	var ids []slog.Attr
	if id := requestid.From(ctx); id != "" {
		ids = append(ids, slog.String("request_id", id))
	}
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		ids = append(ids, slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
	}
	if len(ids) == 0 {
		return c.h.Handle(ctx, r)
	}
	h := c.base.WithAttrs(ids)
	for _, step := range c.steps {
		h = step(h)
	}
	return h.Handle(ctx, r)
}

func (c contextHandler) with(step func(slog.Handler) slog.Handler) contextHandler {
	return contextHandler{base: c.base, steps: append(slices.Clip(c.steps), step), h: step(c.h)}
}

func (c contextHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return c.with(func(h slog.Handler) slog.Handler { return h.WithAttrs(as) })
}

func (c contextHandler) WithGroup(name string) slog.Handler {
	return c.with(func(h slog.Handler) slog.Handler { return h.WithGroup(name) })
}
