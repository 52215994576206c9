package members

import (
	"slices"
	"sync"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/nrm-albania/nrm/services/platform/testenv"
)

func seededStore(t *testing.T) (*Store, *mongo.Database) {
	t.Helper()
	db := testenv.Database(t)
	st := NewStore(db)
	if err := st.Seed(t.Context()); err != nil {
		t.Fatalf("Seed: %v", err)
	}
	return st, db
}

func count(t *testing.T, c *mongo.Collection, filter bson.D) int64 {
	t.Helper()
	n, err := c.CountDocuments(t.Context(), filter)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestSeedTwiceLeavesOneComposition(t *testing.T) {
	st, db := seededStore(t)
	if err := st.Seed(t.Context()); err != nil {
		t.Fatalf("second Seed: %v", err)
	}
	members := db.Collection(MembersCollection)
	if n := count(t, members, bson.D{}); n != 13 {
		t.Errorf("%d members after seeding twice, want 13", n)
	}
	var chairs []Member
	cur, err := members.Find(t.Context(), bson.D{{Key: "role", Value: RoleChair}})
	if err != nil {
		t.Fatal(err)
	}
	if err := cur.All(t.Context(), &chairs); err != nil {
		t.Fatal(err)
	}
	if len(chairs) != 1 || chairs[0].Code != "MB-DPAM" {
		t.Errorf("chairs = %+v, want only MB-DPAM", chairs)
	}
	if n, want := count(t, db.Collection(InviteeKindsCollection), bson.D{}), len(DefaultInviteeKinds()); n != int64(want) {
		t.Errorf("%d invitee kinds after seeding twice, want %d", n, want)
	}
}

func TestSeedFromSeveralReplicasAtOnce(t *testing.T) {
	db := testenv.Database(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() { errs[i] = NewStore(db).Seed(t.Context()) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("replica %d: Seed: %v", i, err)
		}
	}
	if n := count(t, db.Collection(MembersCollection), bson.D{}); n != 13 {
		t.Errorf("%d members after concurrent seeding, want 13", n)
	}
}

func TestSeedKeepsWhatADecisionChanged(t *testing.T) {
	st, db := seededStore(t)
	members, kinds := db.Collection(MembersCollection), db.Collection(InviteeKindsCollection)
	renamed := "State Police, Border and Migration Department (reorganised)"
	if _, err := members.UpdateOne(t.Context(), bson.D{{Key: "_id", Value: "ASP-KUFIRI"}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "name", Value: renamed}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := kinds.UpdateOne(t.Context(), bson.D{{Key: "_id", Value: "NJMF"}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "name", Value: "Child-protection unit"}}}}); err != nil {
		t.Fatal(err)
	}
	if err := st.Seed(t.Context()); err != nil {
		t.Fatalf("re-Seed: %v", err)
	}
	var m Member
	if err := members.FindOne(t.Context(), bson.D{{Key: "_id", Value: "ASP-KUFIRI"}}).Decode(&m); err != nil {
		t.Fatal(err)
	}
	if m.Name != renamed {
		t.Errorf("re-seeding overwrote a changed member: name %q, want %q", m.Name, renamed)
	}
	var k InviteeKind
	if err := kinds.FindOne(t.Context(), bson.D{{Key: "_id", Value: "NJMF"}}).Decode(&k); err != nil {
		t.Fatal(err)
	}
	if k.Name != "Child-protection unit" {
		t.Errorf("re-seeding overwrote a changed invitee kind: name %q", k.Name)
	}
}

func TestListIsARangeInCodeOrder(t *testing.T) {
	st, _ := seededStore(t)
	var all []string
	for _, m := range DefaultMembers() {
		all = append(all, m.Code)
	}
	slices.Sort(all)
	tests := []struct {
		name  string
		after string
		limit int
		want  []string
	}{
		{"from the start", "", 100, all},
		{"limited", "", 3, all[:3]},
		{"after an existing code", all[4], 2, all[5:7]},
		{"after a code that does not exist", "ASP-B", 100, all[slices.Index(all, "ASP-DHF-MINORE"):]},
		{"past the end", "ZZZ", 10, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms, err := st.List(t.Context(), tt.after, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, m := range ms {
				got = append(got, m.Code)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("List(%q, %d) = %v, want %v", tt.after, tt.limit, got, tt.want)
			}
		})
	}
}
