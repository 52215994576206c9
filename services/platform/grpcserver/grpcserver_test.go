package grpcserver_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/nrm-albania/nrm/services/platform/apierr"
	"github.com/nrm-albania/nrm/services/platform/authz"
	"github.com/nrm-albania/nrm/services/platform/grpcserver"
	"github.com/nrm-albania/nrm/services/platform/logging"
	"github.com/nrm-albania/nrm/services/platform/requestid"
)

// The probe service's request is a mode that tells the handler how to behave (see probe.behave).
const (
	probeService = "nrm.test.v1.Probe"
	unaryMethod  = "/" + probeService + "/Unary"
	streamMethod = "/" + probeService + "/Stream"
)

func TestPanicBecomesInternalWithoutItsText(t *testing.T) {
	for _, kind := range []string{"unary", "stream"} {
		t.Run(kind, func(t *testing.T) {
			e := start(t, grpcserver.Options{})
			_, _, err := e.call(t, kind, "panic", nil)
			st := status.Convert(err)
			if st.Code() != codes.Internal || st.Message() != "internal error" {
				t.Errorf("got %s %q, want Internal \"internal error\"", st.Code(), st.Message())
			}
			if e.logs.find(func(r logRecord) bool {
				return r["msg"] == "panic while serving a call" && strings.Contains(fmt.Sprint(r["panic"]), "secret panic detail")
			}) == nil {
				t.Errorf("the panic is not logged:\n%s", e.logs)
			}
			// The server survives and keeps serving.
			if got, _, err := e.call(t, kind, "ok", nil); err != nil || got == "" {
				t.Fatalf("call after the panic: %q, %v", got, err)
			}
		})
	}
}

func TestPlainErrorBecomesInternalQuotingTheRequestID(t *testing.T) {
	for _, kind := range []string{"unary", "stream"} {
		t.Run(kind, func(t *testing.T) {
			e := start(t, grpcserver.Options{})
			_, _, err := e.call(t, kind, "plain", metadata.Pairs(requestid.MetadataKey, "req-plain-1"))
			st := status.Convert(err)
			if st.Code() != codes.Internal {
				t.Fatalf("code %s, want Internal", st.Code())
			}
			if strings.Contains(st.Message(), "secret") {
				t.Errorf("message %q leaks the error", st.Message())
			}
			if st.Message() != "internal error; quote request id req-plain-1" {
				t.Errorf("message %q does not quote the request id", st.Message())
			}
			// The detail goes to the log, with the request id, for the operator.
			if e.logs.find(func(r logRecord) bool {
				return r["msg"] == "internal error" && r["request_id"] == "req-plain-1" &&
					r["error"] == "secret driver detail" && r["grpc.method"] == methodOf(kind)
			}) == nil {
				t.Errorf("the error is not logged with the request id:\n%s", e.logs)
			}
		})
	}
}

func TestInternalErrorQuotesTheGeneratedRequestID(t *testing.T) {
	e := start(t, grpcserver.Options{})
	_, header, err := e.call(t, "unary", "plain", nil)
	id := only(t, header, requestid.MetadataKey)
	if _, perr := uuid.Parse(id); perr != nil {
		t.Errorf("generated id %q is not a UUID", id)
	}
	if msg := status.Convert(err).Message(); msg != "internal error; quote request id "+id {
		t.Errorf("message %q does not quote the id %s of the response header", msg, id)
	}
}

func TestStatusErrorPassesThroughUnchanged(t *testing.T) {
	for _, kind := range []string{"unary", "stream"} {
		t.Run(kind, func(t *testing.T) {
			e := start(t, grpcserver.Options{})
			_, _, err := e.call(t, kind, "status", nil)
			st := status.Convert(err)
			if st.Code() != codes.NotFound || st.Message() != `case "c-1" not found` {
				t.Errorf("got %s %q", st.Code(), st.Message())
			}
			if len(st.Details()) != 1 {
				t.Fatalf("details %v, want the ResourceInfo", st.Details())
			}
			if ri, ok := st.Details()[0].(*errdetails.ResourceInfo); !ok || ri.GetResourceName() != "c-1" {
				t.Errorf("detail %v, want ResourceInfo of c-1", st.Details()[0])
			}
			if e.logs.find(func(r logRecord) bool { return r["msg"] == "internal error" }) != nil {
				t.Errorf("a status error was logged as an internal error")
			}
		})
	}
}

