package directory_test

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/nrm-albania/nrm/services/platform/access"
	"github.com/nrm-albania/nrm/services/platform/auth"
	"github.com/nrm-albania/nrm/services/platform/testenv"
	"github.com/nrm-albania/nrm/services/secretariat/internal/directory"
)

var now = time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)

func codes(insts []directory.Institution) []string {
	var out []string
	for _, i := range insts {
		out = append(out, i.Code)
	}
	return out
}

func TestRegistrationsAreRetriableAndADeactivationSurvivesSeeding(t *testing.T) {
	ctx := context.Background()
	s := directory.NewStore(testenv.Database(t))
	if err := s.Seed(ctx, now); err != nil {
		t.Fatal(err)
	}
	shelter := directory.Institution{Code: "QENDRA-VATRA", Name: "Vatra Centre", Kind: access.KindProvider, UpdatedAt: now}
	if got, err := s.Register(ctx, shelter); err != nil || !got.Active {
		t.Fatalf("Register: %+v, %v", got, err)
	}
	if got, err := s.Register(ctx, shelter); err != nil || got.Name != shelter.Name {
		t.Fatalf("a retried registration: %+v, %v", got, err)
	}
	renamed := shelter
	renamed.Name = "Another centre"
	if _, err := s.Register(ctx, renamed); !errors.Is(err, directory.ErrExists) {
		t.Fatalf("another registration of the code: %v", err)
	}
	if got, err := s.SetActive(ctx, "KKSAT", false, now.Add(time.Hour)); err != nil || got.Active || !got.UpdatedAt.Equal(now.Add(time.Hour)) {
		t.Fatalf("SetActive: %+v, %v", got, err)
	}
	if err := s.Seed(ctx, now.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Institution(ctx, "KKSAT"); err != nil || got.Active {
		t.Errorf("seeding again reactivated a deactivated member: %+v, %v", got, err)
	}
	if _, err := s.Institution(ctx, "NOBODY"); !errors.Is(err, directory.ErrNotFound) {
		t.Errorf("an unknown code: %v", err)
	}
	if _, err := s.SetActive(ctx, "NOBODY", false, now); !errors.Is(err, directory.ErrNotFound) {
		t.Errorf("deactivating an unknown code: %v", err)
	}

	var all []string
	for after := ""; ; {
		page, err := s.Institutions(ctx, after, 4)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, codes(page)...)
		if len(page) < 4 {
			break
		}
		after = page[len(page)-1].Code
	}
	want := codes(directory.DefaultInstitutions())
	want = append(want, shelter.Code)
	slices.Sort(want)
	if !slices.Equal(all, want) {
		t.Errorf("pages %v, want %v", all, want)
	}
}

// A round of the syncer publishes the whole directory, after which the services admit callers;
// it forgets the revocations of tokens that have expired, in the bucket and in the store.
func TestSyncPublishesTheDirectoryAndForgetsExpiredTokenRevocations(t *testing.T) {
	ctx := context.Background()
	bus := testenv.NewBus(t)
	cfg := access.Bucket(bus.NS, 1)
	t.Cleanup(func() { _ = bus.JS.DeleteKeyValue(context.Background(), cfg.Bucket) })
	s := directory.NewStore(testenv.Database(t))
	clock := now
	syncer := directory.NewSyncer(s, bus.JS, cfg, slog.New(slog.DiscardHandler), func() time.Time { return clock })

	if err := s.Seed(ctx, now); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetActive(ctx, "MAS", false, now); err != nil {
		t.Fatal(err)
	}
	revocations := []directory.Revocation{
		{Key: "token.live", Kind: directory.RevokedToken, TokenID: "live", RevokedAt: now, ExpiresAt: now.Add(2 * time.Hour)},
		{Key: "token.old", Kind: directory.RevokedToken, TokenID: "old", RevokedAt: now, ExpiresAt: now.Add(time.Minute)},
		{Key: "subject.leaver", Kind: directory.RevokedSubject, Institution: "ASP-ANTITRAF", Subject: "leaver", RevokedAt: now},
	}
	for _, r := range revocations {
		if err := s.Revoke(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	clock = now.Add(time.Hour) // "old" has expired, "live" has not
	if err := syncer.Sync(ctx); err != nil {
		t.Fatal(err)
	}

	d := access.NewDirectory(time.Minute, nil)
	follow, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = d.Follow(follow, bus.JS, cfg, slog.New(slog.DiscardHandler))
	}()
	t.Cleanup(func() { stop(); <-done })
	testenv.Eventually(t, 10*time.Second, "directory followed", func() bool { return d.Ready() == nil })
	issued := now.Add(-time.Hour)
	police := func(jti, subject string) *auth.Principal {
		return &auth.Principal{Institution: "ASP-ANTITRAF", Subject: subject, Credential: auth.Credential{TokenID: jti, IssuedAt: issued}}
	}
	for name, c := range map[string]struct {
		p     *auth.Principal
		admit bool
	}{
		"a member":                          {police("t1", "officer"), true},
		"a deactivated member":              {&auth.Principal{Institution: "MAS", Subject: "x"}, false},
		"an unknown institution":            {&auth.Principal{Institution: "ZZ-UNKNOWN", Subject: "x"}, false},
		"a revoked token":                   {police("live", "officer"), false},
		"an expired token's revocation":     {police("old", "officer"), true},
		"a revoked subject":                 {police("t2", "leaver"), false},
		"a system account of the Authority": {&auth.Principal{Institution: "NRM", Subject: "referral"}, true},
	} {
		if err := d.Admit(c.p); (err == nil) != c.admit {
			t.Errorf("%s: Admit = %v, want admitted %v", name, err, c.admit)
		}
	}
	left, err := s.Revocations(ctx, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, r := range left {
		keys = append(keys, r.Key)
	}
	if !slices.Equal(keys, []string{"subject.leaver", "token.live"}) {
		t.Errorf("revocations kept %v, want the expired token's forgotten", keys)
	}
}
