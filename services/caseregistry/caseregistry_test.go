package caseregistry_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"slices"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"

	caseregistryv1 "github.com/nrm-albania/nrm/proto/nrm/caseregistry/v1"
	"github.com/nrm-albania/nrm/services/caseregistry"
	"github.com/nrm-albania/nrm/services/platform/audit"
	"github.com/nrm-albania/nrm/services/platform/authz"
	"github.com/nrm-albania/nrm/services/platform/testenv"
)

func randomKey() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// serve runs the whole registry, every interceptor included, on a fresh database.
func serve(t *testing.T) (caseregistryv1.CaseRegistryServiceClient, *mongo.Database) {
	t.Helper()
	svc, err := caseregistry.WithKeys("k1:"+randomKey(), randomKey())
	if err != nil {
		t.Fatal(err)
	}
	db := testenv.Database(t)
	cfg := caseregistry.Defaults()
	cfg.MongoURI, cfg.MongoDatabase = testenv.MongoURI(t), db.Name()
	return caseregistryv1.NewCaseRegistryServiceClient(testenv.Serve(t, cfg, svc.Setup).Conn), db
}

func register() *caseregistryv1.RegisterCaseRequest {
	return &caseregistryv1.RegisterCaseRequest{
		Profile: &caseregistryv1.Profile{Sex: caseregistryv1.Sex_SEX_FEMALE, AgeAtIdentification: proto.Int32(24), Citizenships: []string{"AL"}},
		Trafficking: &caseregistryv1.Trafficking{ExploitationTypes: []caseregistryv1.ExploitationType{
			caseregistryv1.ExploitationType_EXPLOITATION_TYPE_FORCED_LABOUR}},
		Identification: &caseregistryv1.Identification{IdentifyingInstitution: "ISHPSHSH", IdentificationDate: "2026-09-14"},
	}
}

func withPurpose(purpose string) context.Context {
	return metadata.AppendToOutgoingContext(context.Background(), authz.PurposeKey, purpose)
}

