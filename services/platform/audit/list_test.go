package audit_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/nrm-albania/nrm/services/platform/audit"
	"github.com/nrm-albania/nrm/services/platform/testenv"
)

var t0 = time.Date(2025, 6, 1, 8, 0, 0, 0, time.UTC)

// TestListFiltersNewestFirst stores five records, one hour apart from t0:
//
//	seq  caller           on behalf of     objects
//	1    ASP-ANTITRAF/a1                   c1
//	2    KKSAT/b1         ASP-ANTITRAF/a1  c1 c2
//	3    ASP-ANTITRAF/a2                   c2
//	4    KKSAT/b1                          -
//	5    ASP-ANTITRAF/a1                   c3
func TestListFiltersNewestFirst(t *testing.T) {
	ctx := context.Background()
	db := testenv.Database(t)
	if err := audit.EnsureIndexes(ctx, db); err != nil {
		t.Fatal(err)
	}
	tr := audit.NewTrail(db, service, nil)
	asp, kksat := "ASP-ANTITRAF", "KKSAT"
	for i, e := range []audit.Entry{
		{Institution: asp, Subject: "a1", ObjectIDs: []string{"c1"}},
		{Institution: kksat, Subject: "b1", ObjectIDs: []string{"c1", "c2"},
			OnBehalfOf: audit.Principal{Institution: asp, Subject: "a1", Roles: []string{"caseworker"}}},
		{Institution: asp, Subject: "a2", ObjectIDs: []string{"c2"}},
		{Institution: kksat, Subject: "b1"},
		{Institution: asp, Subject: "a1", ObjectIDs: []string{"c3"}},
	} {
		e.Method, e.Outcome, e.Roles, e.Time = "/nrm.caseregistry.v1.CaseRegistryService/GetCase", "OK", []string{"service"}, t0.Add(time.Duration(i)*time.Hour)
		if _, err := tr.Record(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		name string
		f    audit.Filter
		want []int64
	}{
		{"everything", audit.Filter{}, []int64{5, 4, 3, 2, 1}},
		{"by object", audit.Filter{ObjectID: "c1"}, []int64{2, 1}},
		{"by another object", audit.Filter{ObjectID: "c2"}, []int64{3, 2}},
		{"by an object id that is a prefix of none", audit.Filter{ObjectID: "c"}, nil},
		{"by institution, directly or on its behalf", audit.Filter{Institution: asp}, []int64{5, 3, 2, 1}},
		{"by subject, directly or on its behalf", audit.Filter{Subject: "a1"}, []int64{5, 2, 1}},
		{"by institution and subject", audit.Filter{Institution: asp, Subject: "a2"}, []int64{3}},
		{"institution and subject of different principals", audit.Filter{Institution: kksat, Subject: "a1"}, nil},
		{"by period, from inclusive, to exclusive", audit.Filter{From: t0.Add(2 * time.Hour), To: t0.Add(4 * time.Hour)}, []int64{4, 3}},
		{"from only", audit.Filter{From: t0.Add(3 * time.Hour)}, []int64{5, 4}},
		{"to only", audit.Filter{To: t0.Add(time.Hour)}, []int64{1}},
		{"empty period", audit.Filter{From: t0, To: t0}, nil},
		{"object and principal and period", audit.Filter{ObjectID: "c1", Institution: asp, From: t0.Add(time.Minute)}, []int64{2}},
	} {
		t.Run(c.name, func(t *testing.T) {
			recs, next, err := audit.List(ctx, db, c.f, 0, "")
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			for _, r := range recs {
				got = append(got, r.Seq)
				if r.Hash != audit.Hash(r) {
					t.Errorf("record %d read back does not match its hash", r.Seq)
				}
			}
			if !slices.Equal(got, c.want) || next != "" {
				t.Errorf("seqs %v (next %q), want %v", got, next, c.want)
			}
		})
	}
}

func TestListPaginates(t *testing.T) {
	ctx := context.Background()
	db := testenv.Database(t)
	appendN(t, audit.NewTrail(db, service, nil), 12)
	for _, f := range []audit.Filter{{}, {ObjectID: "case-1"}} {
		var got []int64
		token, pages := "", 0
		for {
			recs, next, err := audit.List(ctx, db, f, 5, token)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			for _, r := range recs {
				got = append(got, r.Seq)
			}
			if next == "" {
				break
			}
			token = next
			if pages > 10 {
				t.Fatal("pagination does not end")
			}
		}
		want := []int64{12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1}
		if f.ObjectID != "" {
			want = []int64{10, 6, 2} // entry(i) concerns case-(i%4); record seq = i+1
		}
		if !slices.Equal(got, want) {
			t.Errorf("filter %+v: pages give %v, want %v", f, got, want)
		}
	}
	// An exact last page has no next token.
	recs, next, err := audit.List(ctx, db, audit.Filter{}, 12, "")
	if err != nil || len(recs) != 12 || next != "" {
		t.Errorf("exact page: %d records, next %q, %v", len(recs), next, err)
	}
	for _, bad := range []string{"garbage", "eyJhIjoiaGVhZCJ9" /* {"a":"head"} */} {
		if _, _, err := audit.List(ctx, db, audit.Filter{}, 5, bad); status.Code(err) != codes.InvalidArgument {
			t.Errorf("token %q: %v, want InvalidArgument", bad, err)
		}
	}
	if _, _, err := audit.List(ctx, db, audit.Filter{From: t0.Add(time.Second), To: t0}, 5, ""); status.Code(err) != codes.InvalidArgument {
		t.Errorf("from after to: %v, want InvalidArgument", err)
	}
}
