package cases

import (
	"context"
	"net"
	"testing"

	"github.com/nrm-albania/nrm/services/platform/peer"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	caseregistryv1 "github.com/nrm-albania/nrm/proto/nrm/caseregistry/v1"
	"github.com/nrm-albania/nrm/services/platform/auth/authtest"
)

// fakeRegistry answers GetCase for one case, and records the token each call carried.
type fakeRegistry struct {
	caseregistryv1.UnimplementedCaseRegistryServiceServer
	tokens chan string
}

func (f *fakeRegistry) GetCase(ctx context.Context, req *caseregistryv1.GetCaseRequest) (*caseregistryv1.GetCaseResponse, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	f.tokens <- md.Get("authorization")[0]
	if req.GetId() != "c-1" {
		return nil, status.Error(codes.NotFound, "no such case")
	}
	return &caseregistryv1.GetCaseResponse{Case: &caseregistryv1.Case{Id: "c-1", Code: "VT-2026-00001",
		Profile: &caseregistryv1.Profile{Sex: caseregistryv1.Sex_SEX_FEMALE, MinorAtIdentification: true},
		Consents: []*caseregistryv1.ConsentRecord{
			{Scope: caseregistryv1.ConsentScope_CONSENT_SCOPE_REFERRAL, Decision: caseregistryv1.ConsentDecision_CONSENT_DECISION_GIVEN},
			{Scope: caseregistryv1.ConsentScope_CONSENT_SCOPE_REFERRAL, Decision: caseregistryv1.ConsentDecision_CONSENT_DECISION_WITHDRAWN},
		}}}, nil
}

// The registry over TLS, as it serves once mutual TLS is configured: the client trusts its CA,
// sends the service's token only over TLS, and reads the answer in force; without the CA it
// cannot connect, and sends nothing.
func TestTheRegistryIsAskedOverTLS(t *testing.T) {
	ca := authtest.NewCA(t)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(grpc.Creds(credentials.NewServerTLSFromCert(&ca.Server.TLS)))
	fake := &fakeRegistry{tokens: make(chan string, 4)}
	caseregistryv1.RegisterCaseRegistryServiceServer(srv, fake)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	token := func(context.Context) (string, error) { return "service-token", nil }

	c, err := Dial(lis.Addr().String(), peer.TLS{CAFile: ca.CertFile, ServerName: "localhost"}, token)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got, err := c.Case(context.Background(), "c-1")
	if err != nil || !got.Child || got.Code != "VT-2026-00001" || got.Sex != "SEX_FEMALE" ||
		got.ReferralConsent != caseregistryv1.ConsentDecision_CONSENT_DECISION_WITHDRAWN.String() {
		t.Fatalf("Case: %+v, %v", got, err)
	}
	if tok := <-fake.tokens; tok != "Bearer service-token" {
		t.Errorf("the registry got %q", tok)
	}
	if _, err := c.Case(context.Background(), "c-2"); status.Code(err) != codes.NotFound {
		t.Errorf("an unknown case: %v", err)
	}
	<-fake.tokens

	plain, err := Dial(lis.Addr().String(), peer.TLS{}, token)
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	if _, err := plain.Case(context.Background(), "c-1"); status.Code(err) != codes.Unavailable {
		t.Errorf("plaintext to a TLS registry: %v, want Unavailable", err)
	}
	if _, err := Dial(lis.Addr().String(), peer.TLS{CAFile: "/nonexistent.pem"}, token); err == nil {
		t.Error("a missing CA file was accepted")
	}
}
