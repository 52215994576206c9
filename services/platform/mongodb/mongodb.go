// Package mongodb connects a service to its own database through the official driver. The same
// code runs against MongoDB and against FerretDB (embedded or on PostgreSQL); see
// docs/decisions.md for the subset of MongoDB it relies on.
package mongodb

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readconcern"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"
)

// Connect returns a client for uri. It does not wait for the server: a service starts even while
// its database is down, and readiness (Check) says so.
func Connect(uri, appName string) (*mongo.Client, error) {
	c, err := mongo.Connect(Options(uri, appName))
	if err != nil {
		return nil, fmt.Errorf("mongodb client for %s: %w", redact(uri), err)
	}
	return c, nil
}

// Options are the client options of every service. They set the durability the services rely
// on, whatever the connection string says ("the insert is the commit", docs/decisions.md 1):
//
//   - writes are acknowledged once a majority of the replica set's data-bearing voting members
//     have them in their on-disk journal (w: majority, j: true). A write acknowledged by the
//     primary alone is rolled back if the primary fails before a secondary copied it: a commit
//     the caller was told about, and whose event may already be published, would vanish.
//   - reads return only data a majority has (read concern majority), so that no one acts on a
//     write that a failover may still roll back (the relay publishing its event, say).
//
// FerretDB accepts both and, having a single store underneath, has nothing to wait for.
func Options(uri, appName string) *options.ClientOptions {
	return options.Client().ApplyURI(uri).
		SetAppName(appName).
		SetServerSelectionTimeout(5 * time.Second).
		SetConnectTimeout(5 * time.Second).
		SetRetryWrites(true).
		SetWriteConcern(&writeconcern.WriteConcern{W: "majority", Journal: &journal}).
		SetReadConcern(readconcern.Majority())
}

// journal is the write concern's j, addressable.
var journal = true

// Check pings the primary; it is the readiness check for the database.
func Check(c *mongo.Client) func(context.Context) error {
	return func(ctx context.Context) error {
		return c.Ping(ctx, readpref.Primary())
	}
}

// IsDuplicateKey reports whether err is a unique-index violation. On FerretDB this is reliable
// for inserts only (ARCHITECTURE.md), which is why the services detect conflicts by inserting.
func IsDuplicateKey(err error) bool {
	return mongo.IsDuplicateKeyError(err)
}

// ErrNotFound is what the platform's stores return for a document that does not exist.
var ErrNotFound = errors.New("not found")

// IsNotFound reports whether err means that no document matched.
func IsNotFound(err error) bool {
	return errors.Is(err, mongo.ErrNoDocuments)
}

// redact hides credentials in a connection string before it reaches a log or an error.
func redact(uri string) string {
	opts := options.Client().ApplyURI(uri)
	if opts.Auth != nil && opts.Auth.Password != "" {
		return "mongodb://<redacted>@" + fmt.Sprint(opts.Hosts)
	}
	return uri
}

// ErrUnavailable marks a failure of the database to answer at all (down, unreachable, too
// slow), as opposed to an error in what was asked: a caller may retry it, and an API answers
// Unavailable rather than Internal.
var ErrUnavailable = errors.New("database unavailable")

// Classify wraps err in ErrUnavailable when it means the database did not answer.
func Classify(err error) error {
	if err != nil && (mongo.IsTimeout(err) || mongo.IsNetworkError(err)) && !errors.Is(err, ErrUnavailable) {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return err
}
