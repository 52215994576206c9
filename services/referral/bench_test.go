package referral_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.mongodb.org/mongo-driver/v2/bson"

	referralv1 "github.com/nrm-albania/nrm/proto/nrm/referral/v1"
	"github.com/nrm-albania/nrm/services/platform/auth"
	"github.com/nrm-albania/nrm/services/platform/mongodb"
	"github.com/nrm-albania/nrm/services/platform/testenv"
	"github.com/nrm-albania/nrm/services/referral/internal/cases"
	"github.com/nrm-albania/nrm/services/referral/internal/referrals"
)

// BenchmarkReferral measures a referral's life through gRPC (create, accept, complete: three
// commits, with the registry asked once) and the first page of a recipient's inbox with 1,000
// and 50,000 referrals received, on the test store:
//
//	go test -run '^$' -bench Referral -benchtime 100x ./services/referral/
func BenchmarkReferral(b *testing.B) {
	s := serveBench(b)
	police := referralv1.NewReferralServiceClient(s.Dial(b, s.Issuer.Token(b, "ASP-ANTITRAF", auth.RoleCaseworker)))
	shelter := referralv1.NewReferralServiceClient(s.Dial(b, s.Issuer.Token(b, "KKSAT", auth.RoleCaseworker)))
	ctx := context.Background()
	b.Run("lifecycle", func(b *testing.B) {
		for b.Loop() {
			made, err := police.CreateReferral(ctx, toShelter(adult.ID))
			if err != nil {
				b.Fatal(err)
			}
			id := made.GetReferral().GetId()
			if _, err := shelter.AcceptReferral(ctx, &referralv1.AcceptReferralRequest{Id: id}); err != nil {
				b.Fatal(err)
			}
			if _, err := shelter.CompleteReferral(ctx, &referralv1.CompleteReferralRequest{Id: id, Outcome: referralv1.ReferralOutcome_REFERRAL_OUTCOME_DELIVERED}); err != nil {
				b.Fatal(err)
			}
		}
	})
	seeded := 0
	for _, n := range []int{1000, 50_000} {
		seed(b, s, "QENDRA-BENCH", seeded, n)
		seeded = n
		b.Run(fmt.Sprintf("inbox/referrals=%d", n), func(b *testing.B) {
			inbox := referralv1.NewReferralServiceClient(s.Dial(b, s.Issuer.Token(b, "MB-SEKRETARIATI", auth.RoleSecretariat)))
			for b.Loop() {
				page, err := inbox.ListReferrals(ctx, &referralv1.ListReferralsRequest{Recipient: "QENDRA-BENCH", PageSize: 50})
				if err != nil || len(page.GetReferrals()) != 50 {
					b.Fatalf("%d referrals, %v", len(page.GetReferrals()), err)
				}
			}
		})
	}
}

func serveBench(b *testing.B) *testenv.Served {
	b.Helper()
	return serveWith(b, &registry{cases: map[string]cases.Case{adult.ID: adult}})
}

// seed adds completed referrals from..to of a case to provider, in bulk, as the store keeps
// them: the referral and its places in the recipient's list with their memberships.
func seed(b *testing.B, s *testenv.Served, provider string, from, to int) {
	b.Helper()
	ctx := context.Background()
	c, err := mongodb.Connect(testenv.MongoURI(b), "bench")
	if err != nil {
		b.Fatal(err)
	}
	defer c.Disconnect(ctx)
	db := c.Database(s.DB)
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	const batch = 1000
	for start := from; start < to; start += batch {
		var docs, lists []any
		for i := start; i < min(start+batch, to); i++ {
			id := uuid.NewString()
			docs = append(docs, referrals.Referral{ID: id, Version: 3, CaseID: adult.ID, CaseCode: adult.Code,
				ServiceType: "SERVICE_TYPE_SHELTER", ProviderCode: provider, SenderInstitution: "ASP-ANTITRAF",
				Urgency: "REFERRAL_URGENCY_STANDARD", State: referrals.Completed, Outcome: "REFERRAL_OUTCOME_DELIVERED",
				CreatedAt: at, UpdatedAt: at, DueAt: at})
			list := "to/" + provider
			lists = append(lists,
				bson.D{{Key: "_id", Value: fmt.Sprintf("%s#%d", list, i+1)}, {Key: "item_id", Value: id}},
				bson.D{{Key: "_id", Value: list + "@" + id}, {Key: "n", Value: int64(i + 1)}})
		}
		if _, err := db.Collection("referrals").InsertMany(ctx, docs); err != nil {
			b.Fatal(err)
		}
		if _, err := db.Collection(referrals.ListCollection).InsertMany(ctx, lists); err != nil {
			b.Fatal(err)
		}
	}
	testenv.IndexStore(b)
}
