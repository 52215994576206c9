// Package requestid carries the id of the request being served through a context, and across
// process boundaries in the "x-request-id" gRPC metadata key and HTTP header.
package requestid

import (
	"context"
	"regexp"

	"github.com/google/uuid"
)

// MetadataKey is the gRPC metadata key (and, canonicalised, the HTTP header) of the request id.
const MetadataKey = "x-request-id"

type ctxKey struct{}

// valid keeps ids that callers send short and printable, so that a hostile value cannot
// pollute logs.
var valid = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

// With returns ctx carrying id.
func With(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, ctxKey{}, id)
}

// From returns the request id in ctx, or "".
func From(ctx context.Context) string {
	id, _ := ctx.Value(ctxKey{}).(string)
	return id
}

// Sanitize returns the caller's id when it is acceptable and a new one otherwise.
func Sanitize(id string) string {
	if valid.MatchString(id) {
		return id
	}
	return New()
}

// New returns a fresh request id.
func New() string { return uuid.NewString() }
