package server

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	caseregistryv1 "github.com/nrm-albania/nrm/proto/nrm/caseregistry/v1"
	"github.com/nrm-albania/nrm/services/caseregistry/internal/domain"
	"github.com/nrm-albania/nrm/services/caseregistry/internal/store"
	"github.com/nrm-albania/nrm/services/platform/audit"
	"github.com/nrm-albania/nrm/services/platform/auth"
	"github.com/nrm-albania/nrm/services/platform/outbox"
	"github.com/nrm-albania/nrm/services/platform/piicrypto"
	"github.com/nrm-albania/nrm/services/platform/testenv"
)

// trail keeps what the registry records in the audit trail by itself.
type trail struct {
	mu      sync.Mutex
	entries []audit.Entry
}

func (t *trail) Record(_ context.Context, e audit.Entry) (audit.Record, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.entries = append(t.entries, e)
	return audit.Record{Seq: int64(len(t.entries))}, nil
}

type pokes int

func (p *pokes) Notify() { *p++ }

func newServer(t *testing.T) (*Server, *mongo.Database, *pokes) {
	t.Helper()
	db := testenv.Database(t)
	p := new(pokes)
	mk, err := piicrypto.ParseMasterKeys("k1:" + randomKey())
	if err != nil {
		t.Fatal(err)
	}
	ik, err := piicrypto.ParseIndexKey(randomKey())
	if err != nil {
		t.Fatal(err)
	}
	return New(store.New(db), p, mk, ik, &trail{}, slog.New(slog.DiscardHandler), prometheus.NewRegistry()), db, p
}

func randomKey() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

func request() *caseregistryv1.RegisterCaseRequest {
	return &caseregistryv1.RegisterCaseRequest{
		Profile: &caseregistryv1.Profile{Sex: caseregistryv1.Sex_SEX_MALE, AgeAtIdentification: proto.Int32(24), Citizenships: []string{"AL", "GR"}},
		Trafficking: &caseregistryv1.Trafficking{ExploitationTypes: []caseregistryv1.ExploitationType{
			caseregistryv1.ExploitationType_EXPLOITATION_TYPE_FORCED_LABOUR}},
		Identification: &caseregistryv1.Identification{IdentifyingInstitution: "ISHPSHSH", IdentificationDate: "2026-09-14"},
	}
}

// caller is the principal the guard would have established: a police caseworker.
var caller = &auth.Principal{Institution: "ASP-ANTITRAF", Subject: "officer-7", Roles: []auth.Role{auth.RoleCaseworker}}

func asCaller() context.Context { return auth.NewContext(context.Background(), caller) }

func withKey(key string) context.Context {
	return metadata.NewIncomingContext(asCaller(), metadata.Pairs(IdempotencyKeyHeader, key))
}