func TestWrappedStatusErrorDoesNotLeakTheWrapperText(t *testing.T) {
	e := start(t, grpcserver.Options{})
	_, _, err := e.call(t, "unary", "wrapped", nil)
	st := status.Convert(err)
	if st.Code() != codes.NotFound {
		t.Errorf("code %s, want NotFound", st.Code())
	}
	if strings.Contains(st.Message(), "secret") {
		t.Errorf("message %q leaks the wrapper's text", st.Message())
	}
}

func TestContextErrorIsNotAnInternalError(t *testing.T) {
	tests := []struct {
		name string
		// end ends the call's context once the handler is running.
		end func(ctx context.Context, e *env, cancel context.CancelFunc)
		// want are the codes the server may record: when the deadline passes, the server's own
		// timer and the client's cancellation race.
		want []string
	}{
		{
			name: "caller cancels",
			end: func(ctx context.Context, e *env, cancel context.CancelFunc) {
				for e.probe.calls.Load() == 0 && ctx.Err() == nil {
					time.Sleep(5 * time.Millisecond)
				}
				cancel()
			},
			want: []string{"Canceled"},
		},
		{
			name: "deadline passes",
			end:  func(context.Context, *env, context.CancelFunc) {},
			want: []string{"DeadlineExceeded", "Canceled"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := start(t, grpcserver.Options{})
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			go tt.end(ctx, e, cancel)
			err := e.conn.Invoke(ctx, unaryMethod, wrapperspb.String("wait"), &wrapperspb.StringValue{})
			if c := status.Code(err); c != codes.Canceled && c != codes.DeadlineExceeded {
				t.Fatalf("client got %s", c)
			}
			// The server's own record of the call (the logging interceptor sees the cleaned error).
			var finished logRecord
			eventually(t, "the call is logged as finished", func() bool {
				finished = e.logs.find(func(r logRecord) bool { return r["msg"] == "finished call" && r["grpc.method"] == "Unary" })
				return finished != nil
			})
			if code, _ := finished["grpc.code"].(string); !slices.Contains(tt.want, code) {
				t.Errorf("server recorded %s, want one of %v", code, tt.want)
			}
			if e.logs.find(func(r logRecord) bool { return r["msg"] == "internal error" }) != nil {
				t.Errorf("a context error was logged as an internal error:\n%s", e.logs)
			}
		})
	}
}

func TestRequestID(t *testing.T) {
	tests := []struct {
		name string
		sent []string // x-request-id values sent; nil sends none
		keep bool     // whether the first one is kept
	}{
		{"valid id is kept", []string{"gw-42.abc"}, true},
		{"first of several is kept", []string{"first", "second"}, true},
		{"missing id is generated", nil, false},
		{"empty id is replaced", []string{""}, false},
		{"id with spaces is replaced", []string{"a b"}, false},
		{"too long id is replaced", []string{strings.Repeat("x", 129)}, false},
	}
	for _, tt := range tests {
		for _, kind := range []string{"unary", "stream"} {
			t.Run(tt.name+"/"+kind, func(t *testing.T) {
				e := start(t, grpcserver.Options{})
				md := metadata.MD{}
				for _, v := range tt.sent {
					md.Append(requestid.MetadataKey, v)
				}
				got, header, err := e.call(t, kind, "ok", md)
				if err != nil {
					t.Fatal(err)
				}
				echoed := only(t, header, requestid.MetadataKey)
				if tt.keep && echoed != tt.sent[0] {
					t.Errorf("echoed %q, want %q", echoed, tt.sent[0])
				}
				if !tt.keep {
					if _, err := uuid.Parse(echoed); err != nil {
						t.Errorf("echoed %q, want a generated UUID", echoed)
					}
				}
				if handlerID, _, _ := strings.Cut(got, "|"); handlerID != echoed {
					t.Errorf("handler saw request id %q, header has %q", handlerID, echoed)
				}
			})
		}
	}
}

