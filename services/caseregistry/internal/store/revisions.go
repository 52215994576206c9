package store

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/nrm-albania/nrm/services/caseregistry/internal/domain"
	"github.com/nrm-albania/nrm/services/platform/mongodb"
	"github.com/nrm-albania/nrm/services/platform/outbox"
)

// RevisionCollection holds every version of every case, _id "<case id>@<version>".
const RevisionCollection = "case_revisions"

// Change says what a revision changed and who changed it: one entry of the case's history.
type Change struct {
	// Kind is a ChangeKind name, e.g. "CHANGE_KIND_UPDATED".
	Kind string `bson:"kind"`
	// Fields are the field paths changed, e.g. "identity.address"; never values.
	Fields        []string  `bson:"fields,omitempty"`
	Institution   string    `bson:"institution"`
	Subject       string    `bson:"subject"`
	At            time.Time `bson:"at"`
	Note          string    `bson:"note,omitempty"`
	RelatedCaseID string    `bson:"related_case_id,omitempty"`
}

// Revision is one committed version of a case.
type Revision struct {
	ID      string      `bson:"_id"`
	CaseID  string      `bson:"case_id"`
	Version int64       `bson:"version"`
	Case    domain.Case `bson:"case"`
	Change  Change      `bson:"change"`
	// Outbox holds the change's events, for the relay (outbox.Field).
	Outbox map[string]outbox.Event `bson:"outbox,omitempty"`
}

// RevisionID is the _id of version v of case id.
func RevisionID(id string, v int64) string { return fmt.Sprintf("%s@%d", id, v) }

// Commit records c, at its version, as the case's next revision with its events. The insert is
// the commit: if another writer took the version first, nothing is written and ErrConflict is
// returned. The case document is brought up to date afterwards; a crash before that leaves it
// behind until the next change or read through Current.
func (s *Store) Commit(ctx context.Context, c domain.Case, change Change, events []outbox.Pending) (domain.Case, error) {
	now := s.now()
	id := RevisionID(c.ID, c.Version)
	announced, err := outbox.AnnounceIn(ctx, s.db, RevisionCollection, id, c.ID, events, now)
	if err != nil {
		return domain.Case{}, err
	}
	change.At = change.At.UTC()
	rev := Revision{ID: id, CaseID: c.ID, Version: c.Version, Case: c, Change: change, Outbox: outbox.Map(events)}
	if _, err := s.revisions.InsertOne(ctx, rev); mongodb.IsDuplicateKey(err) {
		// The pointers are not withdrawn: they carry the winner's event ids too. Those the
		// winner does not confirm are dropped by the relay after the grace period.
		return domain.Case{}, ErrConflict
	} else if err != nil {
		return domain.Case{}, fmt.Errorf("commit case %s version %d: %w", c.ID, c.Version, err)
	}
	// Committed. Should the confirmation fail, the relay finds the events in the revision after
	// the grace period: published late, never lost.
	if _, err := s.materialize(ctx, c); err != nil {
		return c, err
	}
	_ = announced.Confirm(ctx)
	return c, nil
}

// materialize writes c to the case document, then follows any newer revisions: a writer of a
// newer version may have written before this one, whose write would then hide it.
func (s *Store) materialize(ctx context.Context, c domain.Case) (domain.Case, error) {
	if err := s.write(ctx, c); err != nil {
		return domain.Case{}, err
	}
	return s.rollForward(ctx, c)
}

// rollForward returns the latest committed version of c, writing the case document for each
// newer revision it finds. c.Version 0 means the document does not exist yet.
func (s *Store) rollForward(ctx context.Context, c domain.Case) (domain.Case, error) {
	for {
		var next Revision
		err := s.revisions.FindOne(ctx, bson.D{{Key: "_id", Value: RevisionID(c.ID, c.Version+1)}},
			options.FindOne().SetProjection(bson.D{{Key: "case", Value: 1}})).Decode(&next)
		if mongodb.IsNotFound(err) {
			return c, nil
		}
		if err != nil {
			return domain.Case{}, fmt.Errorf("load case %s version %d: %w", c.ID, c.Version+1, err)
		}
		if err := s.write(ctx, next.Case); err != nil {
			return domain.Case{}, err
		}
		c = next.Case
	}
}

// History returns up to limit revisions of case id after version after, oldest first, without
// the case snapshots. The versions are dense, so it reads them one exact _id at a time, the
// lookup every backend serves from an index, until the first that does not exist.
func (s *Store) History(ctx context.Context, id string, after int64, limit int) ([]Revision, error) {
	var out []Revision
	for v := after + 1; len(out) < limit; v++ {
		var r Revision
		err := s.revisions.FindOne(ctx, bson.D{{Key: "_id", Value: RevisionID(id, v)}},
			options.FindOne().SetProjection(bson.D{{Key: "case", Value: 0}, {Key: outbox.Field, Value: 0}})).Decode(&r)
		if mongodb.IsNotFound(err) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read the history of case %s: %w", id, err)
		}
		out = append(out, r)
	}
	return out, nil
}
