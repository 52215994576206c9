package server

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	caseregistryv1 "github.com/nrm-albania/nrm/proto/nrm/caseregistry/v1"
	"github.com/nrm-albania/nrm/services/caseregistry/internal/domain"
	"github.com/nrm-albania/nrm/services/caseregistry/internal/store"
	"github.com/nrm-albania/nrm/services/platform/auth"
)

func keyedAs(p *auth.Principal, key string) context.Context {
	return metadata.NewIncomingContext(auth.NewContext(context.Background(), p), metadata.Pairs(IdempotencyKeyHeader, key))
}

// An idempotency key is the caller's institution's: another institution using the same key
// gets a case of its own, never the first one's case or a refusal naming it; each institution's
// retries return its own case, and its reuse of the key for another request names its own.
func TestIdempotencyKeysAreScopedPerInstitution(t *testing.T) {
	s, db, _ := newServer(t)
	kksat := &auth.Principal{Institution: "KKSAT", Subject: "s", Roles: []auth.Role{auth.RoleCaseworker}}
	const key = "2026-10-02-0001"
	changed := request()
	changed.Profile.Sex = caseregistryv1.Sex_SEX_FEMALE
	own := map[string]string{}
	for _, p := range []*auth.Principal{police, kksat} {
		got, err := s.RegisterCase(keyedAs(p, key), request())
		if err != nil {
			t.Fatalf("%s: %v", p.Institution, err)
		}
		if got.GetCase().GetOwnerInstitution() != p.Institution {
			t.Errorf("%s got a case of %s", p.Institution, got.GetCase().GetOwnerInstitution())
		}
		own[p.Institution] = got.GetCase().GetId()
	}
	if own["KKSAT"] == own["ASP-ANTITRAF"] {
		t.Fatal("two institutions with the same key share a case")
	}
	for _, p := range []*auth.Principal{police, kksat} {
		again, err := s.RegisterCase(keyedAs(p, key), request())
		if err != nil || again.GetCase().GetId() != own[p.Institution] {
			t.Errorf("%s's retry: %v, %v; want %s", p.Institution, again.GetCase().GetId(), err, own[p.Institution])
		}
		_, err = s.RegisterCase(keyedAs(p, key), changed)
		if status.Code(err) != codes.FailedPrecondition || !strings.Contains(fmt.Sprint(status.Convert(err).Details()), own[p.Institution]) {
			t.Errorf("%s reusing its key: %v, want FailedPrecondition naming its own case", p.Institution, err)
		}
	}
	if n := count(t, db, store.Collection); n != 2 {
		t.Errorf("%d cases, want one per institution", n)
	}
}

// A case registered before keys were scoped (its id derived from the key alone) is still what
// its own institution's retry returns; another institution's same key does not reach it.
func TestARetryFindsACaseRegisteredBeforeKeysWereScoped(t *testing.T) {
	s, db, _ := newServer(t)
	const key = "before-the-upgrade-7"
	req := request()
	now := time.Now().UTC().Truncate(time.Millisecond)
	c, _, err := domain.NewRegistration(req, domain.Today(now))
	if err != nil {
		t.Fatal(err)
	}
	c.ID = uuid.NewSHA1(idempotencyNamespace, []byte(key)).String() // the old derivation
	c.OwnerInstitution, c.Version, c.RegisteredAt, c.UpdatedAt = police.Institution, 1, now, now
	c.Code = "VT-2026-00900"
	c.Idempotency = &domain.Idempotency{Key: key, RequestHash: s.fingerprint(req)}
	if _, err := s.store.Create(context.Background(), c, store.Change{Kind: "CHANGE_KIND_REGISTERED", At: now}, nil); err != nil {
		t.Fatal(err)
	}
	got, err := s.RegisterCase(keyedAs(police, key), request())
	if err != nil || got.GetCase().GetId() != c.ID {
		t.Errorf("the retry after the upgrade: %v, %v; want the case registered before", got.GetCase().GetId(), err)
	}
	kksat := &auth.Principal{Institution: "KKSAT", Subject: "s", Roles: []auth.Role{auth.RoleCaseworker}}
	other, err := s.RegisterCase(keyedAs(kksat, key), request())
	if err != nil || other.GetCase().GetId() == c.ID {
		t.Errorf("another institution with the same key: %v, %v", other.GetCase().GetId(), err)
	}
	if n := count(t, db, store.Collection); n != 2 {
		t.Errorf("%d cases, want 2", n)
	}
}