func TestGuardRefusalStopsTheCall(t *testing.T) {
	tests := []struct {
		name string
		md   metadata.MD
		want codes.Code
	}{
		{"no credentials", nil, codes.Unauthenticated},
		{"forged token", metadata.Pairs("authorization", "Bearer forged"), codes.Unauthenticated},
		{"role not allowed", metadata.Pairs("authorization", "Bearer reader"), codes.PermissionDenied},
	}
	for _, tt := range tests {
		for _, kind := range []string{"unary", "stream"} {
			t.Run(tt.name+"/"+kind, func(t *testing.T) {
				guard := &tokenGuard{}
				e := start(t, grpcserver.Options{Guard: guard})
				_, _, err := e.call(t, kind, "ok", tt.md)
				if status.Code(err) != tt.want {
					t.Errorf("code %s, want %s", status.Code(err), tt.want)
				}
				if n := e.probe.calls.Load(); n != 0 {
					t.Errorf("handler called %d times", n)
				}
				if n := guard.calls.Load(); n != 1 {
					t.Errorf("guard consulted %d times, want 1", n)
				}
			})
		}
	}
}

func TestGuardPrincipalReachesTheHandler(t *testing.T) {
	for _, kind := range []string{"unary", "stream"} {
		t.Run(kind, func(t *testing.T) {
			guard := &tokenGuard{}
			e := start(t, grpcserver.Options{Guard: guard})
			md := metadata.Pairs("authorization", "Bearer good", requestid.MetadataKey, "req-guard")
			got, _, err := e.call(t, kind, "ok", md)
			if err != nil {
				t.Fatal(err)
			}
			if _, principal, _ := strings.Cut(got, "|"); principal != "alice" {
				t.Errorf("handler saw principal %q, want alice", principal)
			}
			if m := guard.lastMethod.Load(); m == nil || *m != methodOf(kind) {
				t.Errorf("guard saw method %v, want %s", m, methodOf(kind))
			}
			if id := guard.lastRequestID.Load(); id == nil || *id != "req-guard" {
				t.Errorf("guard saw request id %v, want req-guard", id)
			}
		})
	}
}

func TestHealthStaysOpenBehindTheGuard(t *testing.T) {
	refuse := refuseAll{}
	e := start(t, grpcserver.Options{Guard: authz.Guard{Authn: refuse, Table: authz.Table}})
	e.srv.SetServing(true)
	hc := healthpb.NewHealthClient(e.conn)
	ctx := context.Background()
	res, err := hc.Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	if res.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("status %s", res.GetStatus())
	}
	if _, err := hc.List(ctx, &healthpb.HealthListRequest{}); err != nil {
		t.Errorf("List: %v", err)
	}
	watch, err := hc.Watch(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if first, err := watch.Recv(); err != nil || first.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("Watch: %v, %v", first, err)
	}
	// Everything else needs credentials.
	if _, _, err := e.call(t, "unary", "ok", nil); status.Code(err) != codes.Unauthenticated {
		t.Errorf("probe call: code %s, want Unauthenticated", status.Code(err))
	}
}

func TestAuditorRecordsTheOutcomeOfAdmittedCalls(t *testing.T) {
	tests := []struct {
		mode     string
		wantCode codes.Code // of the error the auditor is given
	}{
		{"ok", codes.OK},
		{"status", codes.NotFound},
		{"panic", codes.Internal}, // recovered before the auditor sees it
		{"plain", codes.Unknown},  // the handler's own error
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			auditor := &recordingAuditor{}
			e := start(t, grpcserver.Options{Auditor: auditor})
			_, _, _ = e.call(t, "unary", tt.mode, nil)
			records := auditor.all()
			if len(records) != 1 {
				t.Fatalf("%d audit records, want 1", len(records))
			}
			r := records[0]
			if r.method != unaryMethod || r.req != tt.mode {
				t.Errorf("audited %s(%q), want %s(%q)", r.method, r.req, unaryMethod, tt.mode)
			}
			if got := status.Code(r.err); got != tt.wantCode {
				t.Errorf("audited outcome %s (%v), want %s", got, r.err, tt.wantCode)
			}
			if (r.resp != "") != (tt.wantCode == codes.OK) {
				t.Errorf("audited response %q with outcome %s", r.resp, status.Code(r.err))
			}
		})
	}
}

