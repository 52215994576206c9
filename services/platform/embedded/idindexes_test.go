package embedded_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/nrm-albania/nrm/services/platform/embedded"
	"github.com/nrm-albania/nrm/services/platform/mongodb"
)

// postgres returns the URL of a fresh PostgreSQL database for the test, dropped at its end; the
// server is NRM_TEST_POSTGRES_URL's, by default the development machine's on 127.0.0.1:5432.
func postgres(t *testing.T) string {
	t.Helper()
	admin := os.Getenv("NRM_TEST_POSTGRES_URL")
	if admin == "" {
		admin = "postgres://postgres@127.0.0.1:5432/postgres"
	}
	ctx := ctxFor(t)
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Skipf("PostgreSQL not reachable at %s: %v", admin, err)
	}
	defer conn.Close(ctx)
	name := fmt.Sprintf("nrm_embedded_%d", time.Now().UnixNano())
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), admin)
		if err == nil {
			_, _ = c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			_ = c.Close(context.Background())
		}
	})
	cfg, err := pgx.ParseConfig(admin)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("postgres://%s@%s:%d/%s", cfg.User, cfg.Host, cfg.Port, name)
}

// twoCollections starts FerretDB for the test and writes a document {_id: "a", n: 1} into two
// collections of the database nrm_test, which creates their tables.
func twoCollections(t *testing.T, o embedded.FerretDBOptions) *mongo.Client {
	t.Helper()
	f, err := embedded.StartFerretDB(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Stop)
	// The services' client options: FerretDB must accept their write and read concerns, on
	// either backend.
	c, err := mongo.Connect(mongodb.Options(f.URI(), "nrm-test"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Disconnect(context.Background()) })
	ctx := ctxFor(t)
	for _, coll := range []string{"cases", "case_revisions"} {
		if _, err := c.Database("nrm_test").Collection(coll).InsertOne(ctx, bson.D{{Key: "_id", Value: "a"}, {Key: "n", Value: 1}}); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// FerretDB on PostgreSQL gets an index that serves its lookups by _id on every table, added
// once; the data stays readable by _id through FerretDB.
func TestFerretDBOnPostgreSQLGetsIndexesForLookupsByID(t *testing.T) {
	pgURL := postgres(t)
	c := twoCollections(t, embedded.FerretDBOptions{Addr: "127.0.0.1:0", PostgreSQLURL: pgURL, Logger: discard()})
	ctx := ctxFor(t)
	if _, err := embedded.IndexPostgreSQL(ctx, pgURL); err != nil {
		t.Fatal(err)
	}
	if n, err := embedded.IndexPostgreSQL(ctx, pgURL); err != nil || n != 0 {
		t.Errorf("second round indexed %d tables, %v; want none left", n, err)
	}
	conn, err := pgx.Connect(ctx, pgURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var gin int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_indexes WHERE schemaname = 'nrm_test' AND indexdef LIKE '%USING gin%_id%'`).Scan(&gin); err != nil {
		t.Fatal(err)
	}
	if gin != 2 {
		t.Errorf("%d GIN indexes on _id, want one per collection table (2)", gin)
	}
	var direct int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_indexes WHERE schemaname = 'nrm_test' AND indexdef LIKE '%USING gin%fastupdate%off%'`).Scan(&direct); err != nil {
		t.Fatal(err)
	}
	if direct != gin {
		t.Errorf("%d of the %d GIN indexes without a pending list (fastupdate off)", direct, gin)
	}
	var got bson.M
	if err := c.Database("nrm_test").Collection("cases").FindOne(ctx, bson.D{{Key: "_id", Value: "a"}}).Decode(&got); err != nil || got["n"] != int32(1) {
		t.Errorf("FindOne by _id: %v, %v", got, err)
	}
}

// A CREATE INDEX CONCURRENTLY that was interrupted (the process killed, the connection lost)
// leaves an invalid index behind, which PostgreSQL keeps up to date but never reads: the next
// round drops it and builds it again, instead of counting the table as done.
func TestAnInterruptedIndexBuildOnPostgreSQLIsRedone(t *testing.T) {
	pgURL := postgres(t)
	twoCollections(t, embedded.FerretDBOptions{Addr: "127.0.0.1:0", PostgreSQLURL: pgURL, Logger: discard()})
	ctx := ctxFor(t)
	if _, err := embedded.IndexPostgreSQL(ctx, pgURL); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, pgURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	const ourIndexes = `FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'nrm_test' AND c.relname LIKE '%_id_gin'`
	// What an interrupted build leaves: the index, marked invalid (the test runs as a superuser).
	tag, err := conn.Exec(ctx, `UPDATE pg_index SET indisvalid = false WHERE indexrelid =
		(SELECT x.indexrelid `+ourIndexes+` ORDER BY c.relname LIMIT 1)`)
	if err != nil || tag.RowsAffected() != 1 {
		t.Fatalf("could not mark an index invalid: %v, %v", tag, err)
	}
	// FerretDB's own loop may take its turn first and redo the index itself; either way the
	// round here runs after the index was marked invalid.
	n, err := embedded.IndexPostgreSQL(ctx, pgURL)
	if err != nil {
		t.Fatal(err)
	}
	if n > 1 {
		t.Errorf("indexed %d tables, want at most the one whose index was invalid", n)
	}
	var valid, invalid int
	if err := conn.QueryRow(ctx, `SELECT count(*) FILTER (WHERE x.indisvalid), count(*) FILTER (WHERE NOT x.indisvalid) `+ourIndexes).Scan(&valid, &invalid); err != nil {
		t.Fatal(err)
	}
	if valid != 2 || invalid != 0 {
		t.Errorf("%d valid and %d invalid _id indexes, want 2 valid", valid, invalid)
	}
}

// Several processes may index one PostgreSQL database at once (FerretDB's loop in each); their
// rounds take turns, so none fails on another's index and every table ends with one valid index.
func TestConcurrentIndexRoundsOnPostgreSQLTakeTurns(t *testing.T) {
	pgURL := postgres(t)
	twoCollections(t, embedded.FerretDBOptions{Addr: "127.0.0.1:0", PostgreSQLURL: pgURL, Logger: discard()})
	ctx := ctxFor(t)
	const rounds = 4
	errs := make(chan error, rounds)
	total := make(chan int, rounds)
	for range rounds {
		go func() {
			n, err := embedded.IndexPostgreSQL(ctx, pgURL)
			total <- n
			errs <- err
		}()
	}
	indexed := 0
	for range rounds {
		indexed += <-total
		if err := <-errs; err != nil {
			t.Errorf("a concurrent round failed: %v", err)
		}
	}
	if indexed > 2 {
		t.Errorf("the rounds indexed %d tables between them, want each of the 2 once at most", indexed)
	}
	conn, err := pgx.Connect(ctx, pgURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var valid, invalid int
	if err := conn.QueryRow(ctx, `SELECT count(*) FILTER (WHERE x.indisvalid), count(*) FILTER (WHERE NOT x.indisvalid)
		FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'nrm_test' AND c.relname LIKE '%_id_gin'`).Scan(&valid, &invalid); err != nil {
		t.Fatal(err)
	}
	if valid != 2 || invalid != 0 {
		t.Errorf("%d valid and %d invalid _id indexes, want 2 valid", valid, invalid)
	}
}

// FerretDB on SQLite gets, on every table, an index on the expression of its lookups by _id.
func TestFerretDBOnSQLiteGetsIndexesForLookupsByID(t *testing.T) {
	dir := t.TempDir()
	c := twoCollections(t, embedded.FerretDBOptions{Addr: "127.0.0.1:0", SQLiteDir: dir, Logger: discard()})
	ctx := ctxFor(t)
	if _, err := embedded.IndexSQLite(ctx, dir); err != nil {
		t.Fatal(err)
	}
	if n, err := embedded.IndexSQLite(ctx, dir); err != nil || n != 0 {
		t.Errorf("second round indexed %d tables, %v; want none left", n, err)
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "nrm_test.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM sqlite_master WHERE type = 'index' AND sql LIKE '%''$._id''%'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("%d indexes on the lookup's expression, want one per collection table (2)", n)
	}
	var got bson.M
	if err := c.Database("nrm_test").Collection("cases").FindOne(ctx, bson.D{{Key: "_id", Value: "a"}}).Decode(&got); err != nil || got["n"] != int32(1) {
		t.Errorf("FindOne by _id: %v, %v", got, err)
	}
}
