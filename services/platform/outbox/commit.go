package outbox

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/nrm-albania/nrm/services/platform/mongodb"
)

// Commit is steps 1 and 2 of the protocol for a document that holds events: it announces the
// events on behalf of aggregateID, then claims document's _id in collection by inserting doc,
// which must hold the same events under Field (mongodb.Claim). The insert is the commit.
//
// It returns the announcement, for the writer to Confirm once it is done with the commit (step
// 3), or mongodb.ErrTaken when another writer claimed the _id first: nothing was committed, and
// the pointers stay for the relay to settle unless the caller may Withdraw them.
func Commit(ctx context.Context, db *mongo.Database, collection, document, aggregateID string, doc any, events []Pending, now time.Time) (Announcement, error) {
	announced, err := AnnounceIn(ctx, db, collection, document, aggregateID, events, now)
	if err != nil {
		return Announcement{}, err
	}
	switch err := mongodb.Claim(ctx, db.Collection(collection), doc); {
	case errors.Is(err, mongodb.ErrTaken):
		return announced, err
	case err != nil:
		return Announcement{}, fmt.Errorf("commit %s/%s: %w", collection, document, err)
	}
	return announced, nil
}