// auditRecords reads the stored trail raw, every field of every record.
func auditRecords(t *testing.T, db *mongo.Database) []bson.Raw {
	t.Helper()
	cur, err := db.Collection(audit.Collection).Find(context.Background(), bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	var all []bson.Raw
	if err := cur.All(context.Background(), &all); err != nil {
		t.Fatal(err)
	}
	return all
}

// A purpose that names a person, and a case "id" that is a name, leave the name in no audit
// record: the purpose is refused before anything happens, the id is recorded as "invalid".
func TestNamesNeverReachTheAuditTrail(t *testing.T) {
	client, db := serve(t)
	created, err := client.RegisterCase(context.Background(), register())
	if err != nil {
		t.Fatal(err)
	}
	id := created.GetCase().GetId()

	_, err = client.GetCase(withPurpose("referral of Arta Hoxha"), &caseregistryv1.GetCaseRequest{Id: id})
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(status.Convert(err).Message(), "case-management, referral") {
		t.Errorf("a purpose naming a person: %v, want InvalidArgument naming the codes", err)
	}
	_, err = client.RegisterCase(withPurpose("registration of Arta Hoxha"), register())
	if status.Code(err) != codes.InvalidArgument {
		t.Errorf("a registration with a purpose naming a person: %v, want InvalidArgument", err)
	}
	_, err = client.GetCase(withPurpose("referral"), &caseregistryv1.GetCaseRequest{Id: "Arta Hoxha"})
	if status.Code(err) != codes.InvalidArgument || strings.Contains(err.Error(), "Hoxha") {
		t.Errorf("GetCase of a name: %v, want InvalidArgument not quoting it", err)
	}
	if _, err := client.GetCase(withPurpose("referral;ref=REF-2026-0042"), &caseregistryv1.GetCaseRequest{Id: id}); err != nil {
		t.Fatal(err)
	}

	records := auditRecords(t, db)
	// The registration, the read by a name and the read with a reference; the refused calls did
	// nothing and are not in it.
	if len(records) != 3 {
		t.Fatalf("%d audit records, want 3", len(records))
	}
	var purposes, objects []string
	for _, r := range records {
		if strings.Contains(r.String(), "Hoxha") {
			t.Errorf("a name reached the audit trail: %s", r)
		}
		var d struct {
			Purpose   string   `bson:"purpose"`
			ObjectIDs []string `bson:"object_ids"`
		}
		if err := bson.Unmarshal(r, &d); err != nil {
			t.Fatal(err)
		}
		purposes, objects = append(purposes, d.Purpose), append(objects, d.ObjectIDs...)
	}
	if !strings.Contains(strings.Join(objects, ","), authz.InvalidObjectID) || !strings.Contains(strings.Join(purposes, ","), "referral;ref=REF-2026-0042") {
		t.Errorf("recorded objects %v and purposes %v", objects, purposes)
	}
	if n, err := db.Collection("cases").CountDocuments(context.Background(), bson.D{}); err != nil || n != 1 {
		t.Errorf("%d cases, %v; the refused registration wrote one", n, err)
	}
}

func withIdentity() *caseregistryv1.RegisterCaseRequest {
	req := register()
	req.Profile.AgeAtIdentification = nil
	req.Identity = &caseregistryv1.Identity{GivenName: "Zamira", FamilyName: "Duplicate", DateOfBirth: "2002-03-04"}
	return req
}

// objectsOfLast returns the object ids of the newest audit record of method.
func objectsOfLast(t *testing.T, db *mongo.Database, method string) (ids []string, purpose string) {
	t.Helper()
	for _, r := range auditRecords(t, db) {
		var d struct {
			Method    string   `bson:"method"`
			Purpose   string   `bson:"purpose"`
			ObjectIDs []string `bson:"object_ids"`
		}
		if err := bson.Unmarshal(r, &d); err != nil {
			t.Fatal(err)
		}
		if d.Method == method {
			ids, purpose = d.ObjectIDs, d.Purpose
		}
	}
	return ids, purpose
}

// A registration refused as a likely duplicate names the matching cases only to a caller who
// stated a purpose, as FindPossibleDuplicates does, and the audit record of that refusal names
// them too; without a purpose the refusal names none.
func TestADuplicateRefusalNamesCasesOnlyWithAPurpose(t *testing.T) {
	client, db := serve(t)
	first, err := client.RegisterCase(context.Background(), withIdentity())
	if err != nil {
		t.Fatal(err)
	}
	id, code := first.GetCase().GetId(), first.GetCase().GetCode()

	_, err = client.RegisterCase(context.Background(), withIdentity())
	if status.Code(err) != codes.AlreadyExists || strings.Contains(err.Error(), code) || strings.Contains(fmtDetails(err), id) ||
		strings.Contains(fmtDetails(err), code) || !strings.Contains(fmtDetails(err), "POSSIBLE_DUPLICATE") {
		t.Errorf("without a purpose: %v %s, want ALREADY_EXISTS POSSIBLE_DUPLICATE naming no case", err, fmtDetails(err))
	}
	_, err = client.RegisterCase(withPurpose("duplicate-check"), withIdentity())
	if status.Code(err) != codes.AlreadyExists || !strings.Contains(fmtDetails(err), id) || !strings.Contains(err.Error(), code) {
		t.Errorf("with a purpose: %v %s, want ALREADY_EXISTS naming %s", err, fmtDetails(err), code)
	}
	ids, purpose := objectsOfLast(t, db, caseregistryv1.CaseRegistryService_RegisterCase_FullMethodName)
	if !slices.Contains(ids, id) || purpose != "duplicate-check" {
		t.Errorf("audit record of the refusal: objects %v, purpose %q; want %s and duplicate-check", ids, purpose, id)
	}

	// FindPossibleDuplicates records the cases it names as well.
	found, err := client.FindPossibleDuplicates(withPurpose("duplicate-check"), &caseregistryv1.FindPossibleDuplicatesRequest{Identity: withIdentity().GetIdentity()})
	if err != nil || len(found.GetDuplicates()) != 1 {
		t.Fatalf("FindPossibleDuplicates: %v, %v", found, err)
	}
	if ids, _ := objectsOfLast(t, db, caseregistryv1.CaseRegistryService_FindPossibleDuplicates_FullMethodName); !slices.Contains(ids, id) {
		t.Errorf("audit record of the search: objects %v, want %s", ids, id)
	}
}

// fmtDetails renders an error's details, where metadata such as case ids travel.
func fmtDetails(err error) string {
	var b strings.Builder
	for _, d := range status.Convert(err).Details() {
		if m, ok := d.(proto.Message); ok {
			b.WriteString(prototext.Format(m))
		}
	}
	return b.String()
}
