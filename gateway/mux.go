package gateway

import (
	"context"
	"net/http"
	"net/textproto"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/nrm-albania/nrm/services/platform/requestid"
)

// idempotencyKey is the metadata key under which RegisterCase and later mutations find the
// caller's Idempotency-Key header.
const idempotencyKey = "idempotency-key"

// purposeKey is the metadata key under which the services find the purpose a caller states for
// reading personal data (REST header X-NRM-Purpose) and write it into the audit trail. It must
// equal authz.PurposeKey in the platform.
const purposeKey = "x-nrm-purpose"

// ifMatchKey and etagKey carry optimistic concurrency: a change names the version it is based
// on in If-Match (metadata if-match), and the case registry answers a case's version as its
// etag (metadata etag), which the edge returns as the ETag header.
const (
	ifMatchKey = "if-match"
	etagKey    = "etag"
)

// newMux returns the REST mux over the backends, plus GET /openapi.json.
func newMux(ctx context.Context, bs backends) (*runtime.ServeMux, error) {
	rs, err := bs.routes()
	if err != nil {
		return nil, err
	}
	var mux *runtime.ServeMux // the handlers below answer errors through it
	mux = runtime.NewServeMux(
		// A google.api.HttpBody answer (a letter's attachment) is written as itself, with its
		// content type; everything else is JSON.
		runtime.WithMarshalerOption(runtime.MIMEWildcard, &runtime.HTTPBodyMarshaler{Marshaler: newJSONCodec()}),
		runtime.WithIncomingHeaderMatcher(incomingHeader),
		runtime.WithOutgoingHeaderMatcher(outgoingHeader),
		runtime.WithMetadata(requestIDMetadata),
		runtime.WithErrorHandler(writeError),
		runtime.WithRoutingErrorHandler(rs.routingError),
		runtime.WithMiddlewares(func(next runtime.HandlerFunc) runtime.HandlerFunc { return rs.checkRoute(mux, next) }),
		// A form-encoded POST would otherwise be served by the GET route of the same path, and a
		// header could turn a POST into any other method: the API has exactly the routes the
		// OpenAPI document lists.
		runtime.WithDisablePathLengthFallback(),
		runtime.WithDisableHTTPMethodOverride(),
	)
	if err := mux.HandlePath(http.MethodGet, openAPIPath, serveOpenAPI); err != nil {
		return nil, err
	}
	// The document takes no parameters.
	rs.addGet(openAPIPath, (&emptypb.Empty{}).ProtoReflect().Descriptor())
	if err := bs.registerOn(ctx, mux); err != nil {
		return nil, err
	}
	return mux, nil
}

// incomingHeader chooses the request headers forwarded as gRPC metadata: grpc-gateway's default
// (permanent HTTP headers as grpcgateway-*) plus Idempotency-Key, X-NRM-Purpose and If-Match. X-Request-Id
// is not forwarded as sent: requestIDMetadata forwards the id the edge checked or made.
//
// The caller's credentials are forwarded as they came and the gateway adds none of its own: the
// services authenticate and authorize the caller themselves and trust nothing about the gateway.
func incomingHeader(key string) (string, bool) {
	switch textproto.CanonicalMIMEHeaderKey(key) {
	case "Idempotency-Key":
		return idempotencyKey, true
	case "X-Nrm-Purpose": // X-NRM-Purpose, canonicalized
		return purposeKey, true
	case "If-Match":
		return ifMatchKey, true
	case "Authorization":
		// grpc-gateway always forwards it as "authorization" already; the default matcher
		// would send the credential a second time as grpcgateway-authorization.
		return "", false
	}
	return runtime.DefaultHeaderMatcher(key)
}

// outgoingHeader forwards the backend's response headers as grpc-gateway does by default
// (Grpc-Metadata-*), except the request id, which the edge already returns as X-Request-Id, and
// the etag, which is the standard ETag header.
func outgoingHeader(key string) (string, bool) {
	if strings.EqualFold(key, etagKey) {
		return "ETag", true
	}
	// The request id is already the X-Request-Id header; content-type describes the gRPC hop,
	// not this response.
	if strings.EqualFold(key, requestid.MetadataKey) || strings.EqualFold(key, "content-type") {
		return "", false
	}
	return runtime.MetadataHeaderPrefix + key, true
}

// requestIDMetadata sends the request id to the backend, which logs it and quotes it in errors.
func requestIDMetadata(ctx context.Context, _ *http.Request) metadata.MD {
	return metadata.Pairs(requestid.MetadataKey, requestid.From(ctx))
}

// checkRoute tells the edge which route pattern matched, for the log line and the metrics, and
// the error handler which request message the route has; then it refuses query parameters the
// route does not read.
func (rs routes) checkRoute(mux *runtime.ServeMux, next runtime.HandlerFunc) runtime.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request, params map[string]string) {
		ctx := r.Context()
		x := exchangeFrom(ctx)
		if p, ok := runtime.HTTPPattern(ctx); ok {
			x.route = routeName(p)
			x.rpc = rs[routeKey(r.Method, x.route)]
		}
		if x.rpc != nil {
			if unknown := x.rpc.unknownQuery(r.URL.Query()); len(unknown) > 0 {
				runtime.HTTPError(ctx, mux, errorCodec, w, r, errUnknownQuery(x.rpc, unknown))
				return
			}
		}
		next(w, r, params)
	}
}

// routeName writes a pattern as the OpenAPI document does: grpc-gateway prints "{id}" in its
// long form "{id=*}".
func routeName(p runtime.Pattern) string {
	return strings.ReplaceAll(p.String(), "=*}", "}")
}
