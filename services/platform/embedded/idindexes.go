package embedded

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	_ "modernc.org/sqlite" // FerretDB's own SQLite driver, registered as "sqlite"
)

// FerretDB 1.24 creates an index on _id for every collection, and then, on both backends, looks
// documents up by _id with an expression that index cannot serve, so every lookup by _id — the
// registry's reads, codes, blind indexes, keys, grants, the audit chain, the outbox — scans its
// table (docs/decisions.md 14 and 17):
//
//   - on PostgreSQL, `_jsonb->$1 @> $2`, a containment test, as a cached prepared statement,
//     against a btree on _jsonb->'_id': 35–55 ms at 100,000 documents. Remedies: a GIN index on
//     _jsonb->'_id', and planner settings on FerretDB's connections (plannerSettings) so that
//     each execution is planned with its values and uses it. About 1 ms, flat.
//   - on SQLite, `_ferretdb_sjson->'$._id' = ?` against an index on `_ferretdb_sjson->"_id"`, an
//     expression SQLite does not see as the same: 38 ms at 20,000 documents. Remedy: an index on
//     the very expression of the query. 0.7 ms.
//
// FerretDB creates tables when a collection is first written, so the indexes are added by a loop
// that looks for tables without one.

// plannerSettings returns the PostgreSQL URL with the planner settings FerretDB's lookups by _id
// need, which pgx sends as run-time parameters of every connection (a value already in the URL is
// kept):
//
//   - plan_cache_mode=force_custom_plan, so that each execution of a cached statement is planned
//     with its values and matches the GIN index;
//   - enable_seqscan=off, because the planner does not count what a sequential scan of FerretDB's
//     tables costs: each row is one document, the filter detoasts every row's JSONB, and a table
//     of few large documents looks cheap to scan. Measured on the case registry's list index
//     (1,000 blocks of 25 kB, statistics not yet refreshed): a scan, 20–33 ms a lookup, against
//     well under 1 ms through the index. FerretDB's queries that no index serves scan all the
//     same;
//   - jit=off, because such a scan is then costed at the planner's "disabled" penalty, far above
//     the JIT threshold, and compiling it took 30 ms a lookup on tables not yet indexed (the
//     loop below indexes a new table within seconds). FerretDB's queries are too simple for JIT
//     to pay anyway.
func plannerSettings(pgURL string) (string, error) {
	u, err := url.Parse(pgURL)
	if err != nil {
		return "", fmt.Errorf("ferretdb: the PostgreSQL URL: %w", err)
	}
	q := u.Query()
	for name, value := range map[string]string{"plan_cache_mode": "force_custom_plan", "enable_seqscan": "off", "jit": "off"} {
		if q.Get(name) == "" {
			q.Set(name, value)
		}
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// indexLoop runs index, which adds the missing _id indexes, now and then every pause, until ctx
// ends.
func indexLoop(ctx context.Context, index func(context.Context) (int, error), pause time.Duration, log *slog.Logger) {
	for {
		if n, err := index(ctx); err != nil && ctx.Err() == nil {
			log.WarnContext(ctx, "could not add _id indexes to FerretDB's tables; lookups by _id scan until they exist", "error", err)
		} else if n > 0 {
			log.DebugContext(ctx, "added _id indexes to FerretDB's tables", "tables", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(pause):
		}
	}
}

// metadataTable is FerretDB's table, in each database's schema, that maps collections to tables.
const metadataTable = "_ferretdb_database_metadata"

// IndexPostgreSQL gives every table of FerretDB's databases in PostgreSQL a GIN index on _jsonb->'_id'
// if it has none, and returns how many it indexed. Indexes are built CONCURRENTLY, so writers
// are not blocked, and without GIN's pending list (fastupdate = off): with it, entries inserted
// since the last vacuum are searched one by one on every lookup, which made reading 50 recently
// seeded cases 15 ms at 1,000 cases and 30–80 ms at 100,000 (measured with the list benchmark).
//
// A concurrent build that is interrupted (the process killed, the connection lost) leaves its
// index behind, marked invalid: PostgreSQL maintains it on every write but never reads it, and
// "IF NOT EXISTS" would take it for done. Such indexes are dropped first, so that the table is
// indexed again in the same round.
//
// Rounds on one database take turns (indexRoundLock): several processes may run FerretDB on the
// same PostgreSQL, and two rounds at once would race on the same index name, wait on each
// other's concurrent builds, and take each other's builds in progress for interrupted ones.
func IndexPostgreSQL(ctx context.Context, pgURL string) (int, error) {
	conn, err := pgx.Connect(ctx, pgURL)
	if err != nil {
		return 0, err
	}
	// Closing the connection releases the lock too.
	defer conn.Close(context.Background())
	if err := takeIndexRoundLock(ctx, conn); err != nil {
		return 0, err
	}
	if err := dropInvalidIndexes(ctx, conn); err != nil {
		return 0, err
	}
	rows, err := conn.Query(ctx, `
		SELECT t.table_schema, t.table_name FROM information_schema.tables t
		WHERE t.table_type = 'BASE TABLE'
		  AND EXISTS (SELECT 1 FROM information_schema.tables m
		              WHERE m.table_schema = t.table_schema AND m.table_name = $1)
		  AND t.table_name <> $1
		  AND NOT EXISTS (SELECT 1 FROM pg_indexes i
		                  WHERE i.schemaname = t.table_schema AND i.tablename = t.table_name
		                    AND i.indexdef LIKE '%USING gin%_id%')`, metadataTable)
	if err != nil {
		return 0, err
	}
	tables, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (pgx.Identifier, error) {
		var schema, table string
		err := r.Scan(&schema, &table)
		return pgx.Identifier{schema, table}, err
	})
	if err != nil {
		return 0, err
	}
	n := 0
	var errs []error
	for _, t := range tables {
		index := pgx.Identifier{fmt.Sprintf("%.50s"+idIndexSuffix, t[1])}
		_, err := conn.Exec(ctx, fmt.Sprintf(`CREATE INDEX CONCURRENTLY IF NOT EXISTS %s ON %s USING gin ((_jsonb->'_id')) WITH (fastupdate = off)`,
			index.Sanitize(), t.Sanitize()))
		if err != nil {
			// A table dropped meanwhile (a test's database, say) is not a problem.
			errs = append(errs, fmt.Errorf("index %s: %w", t.Sanitize(), err))
			continue
		}
		n++
	}
	return n, errors.Join(errs...)
}

// indexRoundLock is the key of the PostgreSQL advisory lock that one round of IndexPostgreSQL
// holds on its database ("nrm_idx" in ASCII).
const indexRoundLock int64 = 0x6e726d5f696478

// takeIndexRoundLock waits for indexRoundLock by trying it now and then. Waiting inside
// pg_advisory_lock would deadlock: the waiting statement is a transaction, and the holder's
// concurrent build waits for every transaction older than its own to end.
func takeIndexRoundLock(ctx context.Context, conn *pgx.Conn) error {
	for {
		var taken bool
		if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", indexRoundLock).Scan(&taken); err != nil {
			return fmt.Errorf("take the _id indexing lock: %w", err)
		}
		if taken {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for another round of _id indexing: %w", ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// idIndexSuffix ends the names of the _id indexes IndexPostgreSQL builds.
const idIndexSuffix = "_id_gin"

// dropInvalidIndexes drops the invalid _id indexes of FerretDB's tables that no build is working
// on: those of interrupted builds. A build in progress is invalid too until it finishes; it shows
// in pg_stat_progress_create_index (to the role that started it, which is this one, whatever
// process of the system runs the loop) and is left alone.
func dropInvalidIndexes(ctx context.Context, conn *pgx.Conn) error {
	rows, err := conn.Query(ctx, `
		SELECT n.nspname, c.relname FROM pg_index x
		JOIN pg_class c ON c.oid = x.indexrelid
		JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE NOT x.indisvalid
		  AND right(c.relname, length($2)) = $2
		  AND EXISTS (SELECT 1 FROM information_schema.tables m
		              WHERE m.table_schema = n.nspname AND m.table_name = $1)
		  AND NOT EXISTS (SELECT 1 FROM pg_stat_progress_create_index p WHERE p.index_relid = x.indexrelid)`,
		metadataTable, idIndexSuffix)
	if err != nil {
		return err
	}
	invalid, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (pgx.Identifier, error) {
		var schema, index string
		err := r.Scan(&schema, &index)
		return pgx.Identifier{schema, index}, err
	})
	if err != nil {
		return err
	}
	var errs []error
	for _, index := range invalid {
		if _, err := conn.Exec(ctx, "DROP INDEX CONCURRENTLY IF EXISTS "+index.Sanitize()); err != nil {
			errs = append(errs, fmt.Errorf("drop invalid index %s: %w", index.Sanitize(), err))
		}
	}
	return errors.Join(errs...)
}

// IndexSQLite gives every collection table of the FerretDB databases in dir (one file each) an
// index on the expression FerretDB's lookups by _id use, if it has none, and returns how many
// it indexed. SQLite builds an index under the database's write lock; FerretDB's writers wait
// for it (its busy timeout is 10 s), which on a new table is no time at all.
func IndexSQLite(ctx context.Context, dir string) (int, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.sqlite"))
	if err != nil {
		return 0, err
	}
	n := 0
	var errs []error
	for _, f := range files {
		k, err := indexSQLiteFile(ctx, f)
		n += k
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", filepath.Base(f), err))
		}
	}
	return n, errors.Join(errs...)
}

// sqliteCollections is FerretDB's table, in each database file, that maps collections to tables.
const sqliteCollections = "_ferretdb_collections"

func indexSQLiteFile(ctx context.Context, file string) (int, error) {
	// mode=rw: a file FerretDB deleted meanwhile (a dropped database) is not created again.
	db, err := sql.Open("sqlite", "file:"+file+"?mode=rw&_pragma=busy_timeout(10000)")
	if err != nil {
		return 0, err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT c.table_name FROM `+sqliteCollections+` c
		WHERE NOT EXISTS (SELECT 1 FROM sqlite_master i WHERE i.type = 'index' AND i.name = c.table_name || '_id_expr')`)
	if err != nil {
		if strings.Contains(err.Error(), "no such table") || strings.Contains(err.Error(), "unable to open") {
			return 0, nil // a database FerretDB is still creating, or has just dropped
		}
		return 0, err
	}
	var tables []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			rows.Close()
			return 0, err
		}
		tables = append(tables, t)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return 0, err
	}
	n := 0
	for _, t := range tables {
		q := fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %q ON %q (_ferretdb_sjson->'$._id')`, t+"_id_expr", t)
		if _, err := db.ExecContext(ctx, q); err != nil {
			return n, fmt.Errorf("index %s: %w", t, err)
		}
		n++
	}
	return n, nil
}
