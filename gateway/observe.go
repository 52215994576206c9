package gateway

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// unmatched stands for the route of a request that matched none, in metrics and traces: the raw
// path would let any caller create label values without bound.
const unmatched = "unmatched"

// observer records each finished request: one log line, the request metrics, and the route on
// the request's span.
type observer struct {
	log      *slog.Logger
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newObserver(log *slog.Logger, reg prometheus.Registerer) *observer {
	labels := []string{"method", "route", "code"}
	o := &observer{
		log: log,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_http_requests_total",
			Help: "HTTP requests served by the gateway, by method, route pattern and status code.",
		}, labels),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gateway_http_request_duration_seconds",
			Help:    "Time to serve an HTTP request, by method, route pattern and status code.",
			Buckets: prometheus.DefBuckets,
		}, labels),
	}
	reg.MustRegister(o.requests, o.duration)
	return o
}

// observe logs and counts a finished request. The log names the route pattern, or the path when
// no route matched, and never the query or the body: both can hold personal data.
func (o *observer) observe(ctx context.Context, r *http.Request, x *exchange, rec *recorder, d time.Duration) {
	route := x.route
	label := route
	if label == "" {
		label = unmatched
	}
	method := methodLabel(r.Method)
	code := strconv.Itoa(rec.status)
	o.requests.WithLabelValues(method, label, code).Inc()
	o.duration.WithLabelValues(method, label, code).Observe(d.Seconds())

	span := trace.SpanFromContext(ctx)
	span.SetName(method + " " + label)
	span.SetAttributes(attribute.String("http.route", label))

	logged := route
	if logged == "" {
		logged = r.URL.Path
	}
	level := slog.LevelInfo
	if rec.status >= http.StatusInternalServerError {
		level = slog.LevelError
	}
	attrs := []slog.Attr{
		slog.String("method", r.Method),
		slog.String("route", logged),
		slog.Int("status", rec.status),
		slog.Float64("duration_ms", float64(d.Microseconds())/1000),
		slog.Int64("bytes", rec.bytes),
	}
	if x.cause != "" {
		attrs = append(attrs, slog.String("error", x.cause))
	}
	o.log.LogAttrs(ctx, level, "http request", attrs...)
}

// methodLabel keeps the method label to the standard methods, for the same reason as unmatched.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "OTHER"
}
