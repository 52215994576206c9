package directory

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/nrm-albania/nrm/services/platform/access"
)

// DefaultSyncInterval is how often the whole directory is published again. A change is
// published when it is made; the round repairs a publication that failed after the store had
// committed the change, and forgets token revocations whose tokens have expired.
const DefaultSyncInterval = 5 * time.Minute

// Syncer seeds the directory and keeps the access bucket equal to the store.
type Syncer struct {
	store *Store
	js    jetstream.JetStream
	cfg   jetstream.KeyValueConfig
	log   *slog.Logger
	now   func() time.Time
	every time.Duration

	mu  sync.Mutex
	pub *access.Publisher
}

// NewSyncer returns a syncer of st to the bucket cfg.
func NewSyncer(st *Store, js jetstream.JetStream, cfg jetstream.KeyValueConfig, log *slog.Logger, now func() time.Time) *Syncer {
	return &Syncer{store: st, js: js, cfg: cfg, log: log, now: now, every: DefaultSyncInterval}
}

// Publisher returns the bucket's publisher, opening it on first use: NATS may be down when the
// service starts.
func (s *Syncer) Publisher(ctx context.Context) (*access.Publisher, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pub == nil {
		p, err := access.OpenPublisher(ctx, s.js, s.cfg)
		if err != nil {
			return nil, err
		}
		s.pub = p
	}
	return s.pub, nil
}

// Run syncs now and then every interval until ctx ends, retrying sooner after a failure.
func (s *Syncer) Run(ctx context.Context) error {
	retry := 250 * time.Millisecond
	for {
		next := s.every
		if err := s.Sync(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			s.log.WarnContext(ctx, "publishing the access directory failed; retrying", "error", err, "retry_in", retry)
			next, retry = retry, min(retry*2, 30*time.Second)
		} else {
			retry = 250 * time.Millisecond
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(next):
		}
	}
}

// Sync seeds the store, publishes every institution and revocation, forgets the revocations of
// expired tokens, and marks the directory seeded: only then do the services admit anyone.
func (s *Syncer) Sync(ctx context.Context) error {
	pub, err := s.Publisher(ctx)
	if err != nil {
		return err
	}
	now := s.now()
	if err := s.store.Seed(ctx, now); err != nil {
		return err
	}
	for after := ""; ; {
		page, err := s.store.Institutions(ctx, after, 100)
		if err != nil {
			return err
		}
		for _, inst := range page {
			if err := pub.PutInstitution(ctx, inst.Published()); err != nil {
				return err
			}
		}
		if len(page) < 100 {
			break
		}
		after = page[len(page)-1].Code
	}
	for after := ""; ; {
		page, err := s.store.Revocations(ctx, after, 100)
		if err != nil {
			return err
		}
		for _, r := range page {
			if err := s.publishRevocation(ctx, pub, r, now); err != nil {
				return err
			}
		}
		if len(page) < 100 {
			break
		}
		after = page[len(page)-1].Key
	}
	return pub.MarkSeeded(ctx)
}

func (s *Syncer) publishRevocation(ctx context.Context, pub *access.Publisher, r Revocation, now time.Time) error {
	switch r.Kind {
	case RevokedToken:
		if now.After(r.ExpiresAt) {
			// The token is refused as expired anyway: forget it, bucket first, so that a
			// failure in between leaves the store to try again next round.
			if err := pub.DeleteTokenRevocation(ctx, r.TokenID); err != nil {
				return err
			}
			return s.store.Forget(ctx, r.Key)
		}
		return pub.PutTokenRevocation(ctx, r.TokenID, r.ExpiresAt)
	case RevokedSubject:
		return pub.PutSubjectRevocation(ctx, r.Institution, r.Subject, r.RevokedAt)
	}
	return errors.New("revocation " + r.Key + " has unknown kind " + r.Kind)
}
