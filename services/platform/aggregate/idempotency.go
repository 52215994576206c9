package aggregate

import (
	"context"

	"github.com/google/uuid"
	"google.golang.org/grpc/metadata"

	"github.com/nrm-albania/nrm/services/platform/apierr"
)

// IdempotencyKeyHeader is the gRPC metadata key (REST: Idempotency-Key) that makes a creation
// safe to retry.
const IdempotencyKeyHeader = "idempotency-key"

// IdempotencyKey returns the request's idempotency key, "" when it sent none.
func IdempotencyKey(ctx context.Context) (string, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	vals := md.Get(IdempotencyKeyHeader)
	switch {
	case len(vals) == 0:
		return "", nil
	case len(vals) > 1:
		return "", apierr.InvalidField(IdempotencyKeyHeader, "must be sent once")
	}
	k := vals[0]
	if len(k) == 0 || len(k) > 128 {
		return "", apierr.InvalidField(IdempotencyKeyHeader, "must be 1 to 128 characters")
	}
	for _, r := range k {
		if r < 0x21 || r > 0x7e {
			return "", apierr.InvalidField(IdempotencyKeyHeader, "must be printable ASCII without spaces")
		}
	}
	return k, nil
}

// KeyedID derives the id of the aggregate an institution creates with an idempotency key, in the
// aggregate type's namespace. A retry derives the same id, so its Create collides with the first
// attempt's and can never create a second aggregate, whatever happened to the first response;
// another institution's same key is another aggregate.
func KeyedID(namespace uuid.UUID, institution, key string) string {
	return uuid.NewSHA1(namespace, []byte(institution+"\x00"+key)).String()
}
