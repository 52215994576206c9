// Package server implements nrm.caseregistry.v1.CaseRegistryService.
package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	caseregistryv1 "github.com/nrm-albania/nrm/proto/nrm/caseregistry/v1"
	"github.com/nrm-albania/nrm/services/caseregistry/internal/domain"
	"github.com/nrm-albania/nrm/services/caseregistry/internal/store"
	"github.com/nrm-albania/nrm/services/platform/aggregate"
	"github.com/nrm-albania/nrm/services/platform/apierr"
	"github.com/nrm-albania/nrm/services/platform/audit"
	"github.com/nrm-albania/nrm/services/platform/auth"
	"github.com/nrm-albania/nrm/services/platform/authz"
	"github.com/nrm-albania/nrm/services/platform/outbox"
	"github.com/nrm-albania/nrm/services/platform/piicrypto"
)

// IdempotencyKeyHeader is the gRPC metadata key (REST: Idempotency-Key) that makes a
// registration safe to retry.
const IdempotencyKeyHeader = aggregate.IdempotencyKeyHeader

// EventRegistered is the type of the event a registration publishes.
const EventRegistered = "case.registered"

// Server serves the case registry.
type Server struct {
	caseregistryv1.UnimplementedCaseRegistryServiceServer
	store *store.Store
	relay interface{ Notify() }
	keys  *piicrypto.MasterKeys
	index *piicrypto.IndexKey
	trail Recorder
	log   *slog.Logger
	now   func() time.Time
	// failures counts the cases housekeeping could not handle, by task.
	failures *prometheus.CounterVec
}

// Recorder writes the audit trail of what the registry does by itself; *audit.Trail is one.
type Recorder interface {
	Record(ctx context.Context, e audit.Entry) (audit.Record, error)
}

// New returns the service over st; relay is woken after every commit; keys seal identities and
// index keys the fingerprints of requests (which contain them); trail records what the registry
// does by itself (calls are recorded by the gRPC server); its metrics are registered on reg.
func New(st *store.Store, relay interface{ Notify() }, keys *piicrypto.MasterKeys, index *piicrypto.IndexKey, trail Recorder, log *slog.Logger, reg prometheus.Registerer) *Server {
	failures := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "nrm_housekeeping_failures_total",
		Help: "Cases the registry's housekeeping could not handle in a round (retried the next), by task: retention, key-cleanup.",
	}, []string{"task"})
	reg.MustRegister(failures)
	return &Server{store: st, relay: relay, keys: keys, index: index, trail: trail, log: log, now: time.Now, failures: failures}
}

// idempotencyNamespace scopes case ids derived from idempotency keys.
var idempotencyNamespace = uuid.MustParse("0b6f6c52-2b8e-4a3e-8f0e-5b3c9a1d7e21")

// keyedCaseID is the id of the case an institution registers with an idempotency key: a key is
// the institution's own, so that another institution using the same key can neither block a
// registration nor receive this one's case. Institution codes hold no NUL, so the pair is unique.
func keyedCaseID(institution, key string) string {
	return aggregate.KeyedID(idempotencyNamespace, institution, key)
}

// registeredWithKey returns the case the institution registered with the key, or
// store.ErrNotFound. Cases registered before keys were scoped have the id derived from the key
// alone: such a case is the institution's when it owns it and was registered with that key.
func (s *Server) registeredWithKey(ctx context.Context, id, institution, key string) (domain.Case, error) {
	c, err := s.store.Get(ctx, id)
	if !errors.Is(err, store.ErrNotFound) {
		return c, err
	}
	c, err = s.store.Get(ctx, uuid.NewSHA1(idempotencyNamespace, []byte(key)).String())
	switch {
	case err != nil:
		return domain.Case{}, err
	case c.OwnerInstitution != institution || c.Idempotency == nil || c.Idempotency.Key != key:
		return domain.Case{}, store.ErrNotFound
	}
	return c, nil
}

