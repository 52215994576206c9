package access

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/nrm-albania/nrm/services/platform/natsbus"
)

// BucketName is the key-value bucket the directory lives in (namespaced like the streams).
const BucketName = "NRM_ACCESS"

// Key prefixes. A key is "<prefix><code or digest>"; "seeded" marks a directory the secretariat
// has published at least once, so that a service never mistakes an empty bucket (a fresh
// installation whose secretariat has not started yet) for a directory that admits nobody.
const (
	keyInstitution = "institution."
	keyToken       = "token."
	keySubject     = "subject."
	keySeeded      = "seeded"
)

// Bucket returns the bucket's configuration. One value per key is kept: the directory is state,
// not history (the secretariat's database and audit trail keep the history).
func Bucket(ns natsbus.Namespace, replicas int) jetstream.KeyValueConfig {
	return jetstream.KeyValueConfig{
		Bucket:      ns.Stream(BucketName),
		Description: "institutions known to the Authority and revoked credentials (kept by the secretariat)",
		History:     1,
		Storage:     jetstream.FileStorage,
		Replicas:    max(replicas, 1),
	}
}

type tokenValue struct {
	Expires time.Time `json:"expires"`
}

type subjectValue struct {
	Before time.Time `json:"before"`
}

// Follow keeps d equal to the bucket until ctx ends: it reads the bucket whole, then applies
// every change as the bus delivers it, and has the bus confirm the copy every quarter of the
// staleness bound. It creates the bucket if it is missing and retries for ever when the bus is
// down, so a service can start before NATS.
func (d *Directory) Follow(ctx context.Context, js jetstream.JetStream, cfg jetstream.KeyValueConfig, log *slog.Logger) error {
	wait := 250 * time.Millisecond
	for {
		err := d.follow(ctx, js, cfg)
		if ctx.Err() != nil {
			return nil
		}
		log.Warn("access directory: following the bucket failed; retrying", "bucket", cfg.Bucket, "error", err, "retry_in", wait)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
		wait = min(wait*2, 10*time.Second)
	}
}

func (d *Directory) follow(ctx context.Context, js jetstream.JetStream, cfg jetstream.KeyValueConfig) error {
	kv, err := js.CreateOrUpdateKeyValue(ctx, cfg)
	if err != nil {
		return fmt.Errorf("bucket %s: %w", cfg.Bucket, err)
	}
	w, err := kv.WatchAll(ctx)
	if err != nil {
		return fmt.Errorf("watch %s: %w", cfg.Bucket, err)
	}
	defer func() { _ = w.Stop() }()
	confirm := time.NewTicker(d.maxStale / 4)
	defer confirm.Stop()

	// The first pass is collected apart and swapped in whole once the watcher says it has
	// delivered every key: after a reconnection, keys deleted meanwhile must not linger.
	snap := newSnapshot()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case e, ok := <-w.Updates():
			if !ok {
				return errors.New("watcher closed")
			}
			switch {
			case e == nil:
				d.install(snap)
				snap = nil
			case snap != nil:
				snap.apply(e)
			default:
				d.apply(e)
			}
		case <-confirm.C:
			if _, err := kv.Status(ctx); err != nil {
				return fmt.Errorf("bucket status: %w", err)
			}
			if snap == nil {
				d.confirm()
			}
		}
	}
}

// snapshot is the directory's state, built apart from the live one.
type snapshot struct {
	institutions map[string]Institution
	tokens       map[string]time.Time
	subjects     map[string]time.Time
	seeded       bool
}

func newSnapshot() *snapshot {
	return &snapshot{institutions: map[string]Institution{}, tokens: map[string]time.Time{}, subjects: map[string]time.Time{}}
}

