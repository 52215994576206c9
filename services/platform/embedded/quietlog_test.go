package embedded

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
)

func TestDuplicateKeysAreNotLoggedOtherErrorsAre(t *testing.T) {
	var out bytes.Buffer
	log := slog.New(withoutDuplicateKeys{slog.NewJSONHandler(&out, nil)}).With("component", "ferretdb")
	log.Error("Query", "sql", "INSERT INTO t (_jsonb) VALUES ($1)",
		"err", errors.New(`ERROR: duplicate key value violates unique constraint "t__id_idx" (SQLSTATE 23505)`))
	log.WithGroup("pool").Error("Query", "err", errors.New("duplicate key (SQLSTATE 23505)"))
	if out.Len() != 0 {
		t.Errorf("a duplicate key was logged: %s", out.String())
	}
	log.Error("Query", "err", errors.New(`ERROR: relation "t" does not exist (SQLSTATE 42P01)`))
	log.Error("Connect", "database", "nrm")
	if got := strings.Count(out.String(), "\n"); got != 2 || !strings.Contains(out.String(), "42P01") || !strings.Contains(out.String(), `"component":"ferretdb"`) {
		t.Errorf("other errors: %d lines, want 2 with their attributes:\n%s", got, out.String())
	}
}
