package server

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"

	caseregistryv1 "github.com/nrm-albania/nrm/proto/nrm/caseregistry/v1"
	"github.com/nrm-albania/nrm/services/caseregistry/internal/domain"
	"github.com/nrm-albania/nrm/services/caseregistry/internal/store"
	"github.com/nrm-albania/nrm/services/platform/apierr"
	"github.com/nrm-albania/nrm/services/platform/auth"
	"github.com/nrm-albania/nrm/services/platform/outbox"
)

// IfMatchHeader is the gRPC metadata key (REST: If-Match) carrying the etag a change is based on.
const IfMatchHeader = "if-match"

// ETagHeader is the response metadata key (REST: ETag) carrying the case's etag.
const ETagHeader = "etag"

// maxAttempts bounds how often a change without an expected version is decided again after
// losing a race to a concurrent change.
const maxAttempts = 5

// event is one event of a change, before it is enveloped.
type event struct {
	typ     string
	payload proto.Message
}

// outcome is what a command decided: the next state of the case, the history entry, the events.
type outcome struct {
	next   domain.Case
	change store.Change // Kind, Fields, Note, RelatedCaseID; who and when are filled in by apply
	events []event
	// noop: nothing changes; the caller gets the case as it is.
	noop bool
	// after runs once the change has committed: clean-up that must not happen if it fails.
	after func(context.Context) error
}

// apply carries out a command on one case: it loads the latest version, checks that the caller
// is involved in the case and that the version is the one expected (0: any), lets decide compute
// the change, and commits it as the next version with its events. A change that loses a race is
// ABORTED when the caller named its version; otherwise it is decided again on the new state.
func (s *Server) apply(ctx context.Context, id string, expected int64, decide func(domain.Case) (outcome, error)) (domain.Case, error) {
	p, ok := auth.FromContext(ctx)
	if !ok {
		return domain.Case{}, errors.New("no principal") // the guard admits none without one
	}
	who := p.Effective()
	for attempt := 1; ; attempt++ {
		c, err := s.store.Current(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return domain.Case{}, apierr.NotFound("case", id)
		}
		if err != nil {
			return domain.Case{}, err
		}
		if !isSystem(ctx) {
			if err := s.mayChange(ctx, who, c); err != nil {
				return domain.Case{}, err
			}
		}
		if expected != 0 && c.Version != expected {
			return domain.Case{}, stale(c.ID, expected, c.Version)
		}
		out, err := decide(c)
		if err != nil {
			return domain.Case{}, err
		}
		if out.noop {
			return c, nil
		}
		now := s.now().UTC().Truncate(time.Millisecond)
		next := out.next
		next.Version, next.UpdatedAt = c.Version+1, now
		change := out.change
		change.Institution, change.Subject, change.At = who.Institution, who.Subject, now
		events := make([]outbox.Pending, len(out.events))
		for i, e := range out.events {
			if events[i], err = outbox.NewEvent(ctx, e.typ, c.ID, next.Version, i, e.payload, now); err != nil {
				return domain.Case{}, err
			}
		}
		committed, err := s.store.Commit(ctx, next, change, events)
		if errors.Is(err, store.ErrConflict) {
			// Another change committed the next version first. Read the case again: a change
			// based on a named version is then refused naming the version that won; one based on
			// none is decided again on it.
			if attempt < maxAttempts {
				continue
			}
			latest, err := s.store.Current(ctx, id)
			if err != nil {
				return domain.Case{}, err
			}
			return domain.Case{}, stale(c.ID, c.Version, latest.Version)
		}
		if err != nil {
			return domain.Case{}, err
		}
		s.relay.Notify()
		s.listNow(ctx, committed)
		if out.after != nil {
			if err := out.after(ctx); err != nil {
				// Committed all the same; what after cleans up is harmless if left.
				s.log.WarnContext(ctx, "clean-up after a change failed", "case_id", c.ID, "version", next.Version, "error", err)
			}
		}
		s.log.InfoContext(ctx, "case changed", "case_id", c.ID, "case_code", c.Code, "version", next.Version,
			"change", change.Kind, "fields", strings.Join(change.Fields, ","))
		return committed, nil
	}
}

// stale is ABORTED (HTTP 409) for a change based on a version the case has left, naming the
// version it is at now so that the caller knows what to read and reapply its change to.
func stale(id string, based, current int64) error {
	return apierr.Aborted("VERSION_CONFLICT",
		fmt.Sprintf("case %s changed since version %d: the current version is %d; read it again and reapply the change to it", id, based, current),
		map[string]string{
			"case_id":          id,
			"expected_version": strconv.FormatInt(based, 10),
			"current_version":  strconv.FormatInt(current, 10),
		})
}

// mayChange lets the institutions involved in a case change it: its owner, the chair, the
// secretariat and institutions granted access.
func (s *Server) mayChange(ctx context.Context, who *auth.Principal, c domain.Case) error {
	involved, err := s.needsToKnow(ctx, who, c)
	if err != nil {
		return err
	}
	if !involved {
		return apierr.PermissionDenied("NOT_INVOLVED",
			fmt.Sprintf("%s is not involved in case %s: only its owner, the chair, the secretariat and institutions granted access change it", who.Institution, c.ID),
			map[string]string{"case_id": c.ID, "owner_institution": c.OwnerInstitution})
	}
	return nil
}

// expectedVersion is the version a change is based on: the request's field, or the etag in
// If-Match; 0 when neither names one.
func expectedVersion(ctx context.Context, field int64) (int64, error) {
	if field < 0 {
		return 0, apierr.InvalidField("expected_version", "must be a version (1 or more), got %d", field)
	}
	md, _ := metadata.FromIncomingContext(ctx)
	vals := md.Get(IfMatchHeader)
	if len(vals) == 0 {
		return field, nil
	}
	if len(vals) > 1 {
		return 0, apierr.InvalidField("If-Match", "must be sent once")
	}
	tag := strings.TrimPrefix(strings.TrimSpace(vals[0]), "W/")
	v, err := strconv.ParseInt(strings.Trim(tag, `"`), 10, 64)
	if err != nil || v < 1 || len(tag) < 3 || tag[0] != '"' || tag[len(tag)-1] != '"' {
		return 0, apierr.InvalidField("If-Match", `must be the case's etag, e.g. "3"`)
	}
	if field != 0 && field != v {
		return 0, apierr.InvalidField("expected_version", "is %d but If-Match names version %d", field, v)
	}
	return v, nil
}

// respond renders the case for the caller and sends its etag as a response header.
func (s *Server) respond(ctx context.Context, c domain.Case) *caseregistryv1.Case {
	_ = grpc.SetHeader(ctx, metadata.Pairs(ETagHeader, etag(c.Version)))
	return s.view(ctx, c)
}

// today is the calendar date in Tirana now.
func (s *Server) today() string { return domain.Today(s.now()) }

// institution is the caller's institution, as its credentials say.
func (s *Server) institution(ctx context.Context) string {
	p, _ := auth.FromContext(ctx)
	return p.Effective().Institution
}