func count(t *testing.T, db *mongo.Database, coll string) int64 {
	t.Helper()
	n, err := db.Collection(coll).CountDocuments(context.Background(), bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestRegisterThenGet(t *testing.T) {
	s, db, pokes := newServer(t)
	resp, err := s.RegisterCase(asCaller(), request())
	if err != nil {
		t.Fatal(err)
	}
	c := resp.GetCase()
	if c.GetId() == "" || c.GetVersion() != 1 || c.GetState() != caseregistryv1.CaseState_CASE_STATE_OPEN {
		t.Fatalf("registered case %v", c)
	}
	if c.GetOwnerInstitution() != "ASP-ANTITRAF" {
		t.Errorf("owner %q, want the caller's institution, not the identifying one", c.GetOwnerInstitution())
	}
	if c.GetProfile().GetAgeBand() != caseregistryv1.AgeBand_AGE_BAND_ADULT || c.GetProfile().GetMinorAtIdentification() {
		t.Errorf("derived profile %v", c.GetProfile())
	}
	got, err := s.GetCase(context.Background(), &caseregistryv1.GetCaseRequest{Id: c.GetId()})
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(got.GetCase(), c) {
		t.Errorf("GetCase returned\n%v\nwant\n%v", got.GetCase(), c)
	}
	if *pokes != 1 {
		t.Errorf("relay woken %d times, want 1", *pokes)
	}
	// The event waits in the case document and is announced for the relay.
	if n := count(t, db, outbox.PointerCollection); n != 1 {
		t.Errorf("%d pointers, want 1", n)
	}
}

func TestRetryWithTheSameKeyReturnsTheSameCase(t *testing.T) {
	s, db, _ := newServer(t)
	first, err := s.RegisterCase(withKey("req-1"), request())
	if err != nil {
		t.Fatal(err)
	}
	second, err := s.RegisterCase(withKey("req-1"), request())
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(first.GetCase(), second.GetCase()) {
		t.Errorf("retry returned\n%v\nwant\n%v", second.GetCase(), first.GetCase())
	}
	if n := count(t, db, store.Collection); n != 1 {
		t.Errorf("%d cases after a retry, want 1", n)
	}
	if n := count(t, db, outbox.PointerCollection); n != 1 {
		t.Errorf("%d events announced after a retry, want 1", n)
	}
	other, err := s.RegisterCase(withKey("req-2"), request())
	if err != nil {
		t.Fatal(err)
	}
	if other.GetCase().GetId() == first.GetCase().GetId() {
		t.Error("a different key produced the same case")
	}
}

func TestReusedKeyWithAnotherRequestIsRefused(t *testing.T) {
	s, db, _ := newServer(t)
	if _, err := s.RegisterCase(withKey("k"), request()); err != nil {
		t.Fatal(err)
	}
	changed := request()
	changed.Profile.Sex = caseregistryv1.Sex_SEX_FEMALE
	_, err := s.RegisterCase(withKey("k"), changed)
	if status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("got %v, want FailedPrecondition", err)
	}
	if n := count(t, db, store.Collection); n != 1 {
		t.Errorf("%d cases, want 1", n)
	}
}

func TestBadRequestsWriteNothing(t *testing.T) {
	tests := []struct {
		name string
		ctx  context.Context
		req  *caseregistryv1.RegisterCaseRequest
	}{
		{"empty request", asCaller(), &caseregistryv1.RegisterCaseRequest{}},
		{"invalid profile", asCaller(), func() *caseregistryv1.RegisterCaseRequest {
			r := request()
			r.Profile.Citizenships = []string{"ZZ"}
			return r
		}()},
		{"key with spaces", withKey("a key"), request()},
		{"key too long", withKey(string(make([]byte, 129))), request()},
		{"key sent twice", metadata.NewIncomingContext(asCaller(),
			metadata.Pairs(IdempotencyKeyHeader, "a", IdempotencyKeyHeader, "b")), request()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, db, _ := newServer(t)
			_, err := s.RegisterCase(tt.ctx, tt.req)
			if status.Code(err) != codes.InvalidArgument {
				t.Fatalf("got %v, want InvalidArgument", err)
			}
			if n := count(t, db, store.Collection) + count(t, db, outbox.PointerCollection); n != 0 {
				t.Errorf("%d documents written by a rejected request", n)
			}
		})
	}
}

func TestGetCaseErrors(t *testing.T) {
	s, _, _ := newServer(t)
	for id, want := range map[string]codes.Code{
		"":                                     codes.InvalidArgument,
		"not-a-uuid":                           codes.InvalidArgument,
		"{\"$ne\": null}":                      codes.InvalidArgument,
		"0190a3c4-0000-7000-8000-000000000000": codes.NotFound,
		"VT-2026-99999":                        codes.NotFound,
		"VT-2026-1":                            codes.InvalidArgument,
	} {
		_, err := s.GetCase(context.Background(), &caseregistryv1.GetCaseRequest{Id: id})
		if status.Code(err) != want {
			t.Errorf("GetCase(%q): %v, want %s", id, err, want)
		}
	}
}

func TestGetCaseByCode(t *testing.T) {
	s, _, _ := newServer(t)
	c := register(t, s, nil)
	got, err := s.GetCase(as(police, ""), &caseregistryv1.GetCaseRequest{Id: c.GetCode()})
	if err != nil || got.GetCase().GetId() != c.GetId() {
		t.Fatalf("GetCase(%s): %v, %v", c.GetCode(), got, err)
	}
}

func TestCasesGetCodesInSequenceAndRetriesDoNotUseOne(t *testing.T) {
	s, _, _ := newServer(t)
	year := time.Now().In(domain.Tirana).Year()
	first, err := s.RegisterCase(withKey("code-1"), request())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.RegisterCase(withKey("code-1"), request()); err != nil { // a retry
		t.Fatal(err)
	}
	second, err := s.RegisterCase(asCaller(), request())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := first.GetCase().GetCode(), fmt.Sprintf("VT-%d-00001", year); got != want {
		t.Errorf("first code %q, want %q", got, want)
	}
	if got, want := second.GetCase().GetCode(), fmt.Sprintf("VT-%d-00002", year); got != want {
		t.Errorf("second code %q, want %q: the retry must not have used one", got, want)
	}
	got, err := s.GetCase(context.Background(), &caseregistryv1.GetCaseRequest{Id: first.GetCase().GetId()})
	if err != nil || got.GetCase().GetCode() != first.GetCase().GetCode() {
		t.Errorf("GetCase code %q, %v", got.GetCase().GetCode(), err)
	}
}
