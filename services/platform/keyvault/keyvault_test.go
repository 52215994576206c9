package keyvault_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"testing"

	"github.com/nrm-albania/nrm/services/platform/keyvault"
	"github.com/nrm-albania/nrm/services/platform/piicrypto"
	"github.com/nrm-albania/nrm/services/platform/testenv"
)

// masterKey returns a master key set of one fresh key named id, and its setting's value.
func masterKey(t *testing.T, id string) (*piicrypto.MasterKeys, string) {
	t.Helper()
	k := make([]byte, piicrypto.KeySize)
	_, _ = rand.Read(k)
	spec := id + ":" + base64.StdEncoding.EncodeToString(k)
	mk, err := piicrypto.ParseMasterKeys(spec)
	if err != nil {
		t.Fatal(err)
	}
	return mk, spec
}

func TestAKeyIsStoredOnceAndDestroyedForGood(t *testing.T) {
	ctx := context.Background()
	s := keyvault.New(testenv.Database(t), "keys")
	mk, _ := masterKey(t, "m1")
	_, first, _ := piicrypto.NewDataKey(mk, "k1")
	_, second, _ := piicrypto.NewDataKey(mk, "k1")
	if got, err := s.StoreKey(ctx, "k1", first); err != nil || string(got.Ciphertext) != string(first.Ciphertext) {
		t.Fatalf("store: %v", err)
	}
	// A retried registration must seal with the key stored first.
	if got, err := s.StoreKey(ctx, "k1", second); err != nil || string(got.Ciphertext) != string(first.Ciphertext) {
		t.Fatalf("second store returned another key: %v", err)
	}
	if err := s.DestroyKey(ctx, "k1"); err != nil {
		t.Fatal(err)
	}
	if err := s.DestroyKey(ctx, "k1"); err != nil {
		t.Fatalf("destroying twice: %v", err)
	}
	if _, err := s.Key(ctx, "k1"); !errors.Is(err, keyvault.ErrNotFound) {
		t.Errorf("key after destruction: %v", err)
	}
}

// After a rotation (a new primary master key first in the list), RewrapKeys moves every key to
// it; the data keys, and so the sealed fields, stay the same; a second run has nothing to do.
func TestRewrapMovesEveryKeyToThePrimary(t *testing.T) {
	ctx := context.Background()
	s := keyvault.New(testenv.Database(t), "keys")
	old, oldSpec := masterKey(t, "old")
	sealed := map[string]piicrypto.Sealed{}
	for _, id := range []string{"r1", "r2", "r3"} {
		key, w, err := piicrypto.NewDataKey(old, id)
		if err != nil {
			t.Fatal(err)
		}
		if sealed[id], err = key.Seal("given_name", []byte("Marker"+id)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.StoreKey(ctx, id, w); err != nil {
			t.Fatal(err)
		}
	}
	_, freshSpec := masterKey(t, "new")
	rotated, err := piicrypto.ParseMasterKeys(freshSpec + "," + oldSpec)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := s.RewrapKeys(ctx, rotated); err != nil || n != 3 {
		t.Fatalf("rewrap: %d, %v", n, err)
	}
	if n, err := s.RewrapKeys(ctx, rotated); err != nil || n != 0 {
		t.Fatalf("second rewrap: %d, %v", n, err)
	}
	onlyNew, _ := piicrypto.ParseMasterKeys(freshSpec)
	for id, s1 := range sealed {
		w, err := s.Key(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		key, err := piicrypto.Unwrap(onlyNew, w, id)
		if err != nil {
			t.Fatalf("%s does not open without the old master key: %v", id, err)
		}
		if plain, err := key.Open("given_name", s1); err != nil || string(plain) != "Marker"+id {
			t.Errorf("%s: %q, %v", id, plain, err)
		}
	}
}

// DestroyKeyIf destroys only the key it was given: one put in its place meanwhile stays.
func TestDestroyKeyIfLeavesAReplacedKey(t *testing.T) {
	ctx := context.Background()
	s := keyvault.New(testenv.Database(t), "keys")
	mk, _ := masterKey(t, "m1")
	_, first, _ := piicrypto.NewDataKey(mk, "c1")
	_, second, _ := piicrypto.NewDataKey(mk, "c1")
	if _, err := s.StoreKey(ctx, "c1", first); err != nil {
		t.Fatal(err)
	}
	if err := s.DestroyKeyIf(ctx, "c1", second); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Key(ctx, "c1"); err != nil || string(got.Ciphertext) != string(first.Ciphertext) {
		t.Fatalf("a key that was not the one given was destroyed: %v", err)
	}
	if err := s.DestroyKeyIf(ctx, "c1", first); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Key(ctx, "c1"); !errors.Is(err, keyvault.ErrNotFound) {
		t.Errorf("key after DestroyKeyIf: %v", err)
	}
}