func TestAuditFailureReplacesTheResponse(t *testing.T) {
	tests := []struct {
		name      string
		auditErr  error
		wantCode  codes.Code
		wantInMsg string
	}{
		{"status error", status.Error(codes.Unavailable, "audit trail unavailable"), codes.Unavailable, "audit trail unavailable"},
		{"plain error", errors.New("secret audit store detail"), codes.Internal, "quote request id req-audit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := start(t, grpcserver.Options{Auditor: &recordingAuditor{fail: tt.auditErr}})
			out, _, err := e.call(t, "unary", "ok", metadata.Pairs(requestid.MetadataKey, "req-audit"))
			if out != "" {
				t.Errorf("the response %q left the service although its audit failed", out)
			}
			st := status.Convert(err)
			if st.Code() != tt.wantCode || !strings.Contains(st.Message(), tt.wantInMsg) || strings.Contains(st.Message(), "secret") {
				t.Errorf("got %s %q, want %s containing %q", st.Code(), st.Message(), tt.wantCode, tt.wantInMsg)
			}
			if n := e.probe.calls.Load(); n != 1 {
				t.Errorf("handler called %d times, want 1", n)
			}
		})
	}
}

func TestRefusedCallIsNotGivenToTheAuditor(t *testing.T) {
	auditor := &recordingAuditor{}
	e := start(t, grpcserver.Options{Guard: &tokenGuard{}, Auditor: auditor})
	if _, _, err := e.call(t, "unary", "ok", nil); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("code %s, want Unauthenticated", status.Code(err))
	}
	if n := len(auditor.all()); n != 0 {
		t.Errorf("%d audit records of a refused call", n)
	}
}

func TestTLS(t *testing.T) {
	cert, pool := selfSigned(t)
	e := start(t, grpcserver.Options{TLS: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}})

	if _, _, err := e.call(t, "unary", "ok", nil); err == nil {
		t.Error("a plaintext call succeeded on a TLS server")
	}
	conn := e.dial(t, grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{RootCAs: pool, ServerName: "localhost"})))
	var out wrapperspb.StringValue
	if err := conn.Invoke(context.Background(), unaryMethod, wrapperspb.String("ok"), &out); err != nil {
		t.Fatalf("TLS call: %v", err)
	}
}

func TestHealthAnswersByServiceNameFromReadyToDraining(t *testing.T) {
	e := start(t, grpcserver.Options{})
	hc := healthpb.NewHealthClient(e.conn)
	// Probes ask for the whole server ("") or for one service by its full name.
	names := []string{"", probeService, healthpb.Health_ServiceDesc.ServiceName}
	steps := []struct {
		name string
		do   func()
		want healthpb.HealthCheckResponse_ServingStatus
	}{
		{"before ready", func() {}, healthpb.HealthCheckResponse_NOT_SERVING},
		{"ready", func() { e.srv.SetServing(true) }, healthpb.HealthCheckResponse_SERVING},
		{"not ready again", func() { e.srv.SetServing(false) }, healthpb.HealthCheckResponse_NOT_SERVING},
		{"ready again", func() { e.srv.SetServing(true) }, healthpb.HealthCheckResponse_SERVING},
		{"draining", func() { e.srv.Health.Shutdown() }, healthpb.HealthCheckResponse_NOT_SERVING},
		{"ready after draining began", func() { e.srv.SetServing(true) }, healthpb.HealthCheckResponse_NOT_SERVING},
	}
	for _, step := range steps {
		step.do()
		for _, name := range names {
			res, err := hc.Check(context.Background(), &healthpb.HealthCheckRequest{Service: name})
			if err != nil || res.GetStatus() != step.want {
				t.Errorf("%s: health of %q = %s, %v; want %s", step.name, name, res.GetStatus(), err, step.want)
			}
		}
	}
	_, err := hc.Check(context.Background(), &healthpb.HealthCheckRequest{Service: "nrm.unknown.v1.Service"})
	if status.Code(err) != codes.NotFound {
		t.Errorf("health of a service not served: %v, want NotFound", err)
	}
}

func TestHealthFollowsTheServingStatus(t *testing.T) {
	e := start(t, grpcserver.Options{})
	hc := healthpb.NewHealthClient(e.conn)
	e.srv.Health.Shutdown()
	res, err := hc.Check(context.Background(), &healthpb.HealthCheckRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if res.GetStatus() != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Errorf("status %s after Shutdown, want NOT_SERVING", res.GetStatus())
	}
}