// RegisterCase validates and stores a new case and its case.registered event in one write.
func (s *Server) RegisterCase(ctx context.Context, req *caseregistryv1.RegisterCaseRequest) (*caseregistryv1.RegisterCaseResponse, error) {
	key, err := aggregate.IdempotencyKey(ctx)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC().Truncate(time.Millisecond) // the store keeps milliseconds
	c, identity, err := domain.NewRegistration(req, domain.Today(now))
	if err != nil {
		return nil, err
	}
	// The case belongs to the institution that registers it, as its credentials say: a caller
	// acts for its own institution only. The guard has established who calls.
	p, ok := auth.FromContext(ctx)
	if !ok {
		return nil, status.Error(codes.Unauthenticated, "no principal")
	}
	c.OwnerInstitution = p.Effective().Institution
	c.Version = 1
	c.RegisteredAt, c.UpdatedAt = now, now
	if key == "" {
		c.ID = uuid.Must(uuid.NewV7()).String()
	} else {
		// The id is derived from the institution and the key, so a retry collides with the first
		// attempt's insert and can never create a second case, whatever happened to the first
		// response; and another institution's same key is another case.
		c.ID = keyedCaseID(c.OwnerInstitution, key)
		c.Idempotency = &domain.Idempotency{Key: key, RequestHash: s.fingerprint(req)}
		// A retry is answered before a case code is claimed for it, so retries leave no gaps.
		stored, err := s.registeredWithKey(ctx, c.ID, c.OwnerInstitution, key)
		switch {
		case err == nil:
			return s.replay(ctx, stored, c)
		case !errors.Is(err, store.ErrNotFound):
			return nil, err
		}
	}
	if identity != nil {
		if err := s.checkDuplicates(ctx, req.GetConfirmedDifferentPerson(), req.GetDifferentPersonReason(), *identity, c.ID); err != nil {
			return nil, err
		}
	}
	if c.Code, err = s.store.Codes.Claim(ctx, now.In(domain.Tirana).Year(), c.ID, now); err != nil {
		if errors.Is(err, store.ErrCodesExhausted) {
			return nil, status.Error(codes.ResourceExhausted, "no case codes are left for this year")
		}
		return nil, err
	}
	if identity != nil {
		if c.SealedIdentity, err = s.sealNew(ctx, c.ID, *identity); err != nil {
			return nil, err
		}
		entries := s.indexesToStore(c.ID, *identity)
		for _, e := range entries {
			c.BlindIndexes = append(c.BlindIndexes, e.Index)
		}
		if err := s.store.AddIndexes(ctx, entries); err != nil {
			return nil, err
		}
	}
	ev, err := outbox.NewEvent(ctx, EventRegistered, c.ID, c.Version, 0, registeredEvent(c), now)
	if err != nil {
		return nil, err
	}
	who := p.Effective()
	stored, err := s.store.Create(ctx, c, store.Change{
		Kind: caseregistryv1.ChangeKind_CHANGE_KIND_REGISTERED.String(), Institution: who.Institution, Subject: who.Subject, At: now,
	}, []outbox.Pending{ev})
	switch {
	case errors.Is(err, store.ErrExists): // a concurrent retry won the insert
		return s.replay(ctx, stored, c)
	case err != nil:
		return nil, err
	}
	s.relay.Notify()
	s.listNow(ctx, stored)
	s.log.InfoContext(ctx, "case registered", "case_id", c.ID, "case_code", c.Code, "version", c.Version,
		"identifying_institution", c.Identification.IdentifyingInstitution)
	return &caseregistryv1.RegisterCaseResponse{Case: s.respond(ctx, stored)}, nil
}

// sealNew gives the case its data key and seals the identity under it.
func (s *Server) sealNew(ctx context.Context, caseID string, id domain.Identity) (*domain.SealedIdentity, error) {
	key, err := s.newDataKey(ctx, caseID)
	if err != nil {
		return nil, err
	}
	defer key.Destroy()
	return seal(key, caseID, id)
}

