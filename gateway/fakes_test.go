package gateway_test

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"

	caseregistryv1 "github.com/nrm-albania/nrm/proto/nrm/caseregistry/v1"
	referralv1 "github.com/nrm-albania/nrm/proto/nrm/referral/v1"
	reportingv1 "github.com/nrm-albania/nrm/proto/nrm/reporting/v1"
	secretariatv1 "github.com/nrm-albania/nrm/proto/nrm/secretariat/v1"
)

// reply produces a fake's answer to one call; it may block on ctx to play a slow backend.
type reply func(ctx context.Context) (proto.Message, error)

func respond(m proto.Message) reply {
	return func(context.Context) (proto.Message, error) { return m, nil }
}

func fail(err error) reply {
	return func(context.Context) (proto.Message, error) { return nil, err }
}

// call is one request a fake received.
type call struct {
	method   string
	req      proto.Message
	md       metadata.MD
	deadline time.Duration // left when the call arrived; 0 without a deadline
}

// fake records the calls of one backend and answers them with configurable replies, by method.
type fake struct {
	mu      sync.Mutex
	calls   []call
	replies map[string]reply
}

func (f *fake) set(method string, r reply) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.replies[method] = r
}

func (f *fake) recorded() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]call(nil), f.calls...)
}

func (f *fake) last(t *testing.T) call {
	t.Helper()
	calls := f.recorded()
	if len(calls) == 0 {
		t.Fatal("the backend was not called")
	}
	return calls[len(calls)-1]
}

// handle records the call, then answers it as a service built on the platform would: with the
// request id echoed in the response header, and a header of its own.
func handle[T proto.Message](f *fake, ctx context.Context, method string, req proto.Message) (T, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	var left time.Duration
	if d, ok := ctx.Deadline(); ok {
		left = time.Until(d)
	}
	f.mu.Lock()
	f.calls = append(f.calls, call{method: method, req: proto.Clone(req), md: md.Copy(), deadline: left})
	r := f.replies[method]
	f.mu.Unlock()

	_ = grpc.SetHeader(ctx, metadata.Pairs("x-request-id", first(md, "x-request-id"), "x-backend", method, "etag", `"7"`))
	var zero T
	resp, err := r(ctx)
	if err != nil {
		return zero, err
	}
	return resp.(T), nil
}

func first(md metadata.MD, key string) string {
	if v := md.Get(key); len(v) > 0 {
		return v[0]
	}
	return ""
}

type caseRegistry struct {
	caseregistryv1.UnimplementedCaseRegistryServiceServer
	*fake
}

func (s caseRegistry) RegisterCase(ctx context.Context, req *caseregistryv1.RegisterCaseRequest) (*caseregistryv1.RegisterCaseResponse, error) {
	return handle[*caseregistryv1.RegisterCaseResponse](s.fake, ctx, "RegisterCase", req)
}

func (s caseRegistry) UpdateCase(ctx context.Context, req *caseregistryv1.UpdateCaseRequest) (*caseregistryv1.UpdateCaseResponse, error) {
	return handle[*caseregistryv1.UpdateCaseResponse](s.fake, ctx, "UpdateCase", req)
}

func (s caseRegistry) ListCases(ctx context.Context, req *caseregistryv1.ListCasesRequest) (*caseregistryv1.ListCasesResponse, error) {
	return handle[*caseregistryv1.ListCasesResponse](s.fake, ctx, "ListCases", req)
}

func (s caseRegistry) GetCase(ctx context.Context, req *caseregistryv1.GetCaseRequest) (*caseregistryv1.GetCaseResponse, error) {
	return handle[*caseregistryv1.GetCaseResponse](s.fake, ctx, "GetCase", req)
}

type referral struct {
	referralv1.UnimplementedReferralServiceServer
	*fake
}

func (s referral) ListServiceTypes(ctx context.Context, req *referralv1.ListServiceTypesRequest) (*referralv1.ListServiceTypesResponse, error) {
	return handle[*referralv1.ListServiceTypesResponse](s.fake, ctx, "ListServiceTypes", req)
}

type secretariat struct {
	secretariatv1.UnimplementedSecretariatServiceServer
	*fake
}

func (s secretariat) ListMembers(ctx context.Context, req *secretariatv1.ListMembersRequest) (*secretariatv1.ListMembersResponse, error) {
	return handle[*secretariatv1.ListMembersResponse](s.fake, ctx, "ListMembers", req)
}

type reporting struct {
	reportingv1.UnimplementedReportingServiceServer
	*fake
}

func (s reporting) GetCaseStatistics(ctx context.Context, req *reportingv1.GetCaseStatisticsRequest) (*reportingv1.GetCaseStatisticsResponse, error) {
	return handle[*reportingv1.GetCaseStatisticsResponse](s.fake, ctx, "GetCaseStatistics", req)
}

// backend is one fake service on its own gRPC server, with the health service the gateway's
// readiness checks call.
type backend struct {
	*fake
	addr   string
	server *grpc.Server
	health *health.Server
}

// startBackend serves a fake on a free port until the test ends. register puts the service on
// the server; replies are the initial answers by method.
func startBackend(t *testing.T, register func(*grpc.Server, *fake), replies map[string]reply) *backend {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &backend{
		fake:   &fake{replies: replies},
		addr:   lis.Addr().String(),
		server: grpc.NewServer(),
		health: health.NewServer(),
	}
	register(b.server, b.fake)
	healthpb.RegisterHealthServer(b.server, b.health)
	b.health.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	go func() { _ = b.server.Serve(lis) }()
	t.Cleanup(b.server.Stop)
	return b
}