func TestMaxRecvBytesIsEnforced(t *testing.T) {
	e := start(t, grpcserver.Options{MaxRecvBytes: 1024})
	tests := []struct {
		name string
		size int
		want codes.Code
	}{
		{"small", 100, codes.OK},
		{"too large", 2048, codes.ResourceExhausted},
	}
	for _, tt := range tests {
		for _, kind := range []string{"unary", "stream"} {
			t.Run(tt.name+"/"+kind, func(t *testing.T) {
				before := e.probe.calls.Load()
				_, _, err := e.call(t, kind, "ok"+strings.Repeat("x", tt.size), nil)
				if status.Code(err) != tt.want {
					t.Fatalf("code %s (%v), want %s", status.Code(err), err, tt.want)
				}
				if called := e.probe.calls.Load() > before; called != (tt.want == codes.OK) {
					t.Errorf("handler called: %v", called)
				}
			})
		}
	}
}

func TestMetricsCountHandledCalls(t *testing.T) {
	e := start(t, grpcserver.Options{})
	for _, mode := range []string{"ok", "ok", "status", "plain", "panic"} {
		_, _, _ = e.call(t, "unary", mode, nil)
	}
	want := map[string]float64{"OK": 2, "NotFound": 1, "Internal": 2}
	for code, n := range want {
		got := e.counter(t, "grpc_server_handled_total", map[string]string{
			"grpc_service": probeService, "grpc_method": "Unary", "grpc_type": "unary", "grpc_code": code,
		})
		if got != n {
			t.Errorf("grpc_server_handled_total{grpc_code=%q} = %v, want %v", code, got, n)
		}
	}
	if got := e.counter(t, "grpc_server_handled_total", map[string]string{"grpc_code": "Unknown"}); got != 0 {
		t.Errorf("%v calls counted as Unknown: metrics must see the cleaned code", got)
	}
	if !e.hasMetric(t, "grpc_server_handling_seconds") {
		t.Error("grpc_server_handling_seconds is not registered")
	}
}

func TestReflection(t *testing.T) {
	tests := []struct {
		enabled bool
		want    codes.Code
	}{
		{true, codes.OK},
		{false, codes.Unimplemented},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.enabled), func(t *testing.T) {
			e := start(t, grpcserver.Options{Reflection: tt.enabled})
			services, err := listServices(e.conn)
			if status.Code(err) != tt.want {
				t.Fatalf("code %s (%v), want %s", status.Code(err), err, tt.want)
			}
			if tt.enabled && (!slices.Contains(services, probeService) || !slices.Contains(services, "grpc.health.v1.Health")) {
				t.Errorf("services %v", services)
			}
		})
	}
}

// probe implements the test service.
type probe struct{ calls atomic.Int32 }

type probeServer interface {
	behave(ctx context.Context, mode string) (string, error)
}

type principalKey struct{}

// behave answers "<request id>|<principal>" or misbehaves as mode says.
func (p *probe) behave(ctx context.Context, mode string) (string, error) {
	p.calls.Add(1)
	switch mode {
	case "panic":
		panic("secret panic detail")
	case "plain":
		return "", errors.New("secret driver detail")
	case "status":
		return "", apierr.NotFound("case", "c-1")
	case "wrapped":
		return "", fmt.Errorf("secret wrapper: %w", apierr.NotFound("case", "c-1"))
	case "wait":
		<-ctx.Done()
		return "", ctx.Err()
	case "deadline":
		dl, ok := ctx.Deadline()
		if !ok {
			return "none", nil
		}
		return time.Until(dl).String(), nil
	}
	principal, _ := ctx.Value(principalKey{}).(string)
	return requestid.From(ctx) + "|" + principal, nil
}

var probeDesc = grpc.ServiceDesc{
	ServiceName: probeService,
	HandlerType: (*probeServer)(nil),
	Methods: []grpc.MethodDesc{{
		MethodName: "Unary",
		Handler: func(srv any, ctx context.Context, dec func(any) error, ic grpc.UnaryServerInterceptor) (any, error) {
			in := &wrapperspb.StringValue{}
			if err := dec(in); err != nil {
				return nil, err
			}
			h := func(ctx context.Context, req any) (any, error) {
				out, err := srv.(probeServer).behave(ctx, req.(*wrapperspb.StringValue).GetValue())
				if err != nil {
					return nil, err
				}
				return wrapperspb.String(out), nil
			}
			return ic(ctx, in, &grpc.UnaryServerInfo{Server: srv, FullMethod: unaryMethod}, h)
		},
	}},
	Streams: []grpc.StreamDesc{{
		StreamName:    "Stream",
		ServerStreams: true,
		Handler: func(srv any, ss grpc.ServerStream) error {
			in := &wrapperspb.StringValue{}
			if err := ss.RecvMsg(in); err != nil {
				return err
			}
			out, err := srv.(probeServer).behave(ss.Context(), in.GetValue())
			if err != nil {
				return err
			}
			return ss.SendMsg(wrapperspb.String(out))
		},
	}},
}