// checkDuplicates refuses a registration of a person likely registered already, unless the
// caller confirms, with a reason, that it is someone else. Whether a person is in the database
// is itself sensitive: as FindPossibleDuplicates, the refusal names the matching cases only to
// a caller who stated a purpose, and the audit record of the call names them too.
func (s *Server) checkDuplicates(ctx context.Context, confirmed bool, reason string, id domain.Identity, caseID string) error {
	if confirmed {
		if r := strings.TrimSpace(reason); r == "" || len(r) > 200 {
			return apierr.InvalidField("different_person_reason", "is required with confirmed_different_person, 1 to 200 characters")
		}
		return nil
	}
	ds, err := s.duplicates(ctx, id, caseID)
	if err != nil || len(ds) == 0 {
		return err
	}
	if _, stated := authz.StatedPurpose(ctx); !stated {
		return refuseDuplicates(nil)
	}
	noteDuplicates(ctx, ds)
	return refuseDuplicates(ds)
}

// replay answers a retried registration with the case the first attempt stored, or refuses a
// reused key whose request differs.
func (s *Server) replay(ctx context.Context, stored, retry domain.Case) (*caseregistryv1.RegisterCaseResponse, error) {
	if stored.Idempotency == nil || !bytes.Equal(stored.Idempotency.RequestHash, retry.Idempotency.RequestHash) {
		return nil, apierr.FailedPrecondition("IDEMPOTENCY_KEY_REUSED",
			"the idempotency key was already used for a different registration; use a new key",
			map[string]string{"case_id": stored.ID})
	}
	s.log.InfoContext(ctx, "registration retried; returning the existing case", "case_id", stored.ID)
	return &caseregistryv1.RegisterCaseResponse{Case: s.respond(ctx, stored)}, nil
}

// view renders a case for the caller: the identity only as need-to-know and purpose allow.
func (s *Server) view(ctx context.Context, c domain.Case) *caseregistryv1.Case {
	out := toProto(c)
	id, v, err := s.identityFor(ctx, c)
	if err != nil {
		// The pseudonymous record is still correct; the identity stays hidden and an operator looks.
		s.log.ErrorContext(ctx, "identity could not be opened", "case_id", c.ID, "error", err)
		v = caseregistryv1.IdentityView_IDENTITY_VIEW_WITHHELD
	}
	out.Identity, out.IdentityView = id, v
	return out
}

// GetCase returns one case, found by its id or its code.
func (s *Server) GetCase(ctx context.Context, req *caseregistryv1.GetCaseRequest) (*caseregistryv1.GetCaseResponse, error) {
	id := req.GetId()
	if domain.IsCode(id) {
		var err error
		if id, err = s.store.Codes.CaseID(ctx, id); errors.Is(err, store.ErrNotFound) {
			return nil, apierr.NotFound("case", req.GetId())
		} else if err != nil {
			return nil, err
		}
	} else if err := checkIDAt("id", id); err != nil {
		return nil, apierr.InvalidField("id", "must be a case id (a UUID) or a case code VT-YYYY-NNNNN")
	}
	c, err := s.existingCase(ctx, id)
	if err != nil {
		return nil, err
	}
	return &caseregistryv1.GetCaseResponse{Case: s.respond(ctx, c)}, nil
}

// fingerprint identifies a request's content, to tell a retry from a reused key. The request
// holds the identity, whose few plausible values a plain hash would let anyone confirm, so the
// fingerprint is keyed: an HMAC under the index key (through its document-index function, over
// the hex of the request's SHA-256).
func (s *Server) fingerprint(req *caseregistryv1.RegisterCaseRequest) []byte {
	b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(req)
	sum := sha256.Sum256(b)
	return []byte(piicrypto.DocumentIndex(s.index, "registration-request", hex.EncodeToString(sum[:])))
}

func checkID(id string) error { return checkIDAt("id", id) }

// checkIDAt checks a case id found at the field path.
func checkIDAt(field, id string) error {
	if _, err := uuid.Parse(id); err != nil || len(id) != 36 {
		return apierr.InvalidField(field, "must be a case id as returned by RegisterCase (a UUID)")
	}
	return nil
}

// existingCase loads a case, NotFound when there is none.
func (s *Server) existingCase(ctx context.Context, id string) (domain.Case, error) {
	c, err := s.store.Get(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return domain.Case{}, apierr.NotFound("case", id)
	}
	return c, err
}
