package logging_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"reflect"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/trace"

	"github.com/nrm-albania/nrm/services/platform/logging"
	"github.com/nrm-albania/nrm/services/platform/requestid"
)

var (
	traceID = trace.TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36}
	spanID  = trace.SpanID{0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7}
)

func TestRecordCarriesServiceRequestAndTraceIDs(t *testing.T) {
	var buf bytes.Buffer
	log := logging.New(&buf, "caseregistry", "info")
	ctx := requestid.With(context.Background(), "req-1")
	ctx = trace.ContextWithSpanContext(ctx, trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: traceID, SpanID: spanID, TraceFlags: trace.FlagsSampled,
	}))
	log.InfoContext(ctx, "registered", "case", "c-1")

	rec := onlyRecord(t, &buf)
	want := map[string]string{
		"msg":        "registered",
		"level":      "INFO",
		"service":    "caseregistry",
		"request_id": "req-1",
		"trace_id":   "4bf92f3577b34da6a3ce929d0e0e4736",
		"span_id":    "00f067aa0ba902b7",
		"case":       "c-1",
	}
	for k, v := range want {
		if rec[k] != v {
			t.Errorf("%s = %v, want %q", k, rec[k], v)
		}
	}
}

func TestRecordWithoutContextIDsHasOnlyTheService(t *testing.T) {
	tests := map[string]context.Context{
		"empty context": context.Background(),
		"invalid span context": trace.ContextWithSpanContext(context.Background(),
			trace.NewSpanContext(trace.SpanContextConfig{TraceID: traceID})), // no span id: invalid
	}
	for name, ctx := range tests {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			logging.New(&buf, "reporting", "info").InfoContext(ctx, "hello")
			rec := onlyRecord(t, &buf)
			if rec["service"] != "reporting" {
				t.Errorf("service = %v", rec["service"])
			}
			for _, k := range []string{"request_id", "trace_id", "span_id"} {
				if _, ok := rec[k]; ok {
					t.Errorf("record has %s = %v", k, rec[k])
				}
			}
		})
	}
}

func TestWithAttrsKeepsTheContextIDs(t *testing.T) {
	var buf bytes.Buffer
	log := logging.New(&buf, "referral", "info").With("consumer", "stats")
	log.InfoContext(requestid.With(context.Background(), "req-2"), "applied")
	rec := onlyRecord(t, &buf)
	if rec["consumer"] != "stats" || rec["request_id"] != "req-2" || rec["service"] != "referral" {
		t.Errorf("record %v", rec)
	}
}

func TestContextIDsStayAtTheTopUnderGroups(t *testing.T) {
	tests := []struct {
		name   string
		derive func(*slog.Logger) *slog.Logger
		want   string // the record without time, as JSON
	}{
		{
			name:   "group",
			derive: func(l *slog.Logger) *slog.Logger { return l.WithGroup("g") },
			want:   `{"level":"INFO","msg":"m","service":"s","request_id":"req-3","g":{"k":"v"}}`,
		},
		{
			name:   "attrs then group then attrs",
			derive: func(l *slog.Logger) *slog.Logger { return l.With("a", 1).WithGroup("g").With("b", 2) },
			want:   `{"level":"INFO","msg":"m","service":"s","request_id":"req-3","a":1,"g":{"b":2,"k":"v"}}`,
		},
		{
			name:   "nested groups",
			derive: func(l *slog.Logger) *slog.Logger { return l.WithGroup("g").WithGroup("h") },
			want:   `{"level":"INFO","msg":"m","service":"s","request_id":"req-3","g":{"h":{"k":"v"}}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			log := tt.derive(logging.New(&buf, "s", "info"))
			log.InfoContext(requestid.With(context.Background(), "req-3"), "m", "k", "v")
			rec := onlyRecord(t, &buf)
			delete(rec, "time")
			assertJSON(t, rec, tt.want)
		})
	}
}

func TestGroupedRecordWithoutContextIDs(t *testing.T) {
	var buf bytes.Buffer
	logging.New(&buf, "s", "info").With("a", 1).WithGroup("g").Info("m", "k", "v")
	rec := onlyRecord(t, &buf)
	delete(rec, "time")
	assertJSON(t, rec, `{"level":"INFO","msg":"m","service":"s","a":1,"g":{"k":"v"}}`)
}

func TestSiblingLoggersDoNotShareAttributes(t *testing.T) {
	var buf bytes.Buffer
	parent := logging.New(&buf, "s", "info").With("p", 0).WithGroup("g")
	one, two := parent.With("one", 1), parent.With("two", 2)
	ctx := requestid.With(context.Background(), "req-4")
	one.InfoContext(ctx, "m")
	two.InfoContext(ctx, "m")
	recs := records(t, &buf)
	if len(recs) != 2 {
		t.Fatalf("%d records", len(recs))
	}
	for i, want := range []string{
		`{"level":"INFO","msg":"m","service":"s","request_id":"req-4","p":0,"g":{"one":1}}`,
		`{"level":"INFO","msg":"m","service":"s","request_id":"req-4","p":0,"g":{"two":2}}`,
	} {
		delete(recs[i], "time")
		assertJSON(t, recs[i], want)
	}
}

func TestLevelFiltering(t *testing.T) {
	tests := []struct {
		level string
		want  []string // messages written, of debug, info, warn and error
	}{
		{"debug", []string{"d", "i", "w", "e"}},
		{"info", []string{"i", "w", "e"}},
		{"warn", []string{"w", "e"}},
		{"error", []string{"e"}},
		{"WARN", []string{"w", "e"}},
		{"", []string{"i", "w", "e"}},        // unset: info
		{"verbose", []string{"i", "w", "e"}}, // unknown: info
	}
	for _, tt := range tests {
		t.Run(tt.level, func(t *testing.T) {
			var buf bytes.Buffer
			log := logging.New(&buf, "s", tt.level)
			ctx := context.Background()
			log.DebugContext(ctx, "d")
			log.InfoContext(ctx, "i")
			log.WarnContext(ctx, "w")
			log.ErrorContext(ctx, "e")
			var got []string
			for _, rec := range records(t, &buf) {
				got = append(got, rec["msg"].(string))
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("level %q wrote %v, want %v", tt.level, got, tt.want)
			}
		})
	}
}

func TestEnabledFollowsTheLevel(t *testing.T) {
	log := logging.New(&bytes.Buffer{}, "s", "warn")
	if log.Enabled(context.Background(), slog.LevelInfo) {
		t.Error("info enabled at warn")
	}
	if !log.Enabled(context.Background(), slog.LevelError) {
		t.Error("error disabled at warn")
	}
}

// records parses every JSON line in buf.
func records(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.Lines(buf.String()) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("line %q is not JSON: %v", line, err)
		}
		out = append(out, rec)
	}
	return out
}

func onlyRecord(t *testing.T, buf *bytes.Buffer) map[string]any {
	t.Helper()
	recs := records(t, buf)
	if len(recs) != 1 {
		t.Fatalf("%d records, want 1:\n%s", len(recs), buf)
	}
	return recs[0]
}

// assertJSON compares a parsed record with the JSON object want, ignoring key order.
func assertJSON(t *testing.T, rec map[string]any, want string) {
	t.Helper()
	var w map[string]any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(rec, w) {
		got, _ := json.Marshal(rec)
		t.Errorf("record\n got %s\nwant %s", got, want)
	}
}
