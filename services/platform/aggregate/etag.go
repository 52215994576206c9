package aggregate

import (
	"context"
	"strconv"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/nrm-albania/nrm/services/platform/apierr"
)

// IfMatchHeader is the gRPC metadata key (REST: If-Match) carrying the etag a change is based on.
const IfMatchHeader = "if-match"

// ETagHeader is the response metadata key (REST: ETag) carrying an aggregate's etag.
const ETagHeader = "etag"

// ETag is the entity tag of a version: the version in quotes, e.g. "3".
func ETag(version int64) string { return `"` + strconv.FormatInt(version, 10) + `"` }

// SendETag sends version's etag as a response header.
func SendETag(ctx context.Context, version int64) {
	_ = grpc.SetHeader(ctx, metadata.Pairs(ETagHeader, ETag(version)))
}

// ExpectedVersion is the version a change is based on: the request's field (field names it), or
// the etag in If-Match; 0 when neither names one. The two must agree when both are sent.
func ExpectedVersion(ctx context.Context, field string, value int64) (int64, error) {
	if value < 0 {
		return 0, apierr.InvalidField(field, "must be a version (1 or more), got %d", value)
	}
	md, _ := metadata.FromIncomingContext(ctx)
	vals := md.Get(IfMatchHeader)
	if len(vals) == 0 {
		return value, nil
	}
	if len(vals) > 1 {
		return 0, apierr.InvalidField("If-Match", "must be sent once")
	}
	tag := strings.TrimPrefix(strings.TrimSpace(vals[0]), "W/")
	v, err := strconv.ParseInt(strings.Trim(tag, `"`), 10, 64)
	if err != nil || v < 1 || len(tag) < 3 || tag[0] != '"' || tag[len(tag)-1] != '"' {
		return 0, apierr.InvalidField("If-Match", `must be an etag this API returned, e.g. "3"`)
	}
	if value != 0 && value != v {
		return 0, apierr.InvalidField(field, "is %d but If-Match names version %d", value, v)
	}
	return v, nil
}