// tokenGuard admits "Bearer good" as alice, refuses "Bearer reader" its permission, and
// everything else its authentication.
type tokenGuard struct {
	calls         atomic.Int32
	lastMethod    atomic.Pointer[string]
	lastRequestID atomic.Pointer[string]
}

func (g *tokenGuard) Admit(ctx context.Context, fullMethod string) (context.Context, error) {
	g.calls.Add(1)
	g.lastMethod.Store(&fullMethod)
	id := requestid.From(ctx)
	g.lastRequestID.Store(&id)
	md, _ := metadata.FromIncomingContext(ctx)
	switch v := md.Get("authorization"); {
	case len(v) == 1 && v[0] == "Bearer good":
		return context.WithValue(ctx, principalKey{}, "alice"), nil
	case len(v) == 1 && v[0] == "Bearer reader":
		return nil, status.Error(codes.PermissionDenied, "readers may not call this")
	}
	return nil, status.Error(codes.Unauthenticated, "invalid token")
}

// refuseAll is an authenticator that knows no one.
type refuseAll struct{}

func (refuseAll) Authenticate(context.Context, string) (context.Context, error) {
	return nil, status.Error(codes.Unauthenticated, "no credentials accepted")
}

// recordingAuditor records every call it is given, and fails them with fail.
type recordingAuditor struct {
	fail    error
	mu      sync.Mutex
	records []auditRecord
}

type auditRecord struct {
	method, req, resp string
	err               error
}

func (a *recordingAuditor) Audit(_ context.Context, fullMethod string, req, resp any, err error) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	r := auditRecord{method: fullMethod, req: req.(*wrapperspb.StringValue).GetValue(), err: err}
	if v, ok := resp.(*wrapperspb.StringValue); ok {
		r.resp = v.GetValue()
	}
	a.records = append(a.records, r)
	return a.fail
}

func (a *recordingAuditor) all() []auditRecord {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.records)
}

// env is a server on an in-memory listener and a client connected to it.
type env struct {
	srv   *grpcserver.Server
	lis   *bufconn.Listener
	conn  *grpc.ClientConn
	reg   *prometheus.Registry
	logs  *logBuffer
	probe *probe
}

func start(t *testing.T, o grpcserver.Options) *env {
	t.Helper()
	e := &env{reg: prometheus.NewRegistry(), logs: &logBuffer{}, probe: &probe{}}
	o.Registerer = e.reg
	e.srv = grpcserver.New(options(o, e.logs))
	e.srv.RegisterService(&probeDesc, e.probe)
	e.lis = bufconn.Listen(1 << 20)
	served := make(chan error, 1)
	go func() { served <- e.srv.Serve(e.lis) }()
	e.conn = e.dial(t, grpc.WithTransportCredentials(insecure.NewCredentials()))
	t.Cleanup(func() {
		e.srv.Stop()
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
		if t.Failed() {
			t.Logf("server log:\n%s", e.logs)
		}
	})
	return e
}

// dial returns a client connection to the server, closed when the test ends.
func (e *env) dial(t *testing.T, opts ...grpc.DialOption) *grpc.ClientConn {
	t.Helper()
	opts = append(opts, grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
		return e.lis.DialContext(ctx)
	}))
	conn, err := grpc.NewClient("passthrough:///bufconn", opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// selfSigned returns a certificate for localhost and a pool that trusts it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "localhost"},
		DNSNames:     []string{"localhost"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// options fills in what a test leaves unset.
func options(o grpcserver.Options, logs io.Writer) grpcserver.Options {
	if logs == nil {
		logs = io.Discard
	}
	if o.Logger == nil {
		o.Logger = logging.New(logs, "test", "debug")
	}
	if o.Registerer == nil {
		o.Registerer = prometheus.NewRegistry()
	}
	if o.TracerProvider == nil {
		o.TracerProvider = sdktrace.NewTracerProvider()
	}
	if o.MaxRecvBytes == 0 {
		o.MaxRecvBytes = 4 << 20
	}
	return o
}

// call invokes the probe's unary or streaming method with mode and outgoing metadata md, and
// returns its answer and the response header.
func (e *env) call(t *testing.T, kind, mode string, md metadata.MD) (string, metadata.MD, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if md != nil {
		ctx = metadata.NewOutgoingContext(ctx, md)
	}
	var header metadata.MD
	out := &wrapperspb.StringValue{}
	if kind == "unary" {
		err := e.conn.Invoke(ctx, unaryMethod, wrapperspb.String(mode), out, grpc.Header(&header))
		return out.GetValue(), header, err
	}
	cs, err := e.conn.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true}, streamMethod)
	if err != nil {
		return "", nil, err
	}
	if err := cs.SendMsg(wrapperspb.String(mode)); err != nil && !errors.Is(err, io.EOF) {
		return "", nil, err
	}
	if err := cs.CloseSend(); err != nil {
		return "", nil, err
	}
	err = cs.RecvMsg(out)
	header, _ = cs.Header()
	if err != nil {
		return "", header, err
	}
	if err := cs.RecvMsg(&wrapperspb.StringValue{}); !errors.Is(err, io.EOF) {
		return "", header, err
	}
	return out.GetValue(), header, nil
}

