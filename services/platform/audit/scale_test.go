package audit_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/nrm-albania/nrm/services/platform/audit"
	"github.com/nrm-albania/nrm/services/platform/testenv"
)

// TestScale measures the trail at NRM_AUDIT_SCALE records (e.g. 100000) on the test store
// (embedded FerretDB, or NRM_TEST_MONGO_URI): the upgrade to the object index, append, a cold
// start, List by object and by principal, VerifyObject, Verify. It is skipped unless the
// variable is set.
func TestScale(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("NRM_AUDIT_SCALE"))
	if n <= 0 {
		t.Skip("set NRM_AUDIT_SCALE to the number of records to measure with")
	}
	ctx := context.Background()
	db := testenv.Database(t)

	// Bulk-load a valid chain (Trail would take minutes to write it one by one).
	start := time.Now()
	head := audit.Head{Hash: audit.GenesisHash}
	const batch = 1000
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for done := 0; done < n; done += batch {
		docs, next, err := audit.BuildChain(ctx, head, min(batch, n-done), func(i int) audit.Entry {
			i += done
			return audit.Entry{
				Institution: "ASP-ANTITRAF", Subject: fmt.Sprintf("officer-%d", i%50), Roles: []string{"caseworker"},
				Method: "/nrm.caseregistry.v1.CaseRegistryService/GetCase", ObjectIDs: []string{fmt.Sprintf("case-%d", i%5000)},
				Purpose: "case-management", Outcome: "OK", RequestID: uuid.NewString(), Time: at.Add(time.Duration(i) * time.Second),
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		head = next
		if _, err := db.Collection(audit.Collection).InsertMany(ctx, docs); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("loaded %d records in %v", n, time.Since(start))

	measure := func(what string, f func() error) {
		t.Helper()
		start := time.Now()
		if err := f(); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		t.Logf("%-45s %v", what, time.Since(start))
	}
	// The records are loaded as a trail made before the object index: the start indexes them.
	measure("upgrade: EnsureIndexes, indexing the records by object", func() error {
		return audit.EnsureIndexes(ctx, db)
	})
	tr := audit.NewTrail(db, "caseregistry", nil)
	measure("first append, no hint (finds the newest record)", func() error {
		_, err := tr.Record(ctx, audit.Entry{Method: "/m/M", Outcome: "OK"})
		return err
	})
	measure("100 appends", func() error {
		for range 100 {
			if _, err := tr.Record(ctx, audit.Entry{Method: "/m/M", Outcome: "OK"}); err != nil {
				return err
			}
		}
		return nil
	})
	measure("first append of a new trail, from the hint", func() error {
		_, err := audit.NewTrail(db, "caseregistry", nil).Record(ctx, audit.Entry{Method: "/m/M", Outcome: "OK"})
		return err
	})
	measure("List by object, first page", func() error {
		_, _, err := audit.List(ctx, db, audit.Filter{ObjectID: "case-42"}, 50, "")
		return err
	})
	measure("VerifyObject", func() error {
		res, err := audit.VerifyObject(ctx, db, "case-42")
		if err == nil && !res.Intact {
			err = fmt.Errorf("not intact: %+v", res)
		}
		return err
	})
	measure("List by institution and subject, first page", func() error {
		_, _, err := audit.List(ctx, db, audit.Filter{Institution: "ASP-ANTITRAF", Subject: "officer-7"}, 50, "")
		return err
	})
	measure("List unfiltered, first page", func() error {
		_, _, err := audit.List(ctx, db, audit.Filter{}, 50, "")
		return err
	})
	measure("Verify", func() error {
		res, err := audit.Verify(ctx, db)
		if err == nil && !res.Intact {
			err = fmt.Errorf("not intact: %+v", res)
		}
		return err
	})
}
