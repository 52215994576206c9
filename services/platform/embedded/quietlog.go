package embedded

import (
	"context"
	"log/slog"
	"strings"
)

// uniqueViolation is PostgreSQL's SQLSTATE for a unique-index violation.
const uniqueViolation = "SQLSTATE 23505"

// withoutDuplicateKeys drops FerretDB's records of unique-index violations. The services commit
// by inserting under a unique _id (docs/decisions.md 1, 4, 16) and expect a duplicate key as the
// answer "another writer was first"; FerretDB on PostgreSQL logs each one as an ERROR, which
// would bury the errors an operator must see.
type withoutDuplicateKeys struct{ slog.Handler }

func (h withoutDuplicateKeys) Handle(ctx context.Context, r slog.Record) error {
	duplicate := false
	r.Attrs(func(a slog.Attr) bool {
		duplicate = a.Key == "err" && strings.Contains(a.Value.String(), uniqueViolation)
		return !duplicate
	})
	if duplicate {
		return nil
	}
	return h.Handler.Handle(ctx, r)
}

func (h withoutDuplicateKeys) WithAttrs(attrs []slog.Attr) slog.Handler {
	return withoutDuplicateKeys{h.Handler.WithAttrs(attrs)}
}

func (h withoutDuplicateKeys) WithGroup(name string) slog.Handler {
	return withoutDuplicateKeys{h.Handler.WithGroup(name)}
}
