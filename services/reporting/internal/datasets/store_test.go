package datasets

import (
	"context"
	"testing"
	"time"

	"github.com/nrm-albania/nrm/services/platform/auth"
	"github.com/nrm-albania/nrm/services/platform/testenv"
)

func secretariatCtx() context.Context {
	return auth.NewContext(context.Background(), &auth.Principal{Institution: "MB-SEKRETARIATI", Subject: "sec", Roles: []auth.Role{auth.RoleSecretariat}})
}

// Seeding is idempotent and never overwrites a form the secretariat changed.
func TestSeedingNeverOverwrites(t *testing.T) {
	t.Parallel()
	ctx := secretariatCtx()
	st := NewStore(testenv.Database(t), Calendar{DueDay: 5, LockDay: 10}, time.Now)
	if err := st.Seed(ctx); err != nil {
		t.Fatal(err)
	}
	changed := []Element{{Code: "ADMISSIONS", Name: "Admissions"}}
	if _, err := st.Update(ctx, "KKSAT", 1, changed); err != nil {
		t.Fatal(err)
	}
	if err := st.Seed(ctx); err != nil {
		t.Fatalf("second seeding: %v", err)
	}
	all, err := st.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != len(Members) {
		t.Fatalf("%d data sets, want %d", len(all), len(Members))
	}
	for i, d := range all {
		if d.Member != Members[i] {
			t.Fatalf("data set %d is %s, want %s (code order)", i, d.Member, Members[i])
		}
		want := int64(1)
		if d.Member == "KKSAT" {
			want = 2
			if len(d.Elements) != 1 || d.UpdatedBy != "MB-SEKRETARIATI" {
				t.Errorf("KKSAT after reseeding: %+v, want the secretariat's change kept", d)
			}
		}
		if d.Version != want {
			t.Errorf("%s at version %d, want %d", d.Member, d.Version, want)
		}
	}
	history, err := st.DataSets.History(ctx, "KKSAT", 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(history) != 2 || history[0].Change.Kind != "SEEDED" || history[1].Change.Kind != "UPDATED" ||
		history[1].Change.Institution != "MB-SEKRETARIATI" || history[1].Change.Subject != "sec" || history[1].Change.At.IsZero() {
		t.Errorf("history %+v, want the seeding then the secretariat's update with who and when", history)
	}
}
