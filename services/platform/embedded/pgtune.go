package embedded

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/jackc/pgx/v5"
)

// FerretDB 1.24 on PostgreSQL finds a document by _id with `_jsonb->$1 @> $2` (key and value as
// parameters of a cached prepared statement). Its own index, a btree on _jsonb->'_id', cannot
// serve a containment test, and a generic plan cannot match an index expression to a parameter,
// so every lookup by _id — the registry's reads, codes, blind indexes, keys, grants, the audit
// chain, the outbox — scans its table: 35–55 ms at 100,000 documents on the development machine
// (docs/decisions.md 17). Two remedies together bring it to about 1 ms, flat:
//
//   - plan_cache_mode=force_custom_plan on FerretDB's connections, so that each execution is
//     planned with its key and value;
//   - a GIN index on _jsonb->'_id' on every collection's table, which serves the containment.
//
// FerretDB creates tables when a collection is first written, so the indexes are added by a loop
// that looks for tables without one.

// customPlans returns the PostgreSQL URL with plan_cache_mode=force_custom_plan, which pgx sends
// as a run-time parameter of every connection; a value already in the URL is kept.
func customPlans(pgURL string) (string, error) {
	u, err := url.Parse(pgURL)
	if err != nil {
		return "", fmt.Errorf("ferretdb: the PostgreSQL URL: %w", err)
	}
	q := u.Query()
	if q.Get("plan_cache_mode") == "" {
		q.Set("plan_cache_mode", "force_custom_plan")
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// indexLoop adds the missing _id indexes now and then every pause, until ctx ends.
func indexLoop(ctx context.Context, pgURL string, pause time.Duration, log *slog.Logger) {
	for {
		if n, err := IndexIDs(ctx, pgURL); err != nil && ctx.Err() == nil {
			log.WarnContext(ctx, "could not add _id indexes to FerretDB's PostgreSQL tables; lookups by _id scan until they exist", "error", err)
		} else if n > 0 {
			log.DebugContext(ctx, "added _id indexes to FerretDB's PostgreSQL tables", "tables", n)
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

// IndexIDs gives every table of FerretDB's databases in PostgreSQL a GIN index on _jsonb->'_id'
// if it has none, and returns how many it indexed. Indexes are built CONCURRENTLY, so writers
// are not blocked.
func IndexIDs(ctx context.Context, pgURL string) (int, error) {
	conn, err := pgx.Connect(ctx, pgURL)
	if err != nil {
		return 0, err
	}
	defer conn.Close(context.Background())
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
		index := pgx.Identifier{fmt.Sprintf("%.50s_id_gin", t[1])}
		_, err := conn.Exec(ctx, fmt.Sprintf(`CREATE INDEX CONCURRENTLY IF NOT EXISTS %s ON %s USING gin ((_jsonb->'_id'))`,
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