func methodOf(kind string) string {
	if kind == "unary" {
		return unaryMethod
	}
	return streamMethod
}

// counter sums the counters of family name whose labels include the given ones.
func (e *env) counter(t *testing.T, name string, labels map[string]string) float64 {
	t.Helper()
	var sum float64
	for _, m := range e.family(t, name).GetMetric() {
		if hasLabels(m, labels) {
			sum += m.GetCounter().GetValue()
		}
	}
	return sum
}

func (e *env) hasMetric(t *testing.T, name string) bool {
	t.Helper()
	return e.family(t, name) != nil
}

func (e *env) family(t *testing.T, name string) *dto.MetricFamily {
	t.Helper()
	mfs, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf
		}
	}
	return nil
}

func hasLabels(m *dto.Metric, want map[string]string) bool {
	n := 0
	for _, lp := range m.GetLabel() {
		if v, ok := want[lp.GetName()]; ok {
			if v != lp.GetValue() {
				return false
			}
			n++
		}
	}
	return n == len(want)
}

func listServices(conn *grpc.ClientConn) ([]string, error) {
	stream, err := reflectionpb.NewServerReflectionClient(conn).ServerReflectionInfo(context.Background())
	if err != nil {
		return nil, err
	}
	defer stream.CloseSend()
	// A stream the server refused reports io.EOF here; its status comes from Recv.
	if err := stream.Send(&reflectionpb.ServerReflectionRequest{
		MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{},
	}); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	res, err := stream.Recv()
	if err != nil {
		return nil, err
	}
	var names []string
	for _, s := range res.GetListServicesResponse().GetService() {
		names = append(names, s.GetName())
	}
	return names, nil
}

// only returns the single value of key in md.
func only(t *testing.T, md metadata.MD, key string) string {
	t.Helper()
	v := md.Get(key)
	if len(v) != 1 {
		t.Fatalf("header %s = %q, want one value", key, v)
	}
	return v[0]
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not true after 10s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// logBuffer collects the server's JSON log, safe for concurrent writes.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

type logRecord map[string]any

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// find returns the first record matching, or nil.
func (l *logBuffer) find(match func(logRecord) bool) logRecord {
	for line := range strings.Lines(l.String()) {
		var r logRecord
		if json.Unmarshal([]byte(line), &r) == nil && match(r) {
			return r
		}
	}
	return nil
}

// A call gets at most MaxCallDuration, however long the caller is prepared to wait.
func TestCallDeadlineIsCapped(t *testing.T) {
	e := start(t, grpcserver.Options{MaxCallDuration: 2 * time.Second})
	got, _, err := e.call(t, "unary", "deadline", nil) // the client allows 30s
	if err != nil {
		t.Fatal(err)
	}
	if d, err := time.ParseDuration(got); err != nil || d > 2*time.Second {
		t.Errorf("handler deadline %s away, want at most the 2s cap", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 1*time.Second)
	defer cancel()
	out := &wrapperspb.StringValue{}
	if err := e.conn.Invoke(ctx, unaryMethod, wrapperspb.String("deadline"), out); err != nil {
		t.Fatal(err)
	}
	if d, err := time.ParseDuration(out.GetValue()); err != nil || d > time.Second {
		t.Errorf("a shorter deadline of the caller became %s away, want it kept (at most 1s)", out.GetValue())
	}
}
