package audit_test

import (
	"context"
	"net"
	"slices"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/types/known/timestamppb"

	auditv1 "github.com/nrm-albania/nrm/proto/nrm/audit/v1"
	"github.com/nrm-albania/nrm/services/platform/audit"
	"github.com/nrm-albania/nrm/services/platform/pagination"
	"github.com/nrm-albania/nrm/services/platform/testenv"
)

// client serves the audit service of db over an in-memory gRPC connection.
func client(t *testing.T, srv auditv1.AuditServiceServer) auditv1.AuditServiceClient {
	t.Helper()
	lis := bufconn.Listen(1 << 20)
	s := grpc.NewServer()
	auditv1.RegisterAuditServiceServer(s, srv)
	go func() { _ = s.Serve(lis) }()
	t.Cleanup(s.Stop)
	conn, err := grpc.NewClient("passthrough:///audit",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return auditv1.NewAuditServiceClient(conn)
}

func TestServerListsAndVerifies(t *testing.T) {
	ctx := context.Background()
	db := testenv.Database(t)
	recs := appendN(t, audit.NewTrail(db, service, nil), 7)
	c := client(t, audit.NewServer(db))

	page, err := c.ListAuditRecords(ctx, &auditv1.ListAuditRecordsRequest{ObjectId: "case-1", PageSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.GetRecords()) != 1 || page.GetRecords()[0].GetSeq() != 6 || page.GetNextPageToken() == "" {
		t.Fatalf("first page %v", page)
	}
	got := audit.FromProto(page.GetRecords()[0])
	if got.Hash != recs[5].Hash || audit.Hash(got) != got.Hash || got.Time != recs[5].Time {
		t.Errorf("record over the API %+v, want %+v", got, recs[5])
	}
	page, err = c.ListAuditRecords(ctx, &auditv1.ListAuditRecordsRequest{ObjectId: "case-1", PageSize: 1, PageToken: page.GetNextPageToken()})
	if err != nil || len(page.GetRecords()) != 1 || page.GetRecords()[0].GetSeq() != 2 || page.GetNextPageToken() != "" {
		t.Fatalf("second page %v, %v", page, err)
	}

	v, err := c.VerifyAuditChain(ctx, &auditv1.VerifyAuditChainRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if !v.GetIntact() || v.GetRecords() != 7 || v.GetHeadSeq() != 7 || v.GetHeadHash() != recs[6].Hash ||
		v.GetProblemKind() != auditv1.ChainProblem_CHAIN_PROBLEM_UNSPECIFIED {
		t.Errorf("verify %v", v)
	}
	remove(t, db, 7)
	v, err = c.VerifyAuditChain(ctx, &auditv1.VerifyAuditChainRequest{AnchorSeq: 7, AnchorHash: recs[6].Hash})
	if err != nil {
		t.Fatal(err)
	}
	if v.GetIntact() || v.GetFirstBadSeq() != 7 || v.GetProblemKind() != auditv1.ChainProblem_CHAIN_PROBLEM_TRUNCATED || v.GetProblem() == "" {
		t.Errorf("verify against the anchor after removing the head: %v", v)
	}
	set(t, db, 3, bson.D{{Key: "purpose", Value: "other"}})
	v, err = c.VerifyAuditChain(ctx, &auditv1.VerifyAuditChainRequest{})
	if err != nil || v.GetFirstBadSeq() != 3 || v.GetProblemKind() != auditv1.ChainProblem_CHAIN_PROBLEM_ALTERED || v.GetHeadSeq() != 2 {
		t.Errorf("verify after altering record 3: %v, %v", v, err)
	}
}

func TestServerRejectsBadRequests(t *testing.T) {
	ctx := context.Background()
	srv := audit.NewServer(testenv.Database(t))
	t1 := timestamppb.New(t0)
	t2 := timestamppb.New(t0.Add(time.Second))
	long := string(make([]byte, 257))
	for _, c := range []struct {
		name   string
		req    *auditv1.ListAuditRecordsRequest
		fields []string
	}{
		{"negative page size", &auditv1.ListAuditRecordsRequest{PageSize: -1}, []string{"page_size"}},
		{"page size too big", &auditv1.ListAuditRecordsRequest{PageSize: 101}, []string{"page_size"}},
		{"forged page token", &auditv1.ListAuditRecordsRequest{PageToken: "not-a-token"}, []string{"page_token"}},
		{"from after to", &auditv1.ListAuditRecordsRequest{From: t2, To: t1}, []string{"from"}},
		{"invalid timestamp", &auditv1.ListAuditRecordsRequest{To: &timestamppb.Timestamp{Nanos: -1}}, []string{"to"}},
		{"object id too long", &auditv1.ListAuditRecordsRequest{ObjectId: long}, []string{"object_id"}},
		{"a seq token for an object's list", &auditv1.ListAuditRecordsRequest{ObjectId: "case-1", PageToken: pagination.Token(audit.DocumentID(3))}, []string{"page_token"}},
		{"an object's token without an object", &auditv1.ListAuditRecordsRequest{PageToken: pagination.Token("n3")}, []string{"page_token"}},
		{"an object's token out of range", &auditv1.ListAuditRecordsRequest{ObjectId: "case-1", PageToken: pagination.Token("n99999999999999")}, []string{"page_token"}},
		{"an object's token not a number", &auditv1.ListAuditRecordsRequest{ObjectId: "case-1", PageToken: pagination.Token("nx")}, []string{"page_token"}},
		{"everything at once", &auditv1.ListAuditRecordsRequest{PageSize: 1000, PageToken: "x", From: t2, To: t1},
			[]string{"page_size", "page_token", "from"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := srv.ListAuditRecords(ctx, c.req)
			wantViolations(t, err, c.fields)
		})
	}
	if _, err := srv.ListAuditRecords(ctx, &auditv1.ListAuditRecordsRequest{From: t1, To: t1, PageSize: 100}); err != nil {
		t.Errorf("from = to and the largest page: %v", err)
	}
	for _, c := range []struct {
		name   string
		req    *auditv1.VerifyAuditChainRequest
		fields []string
	}{
		{"negative anchor", &auditv1.VerifyAuditChainRequest{AnchorSeq: -1}, []string{"anchor_seq"}},
		{"hash without seq", &auditv1.VerifyAuditChainRequest{AnchorHash: audit.GenesisHash}, []string{"anchor_seq"}},
		{"seq without hash", &auditv1.VerifyAuditChainRequest{AnchorSeq: 3}, []string{"anchor_hash"}},
		{"upper-case hash", &auditv1.VerifyAuditChainRequest{AnchorSeq: 3, AnchorHash: "AB" + audit.GenesisHash[2:]}, []string{"anchor_hash"}},
		{"object id too long", &auditv1.VerifyAuditChainRequest{ObjectId: long}, []string{"object_id"}},
		{"object with an anchor", &auditv1.VerifyAuditChainRequest{ObjectId: "case-1", AnchorSeq: 3, AnchorHash: audit.GenesisHash}, []string{"object_id"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := srv.VerifyAuditChain(ctx, c.req)
			wantViolations(t, err, c.fields)
		})
	}
}

func wantViolations(t *testing.T, err error, fields []string) {
	t.Helper()
	st, ok := status.FromError(err)
	if !ok || st.Code() != codes.InvalidArgument {
		t.Fatalf("error %v, want InvalidArgument", err)
	}
	var got []string
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.GetFieldViolations() {
				got = append(got, v.GetField())
				if v.GetDescription() == "" {
					t.Errorf("violation of %s without a description", v.GetField())
				}
			}
		}
	}
	if !slices.Equal(got, fields) {
		t.Errorf("field violations %v, want %v", got, fields)
	}
}
