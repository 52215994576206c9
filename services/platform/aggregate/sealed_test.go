package aggregate_test

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/nrm-albania/nrm/services/platform/aggregate"
	"github.com/nrm-albania/nrm/services/platform/keyvault"
	"github.com/nrm-albania/nrm/services/platform/piicrypto"
	"github.com/nrm-albania/nrm/services/platform/testenv"
)

// A sealed field plugs in without the store knowing it: the service seals it under the record's
// data key, kept in a key vault, before deciding a change; every revision holds it sealed; and
// destroying the key makes it unreadable in all of them at once.
func TestSealedFieldsStaySealedInEveryRevisionAndDieWithTheKey(t *testing.T) {
	ctx := caller()
	db := testenv.Database(t)
	s := newStore(db)
	vault := keyvault.New(db, "referral_keys")
	raw := make([]byte, piicrypto.KeySize)
	_, _ = rand.Read(raw)
	mk, err := piicrypto.ParseMasterKeys("m1:" + base64.StdEncoding.EncodeToString(raw))
	if err != nil {
		t.Fatal(err)
	}
	key, wrapped, err := piicrypto.NewDataKey(mk, "rs")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := vault.StoreKey(ctx, "rs", wrapped); err != nil {
		t.Fatal(err)
	}
	const reason = "Referral of Arta Hoxha to the shelter in Vlorë"
	sealed, err := key.Seal("reason", []byte(reason))
	key.Destroy()
	if err != nil {
		t.Fatal(err)
	}
	created(t, s, "rs", base64.StdEncoding.EncodeToString(sealed))
	if _, _, err := s.Execute(ctx, note("rs", 1, base64.StdEncoding.EncodeToString(sealed))); err != nil {
		t.Fatal(err)
	}

	opened := func(v int64) (string, error) {
		var rev struct {
			Referral referral `bson:"referral"`
		}
		if err := s.RevisionCollection().FindOne(ctx, bson.D{{Key: "_id", Value: aggregate.RevisionID("rs", v)}}).Decode(&rev); err != nil {
			t.Fatal(err)
		}
		w, err := vault.Key(ctx, "rs")
		if err != nil {
			return "", err
		}
		k, err := piicrypto.Unwrap(mk, w, "rs")
		if err != nil {
			t.Fatal(err)
		}
		defer k.Destroy()
		ct, _ := base64.StdEncoding.DecodeString(rev.Referral.Note)
		plain, err := k.Open("reason", ct)
		return string(plain), err
	}
	for v := int64(1); v <= 2; v++ {
		if got, err := opened(v); err != nil || got != reason {
			t.Fatalf("revision %d opens to %q, %v", v, got, err)
		}
	}
	stored, err := db.Collection("referral_revisions").CountDocuments(ctx, bson.D{{Key: "referral.note", Value: reason}})
	if err != nil || stored != 0 {
		t.Errorf("%d revisions hold the reason in clear, %v", stored, err)
	}
	if err := vault.DestroyKey(ctx, "rs"); err != nil {
		t.Fatal(err)
	}
	for v := int64(1); v <= 2; v++ {
		if _, err := opened(v); !errors.Is(err, keyvault.ErrNotFound) {
			t.Errorf("revision %d after the key was destroyed: %v", v, err)
		}
	}
}