// apply records one entry. A value that does not decode is left out: the secretariat writes
// every value, and a bad one must not admit anybody (an institution) or be read as the zero
// time (a revocation that would refuse nothing is still refused for a token, by its key).
func (s *snapshot) apply(e jetstream.KeyValueEntry) {
	key, deleted := e.Key(), e.Operation() != jetstream.KeyValuePut
	switch {
	case key == keySeeded:
		s.seeded = !deleted
	case strings.HasPrefix(key, keyInstitution):
		var inst Institution
		if deleted || json.Unmarshal(e.Value(), &inst) != nil || inst.Code != strings.TrimPrefix(key, keyInstitution) {
			delete(s.institutions, strings.TrimPrefix(key, keyInstitution))
			return
		}
		s.institutions[inst.Code] = inst
	case strings.HasPrefix(key, keyToken):
		var v tokenValue
		if deleted {
			delete(s.tokens, key)
			return
		}
		_ = json.Unmarshal(e.Value(), &v)
		s.tokens[key] = v.Expires
	case strings.HasPrefix(key, keySubject):
		var v subjectValue
		if deleted {
			delete(s.subjects, key)
			return
		}
		if json.Unmarshal(e.Value(), &v) != nil || v.Before.IsZero() {
			// Unreadable: refuse every credential of the subject rather than none.
			v.Before = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
		}
		s.subjects[key] = v.Before
	}
}

func (d *Directory) install(s *snapshot) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.institutions, d.tokens, d.subjects, d.seeded = s.institutions, s.tokens, s.subjects, s.seeded
	d.caughtUp = true
	d.confirmed = d.now()
}

func (d *Directory) apply(e jetstream.KeyValueEntry) {
	d.mu.Lock()
	defer d.mu.Unlock()
	s := snapshot{institutions: d.institutions, tokens: d.tokens, subjects: d.subjects, seeded: d.seeded}
	s.apply(e)
	d.seeded = s.seeded
	d.confirmed = d.now()
}

// Publisher writes the directory; only the secretariat, which keeps it, uses one.
type Publisher struct {
	kv jetstream.KeyValue
}

// OpenPublisher returns a publisher to the bucket, creating the bucket if it is missing.
func OpenPublisher(ctx context.Context, js jetstream.JetStream, cfg jetstream.KeyValueConfig) (*Publisher, error) {
	kv, err := js.CreateOrUpdateKeyValue(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("access bucket %s: %w", cfg.Bucket, err)
	}
	return &Publisher{kv: kv}, nil
}

// PutInstitution publishes an institution's entry.
func (p *Publisher) PutInstitution(ctx context.Context, inst Institution) error {
	return p.put(ctx, InstitutionKey(inst.Code), inst)
}

// PutTokenRevocation publishes the revocation of the token with this jti until it expires.
func (p *Publisher) PutTokenRevocation(ctx context.Context, tokenID string, expires time.Time) error {
	return p.put(ctx, TokenKey(tokenID), tokenValue{Expires: expires.UTC()})
}

// DeleteTokenRevocation forgets a revocation whose token has expired anyway.
func (p *Publisher) DeleteTokenRevocation(ctx context.Context, tokenID string) error {
	if err := p.kv.Delete(ctx, TokenKey(tokenID)); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("access: delete token revocation: %w", err)
	}
	return nil
}

// PutSubjectRevocation publishes that credentials of the subject issued at or before `before`
// are revoked.
func (p *Publisher) PutSubjectRevocation(ctx context.Context, institution, subject string, before time.Time) error {
	return p.put(ctx, SubjectKey(institution, subject), subjectValue{Before: before.UTC()})
}

// MarkSeeded says that the directory has been published whole at least once.
func (p *Publisher) MarkSeeded(ctx context.Context) error {
	if _, err := p.kv.Put(ctx, keySeeded, []byte("1")); err != nil {
		return fmt.Errorf("access: mark seeded: %w", err)
	}
	return nil
}

func (p *Publisher) put(ctx context.Context, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if _, err := p.kv.Put(ctx, key, b); err != nil {
		return fmt.Errorf("access: put %s: %w", key, err)
	}
	return nil
}
