package server

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	caseregistryv1 "github.com/nrm-albania/nrm/proto/nrm/caseregistry/v1"
	"github.com/nrm-albania/nrm/services/caseregistry/internal/domain"
	"github.com/nrm-albania/nrm/services/caseregistry/internal/store"
	"github.com/nrm-albania/nrm/services/platform/piicrypto"
)

// Removing the identity through UpdateCase erases it as EraseIdentity does: the data key is
// destroyed, so the revisions that still hold it sealed are noise; the blind indexes go; the
// history says so. Setting an identity again later seals it under a new key.
func TestRemovingTheIdentityDestroysItsKey(t *testing.T) {
	s, db, _ := newServer(t)
	c := register(t, s, marker)
	ctx := as(police, "case-management")
	firstKey, err := s.store.Key(context.Background(), c.GetId())
	if err != nil {
		t.Fatal(err)
	}
	resp, err := s.UpdateCase(ctx, update(c.GetId(), 1, &caseregistryv1.Case{}, "identity"))
	if err != nil {
		t.Fatal(err)
	}
	if v := resp.GetCase().GetIdentityView(); v != caseregistryv1.IdentityView_IDENTITY_VIEW_NONE {
		t.Errorf("identity view after removal: %s", v)
	}
	if _, err := s.store.Key(context.Background(), c.GetId()); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the data key survived the removal: %v", err)
	}
	// Version 1 still holds the sealed identity; without the key it cannot be opened.
	var v1 domain.Case
	if err := db.Collection(store.RevisionCollection).FindOne(context.Background(),
		bson.D{{Key: "_id", Value: store.RevisionID(c.GetId(), 1)}}).Decode(&struct {
		Case *domain.Case `bson:"case"`
	}{&v1}); err != nil {
		t.Fatal(err)
	}
	if v1.SealedIdentity == nil {
		t.Fatal("the first revision holds no sealed identity; the test proves nothing")
	}
	if _, err := s.openIdentity(context.Background(), v1); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the first revision's identity can still be opened: %v", err)
	}
	if n, err := db.Collection(store.IndexCollection).CountDocuments(context.Background(), bson.D{{Key: "case_id", Value: c.GetId()}}); err != nil || n != 0 {
		t.Errorf("%d blind indexes left, %v", n, err)
	}
	found, err := s.FindPossibleDuplicates(ctx, &caseregistryv1.FindPossibleDuplicatesRequest{Identity: marker})
	if err != nil || len(found.GetDuplicates()) != 0 {
		t.Errorf("the removed identity is still found: %v, %v", found, err)
	}
	h, err := s.ListCaseHistory(ctx, &caseregistryv1.ListCaseHistoryRequest{Id: c.GetId()})
	if err != nil {
		t.Fatal(err)
	}
	last := h.GetEntries()[len(h.GetEntries())-1]
	if !strings.Contains(last.GetNote(), "key destroyed") {
		t.Errorf("the history does not say the identity was erased: %v", last)
	}

	resp, err = s.UpdateCase(ctx, update(c.GetId(), 2, &caseregistryv1.Case{Identity: marker}, "identity"))
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.GetCase().GetIdentity(); got.GetFamilyName() != marker.GetFamilyName() {
		t.Errorf("identity set again: %v", got)
	}
	secondKey, err := s.store.Key(context.Background(), c.GetId())
	if err != nil || string(secondKey.Ciphertext) == string(firstKey.Ciphertext) {
		t.Errorf("the identity set again is not under a new key: %v", err)
	}
	if _, err := s.openIdentity(context.Background(), v1); err == nil {
		t.Error("the new key opens the removed identity")
	}
}

// A case left with a data key and no identity (a removal whose clean-up failed, or a database
// made before removals destroyed keys) loses the key at the next housekeeping round. A key that
// seals an identity, and a key written moments ago (an identity being set), stay.
func TestHousekeepingDestroysTheKeysOfCasesWithoutIdentity(t *testing.T) {
	s, db, _ := newServer(t)
	bare := register(t, s, nil)
	kept := register(t, s, marker)
	fresh := register(t, s, nil)
	_, w, err := piicrypto.NewDataKey(s.keys, bare.GetId())
	if err != nil {
		t.Fatal(err)
	}
	// As a database made before stored it: no creation time.
	if _, err := db.Collection(store.KeyCollection).InsertOne(context.Background(), bson.D{{Key: "_id", Value: bare.GetId()}, {Key: "key", Value: w}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.newDataKey(context.Background(), fresh.GetId()); err != nil {
		t.Fatal(err)
	}
	s.housekeepOnce(context.Background(), Housekeeping{})
	if _, err := s.store.Key(context.Background(), bare.GetId()); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the key of a case without identity survived: %v", err)
	}
	for _, id := range []string{kept.GetId(), fresh.GetId()} {
		if _, err := s.store.Key(context.Background(), id); err != nil {
			t.Errorf("key of %s: %v", id, err)
		}
	}
	// Once the grace period is over, the fresh key of a case that has no identity goes too.
	s.now = func() time.Time { return time.Now().Add(time.Hour) }
	s.housekeepOnce(context.Background(), Housekeeping{})
	if _, err := s.store.Key(context.Background(), fresh.GetId()); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("an abandoned key survived the grace period: %v", err)
	}
	if _, err := s.store.Key(context.Background(), kept.GetId()); err != nil {
		t.Errorf("the key of a case with an identity: %v", err)
	}
}
