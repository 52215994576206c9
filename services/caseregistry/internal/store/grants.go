package store

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/nrm-albania/nrm/services/platform/mongodb"
)

// GrantCollection holds the institutions given access to cases' identities beyond their owners:
// one document per grant, _id "<case id>|<institution>", so that a check is one lookup by _id.
const GrantCollection = "case_identity_grants"

type grant struct {
	ID          string    `bson:"_id"`
	CaseID      string    `bson:"case_id"`
	Institution string    `bson:"institution"`
	Reason      string    `bson:"reason"`
	GrantedAt   time.Time `bson:"granted_at"`
}

func grantID(caseID, institution string) string { return caseID + "|" + institution }

// Grant records that institution may see caseID's identity. Granting twice is a no-op.
func (s *Store) Grant(ctx context.Context, caseID, institution, reason string, now time.Time) error {
	_, err := s.db.Collection(GrantCollection).InsertOne(ctx, grant{
		ID: grantID(caseID, institution), CaseID: caseID, Institution: institution, Reason: reason, GrantedAt: now.UTC(),
	})
	if err != nil && !mongodb.IsDuplicateKey(err) {
		return fmt.Errorf("grant %s access to case %s: %w", institution, caseID, err)
	}
	return nil
}

// Revoke ends a grant; revoking what was not granted is a no-op.
func (s *Store) Revoke(ctx context.Context, caseID, institution string) error {
	if _, err := s.db.Collection(GrantCollection).DeleteOne(ctx, bson.D{{Key: "_id", Value: grantID(caseID, institution)}}); err != nil {
		return fmt.Errorf("revoke %s access to case %s: %w", institution, caseID, err)
	}
	return nil
}

// Granted reports whether institution was granted access to caseID's identity.
func (s *Store) Granted(ctx context.Context, caseID, institution string) (bool, error) {
	// FindOne, not CountDocuments: FerretDB serves a find by _id alone from an index, not a count.
	err := s.db.Collection(GrantCollection).FindOne(ctx, bson.D{{Key: "_id", Value: grantID(caseID, institution)}}).Err()
	switch {
	case mongodb.IsNotFound(err):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("check %s access to case %s: %w", institution, caseID, err)
	}
	return true, nil
}
