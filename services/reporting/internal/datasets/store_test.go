package datasets

import (
	"context"
	"slices"
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

// Past last month's due day, every member that has not submitted it is announced missing, once;
// a member that submitted is not.
func TestMissingDataIsAnnouncedOnceAfterTheDueDay(t *testing.T) {
	t.Parallel()
	ctx := secretariatCtx()
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC) // 5 December, the due day of November
	st := NewStore(testenv.Database(t), Calendar{DueDay: 5, LockDay: 10}, func() time.Time { return now })
	if err := st.Seed(ctx); err != nil {
		t.Fatal(err)
	}
	forms, err := st.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	november := PeriodBefore(now)
	if november.String() != "2026-11" {
		t.Fatalf("the month before %s is %s", now, november)
	}
	kksat := forms[slices.IndexFunc(forms, func(d DataSet) bool { return d.Member == "KKSAT" })]
	var values []Value
	for _, e := range kksat.Elements {
		values = append(values, Value{Element: e.Code})
	}
	if _, _, err := st.Submit(ctx, kksat, november, values, nil); err != nil {
		t.Fatal(err)
	}
	if err := st.AnnounceMissing(ctx); err != nil {
		t.Fatal(err)
	}
	if n := countMissing(t, st, forms, november); n != 0 {
		t.Fatalf("%d announced before the end of the due day", n)
	}
	now = now.Add(24 * time.Hour)
	for range 2 {
		if err := st.AnnounceMissing(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := countMissing(t, st, forms, november); n != len(forms)-1 {
		t.Errorf("%d members announced missing, want all but KKSAT (%d)", n, len(forms)-1)
	}
	akpa, err := st.Submissions.Get(ctx, SubmissionID("AKPA", november))
	if err != nil || akpa.Version != 1 || !akpa.Missing || akpa.Submitted {
		t.Errorf("AKPA's November after two rounds: %+v %v; want one change, missing", akpa, err)
	}
}

func countMissing(t *testing.T, st *Store, forms []DataSet, p Period) int {
	t.Helper()
	n := 0
	for _, f := range forms {
		s, err := st.Submissions.Get(context.Background(), SubmissionID(f.Member, p))
		if err == nil && s.Missing {
			n++
		}
	}
	return n
}
