package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	caseregistryv1 "github.com/nrm-albania/nrm/proto/nrm/caseregistry/v1"
	"github.com/nrm-albania/nrm/services/platform/mongodb"
)

// scales are the numbers of stored cases the registry is measured at; NRM_BENCH_SCALE overrides
// them ("1000,10000,100000").
func scales() []int {
	spec := os.Getenv("NRM_BENCH_SCALE")
	if spec == "" {
		spec = "1000,10000"
	}
	var out []int
	for f := range strings.SplitSeq(spec, ",") {
		if n, err := strconv.Atoi(strings.TrimSpace(f)); err == nil && n > 0 {
			out = append(out, n)
		}
	}
	return out
}

// BenchmarkCaseRegistryAtScale measures the registry's reads and writes as the database grows:
// GetCase, a duplicate check, a filtered ListCases page, an UpdateCase (a field, based on the
// version) and RegisterCase. Cases are seeded straight into the store (documents of the
// registry's shape, with their first revision, codes, blind indexes and list index) so that reaching 100,000
// takes minutes, not hours.
func BenchmarkCaseRegistryAtScale(b *testing.B) {
	s := system(b)
	conn, err := dial(s, 0, "NRM_TOKEN_CASEWORKER_POLICE")
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	client := caseregistryv1.NewCaseRegistryServiceClient(conn)
	mc, err := mongodb.Connect(s.MongoURI, "bench-seed")
	if err != nil {
		b.Fatal(err)
	}
	defer mc.Disconnect(context.Background())
	db := mc.Database(s.Services[0].Database)
	ctx := metadata.AppendToOutgoingContext(context.Background(), "x-nrm-purpose", "case-management")

	var ids []string
	var blocks listBlocks
	versions := map[string]int64{}
	for _, n := range scales() {
		ids = seed(b, db, ids, n, &blocks)
		if err := s.IndexStore(context.Background()); err != nil {
			b.Fatal(err)
		}
		for _, id := range ids {
			if versions[id] == 0 {
				versions[id] = 1
			}
		}
		b.Run(fmt.Sprintf("cases=%d/op=get", n), func(b *testing.B) {
			for i := range b.N {
				if _, err := client.GetCase(ctx, &caseregistryv1.GetCaseRequest{Id: ids[(i*7919)%len(ids)]}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("cases=%d/op=duplicate-check", n), func(b *testing.B) {
			for i := range b.N {
				_, err := client.FindPossibleDuplicates(ctx, &caseregistryv1.FindPossibleDuplicatesRequest{Identity: &caseregistryv1.Identity{
					GivenName: "Nobody", FamilyName: fmt.Sprint("Absent", i), DateOfBirth: "1990-01-01", DocumentNumber: fmt.Sprint("ZZ", i)}})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("cases=%d/op=list-page", n), func(b *testing.B) {
			for range b.N {
				if _, err := client.ListCases(ctx, &caseregistryv1.ListCasesRequest{
					ExploitationType: caseregistryv1.ExploitationType_EXPLOITATION_TYPE_FORCED_LABOUR, IdentifyingInstitution: "ASP-KUFIRI", PageSize: 50,
				}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("cases=%d/op=update", n), func(b *testing.B) {
			levels := []caseregistryv1.EducationLevel{caseregistryv1.EducationLevel_EDUCATION_LEVEL_PRIMARY, caseregistryv1.EducationLevel_EDUCATION_LEVEL_TERTIARY}
			for i := range b.N {
				id := ids[(i*7919)%len(ids)]
				resp, err := client.UpdateCase(ctx, &caseregistryv1.UpdateCaseRequest{
					Case:            &caseregistryv1.Case{Id: id, Profile: &caseregistryv1.Profile{EducationLevel: levels[versions[id]%2]}},
					UpdateMask:      &fieldmaskpb.FieldMask{Paths: []string{"profile.education_level"}},
					ExpectedVersion: versions[id],
				})
				if err != nil {
					b.Fatal(err)
				}
				versions[id] = resp.GetCase().GetVersion()
			}
		})
		b.Run(fmt.Sprintf("cases=%d/op=register", n), func(b *testing.B) {
			req := request()
			for range b.N {
				if _, err := client.RegisterCase(ctx, req); err != nil {
					b.Fatal(err)
				}
				registered.Add(1)
			}
		})
	}
}

// listBlocks builds the registry's list index for seeded cases: blocks of 100 codes, each
// holding its entries packed into one binary value, at the version of its number of entries (a
// journal of its own making, never to be rolled forward). It keeps every block it built, since
// a batch of cases may end in the middle of a block the next one completes.
type listBlocks struct {
	entries map[string]bson.D
	touched map[string]bool
}

// add puts the entry of code into its block.
func (l *listBlocks) add(code string, entry bson.D) {
	if l.entries == nil {
		l.entries, l.touched = map[string]bson.D{}, map[string]bool{}
	}
	id := code[:len(code)-2]
	l.entries[id] = append(l.entries[id], bson.E{Key: code, Value: entry})
	l.touched[id] = true
}

// write stores the blocks changed since the last write.
func (l *listBlocks) write(ctx context.Context, db *mongo.Database) error {
	for id := range l.touched {
		packed, err := bson.Marshal(l.entries[id])
		if err != nil {
			return err
		}
		doc := bson.D{{Key: "_id", Value: id}, {Key: "version", Value: int64(len(l.entries[id]))}, {Key: "cases", Value: bson.Binary{Data: packed}}}
		if _, err := db.Collection("case_list").ReplaceOne(ctx, bson.D{{Key: "_id", Value: id}}, doc, options.Replace().SetUpsert(true)); err != nil {
			return fmt.Errorf("block %s: %w", id, err)
		}
		if _, err := db.Collection("case_list_years").InsertOne(ctx, bson.D{{Key: "_id", Value: id[3:7]}}); err != nil && !mongodb.IsDuplicateKey(err) {
			return fmt.Errorf("year of block %s: %w", id, err)
		}
	}
	clear(l.touched)
	return nil
}

// seed adds cases until there are n, returning all their ids.
func seed(b *testing.B, db *mongo.Database, ids []string, n int, blocks *listBlocks) []string {
	b.Helper()
	institutions := []string{"ASP-ANTITRAF", "ASP-KUFIRI", "ISHPSHSH", "SHSSH", "KKSAT"}
	types := []string{"EXPLOITATION_TYPE_SEXUAL", "EXPLOITATION_TYPE_FORCED_LABOUR", "EXPLOITATION_TYPE_FORCED_BEGGING"}
	now := time.Now().UTC()
	for len(ids) < n {
		base, batch := len(ids), min(1000, n-len(ids))
		cases, revisions, codes, indexes := make([]any, batch), make([]any, batch), make([]any, batch), make([]any, 0, 2*batch)
		for j := range batch {
			i := base + j
			id := uuid.Must(uuid.NewV7()).String()
			code := fmt.Sprintf("VT-%04d-%05d", 1900+i/90000, i%90000+1) // years no registration uses
			cases[j] = bson.D{
				{Key: "_id", Value: id}, {Key: "code", Value: code}, {Key: "version", Value: int64(1)},
				{Key: "profile", Value: bson.D{{Key: "sex", Value: "SEX_FEMALE"}, {Key: "age_at_identification", Value: int32(15 + i%40)}, {Key: "citizenships", Value: bson.A{"AL"}}}},
				{Key: "trafficking", Value: bson.D{{Key: "status", Value: "TRAFFICKING_STATUS_POTENTIAL_VICTIM"}, {Key: "exploitation_types", Value: bson.A{types[i%len(types)]}}}},
				{Key: "identification", Value: bson.D{{Key: "identifying_institution", Value: institutions[i%len(institutions)]}, {Key: "date", Value: "2025-06-01"}}},
				{Key: "state", Value: "CASE_STATE_OPEN"}, {Key: "owner_institution", Value: "ASP-ANTITRAF"},
				{Key: "registered_at", Value: now}, {Key: "updated_at", Value: now},
			}
			revisions[j] = bson.D{
				{Key: "_id", Value: id + "@1"}, {Key: "case_id", Value: id}, {Key: "version", Value: int64(1)}, {Key: "case", Value: cases[j]},
				{Key: "change", Value: bson.D{{Key: "kind", Value: "CHANGE_KIND_REGISTERED"}, {Key: "institution", Value: "ASP-ANTITRAF"}, {Key: "subject", Value: "seed"}, {Key: "at", Value: now}}},
			}
			codes[j] = bson.D{{Key: "_id", Value: code}, {Key: "case_id", Value: id}, {Key: "claimed_at", Value: now}}
			for range 2 { // a name-and-birth index and a document index, as a registration with an identity has
				idx := fmt.Sprintf("v1:%016x%016x", rand.Uint64(), rand.Uint64())
				indexes = append(indexes, bson.D{{Key: "_id", Value: idx + "#1"}, {Key: "index", Value: idx}, {Key: "case_id", Value: id}, {Key: "match", Value: "DUPLICATE_MATCH_DOCUMENT"}})
			}
			blocks.add(code, bson.D{
				{Key: "id", Value: id}, {Key: "code", Value: code}, {Key: "version", Value: int64(1)},
				{Key: "status", Value: "TRAFFICKING_STATUS_POTENTIAL_VICTIM"}, {Key: "state", Value: "CASE_STATE_OPEN"},
				{Key: "exploitation_types", Value: bson.A{types[i%len(types)]}},
				{Key: "identifying_institution", Value: institutions[i%len(institutions)]}, {Key: "owner", Value: "ASP-ANTITRAF"},
				{Key: "age", Value: int32(15 + i%40)}, {Key: "registered_at", Value: now}, {Key: "identified_on", Value: "2025-06-01"},
			})
			ids = append(ids, id)
		}
		for coll, docs := range map[string][]any{"cases": cases, "case_revisions": revisions, "case_codes": codes, "case_blind_indexes": indexes} {
			if _, err := db.Collection(coll).InsertMany(context.Background(), docs); err != nil {
				b.Fatalf("seed %s: %v", coll, err)
			}
		}
		if err := blocks.write(context.Background(), db); err != nil {
			b.Fatalf("seed the list index: %v", err)
		}
	}
	return ids
}
