package gateway

import (
	"context"
	"errors"
	"net"
	"net/http"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	// Registers google.rpc.BadRequest and the other standard details, so that the details a
	// backend sends can be written as JSON.
	_ "google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// errorCodec writes error bodies: google.rpc.Status as {"code", "message", "details"}, every
// field present even when empty (grpc-gateway's default error shape), so that clients can rely
// on it. It is used whatever the request's Accept header, so an error is always JSON.
var errorCodec = &runtime.JSONPb{MarshalOptions: protojson.MarshalOptions{EmitUnpopulated: true}}

// writeError is the mux's error handler: grpc-gateway's default (HTTP status from the gRPC code,
// server metadata forwarded) with the gateway's corrections.
func writeError(ctx context.Context, mux *runtime.ServeMux, _ runtime.Marshaler, w http.ResponseWriter, r *http.Request, err error) {
	x := exchangeFrom(ctx)
	switch st, isStatus := status.FromError(err); {
	case x.bodyErr != nil:
		err = bodyReadError(x)
	case isStatus && st.Code() == codes.Unavailable:
		// A connection failure's message names the backend's internal address. The caller only
		// needs to know to retry; the cause goes to the log.
		x.cause = st.Message()
		err = errUnavailable
	case isStatus:
		err = keepResolvableDetails(st).Err()
	}
	runtime.DefaultHTTPErrorHandler(ctx, mux, errorCodec, w, r, err)
}

// errUnavailable replaces every Unavailable the caller would see.
var errUnavailable = status.Error(codes.Unavailable, "the service is temporarily unavailable; retry later")

// bodyReadError answers a body that could not be read in full. The generated handler reports it
// as InvalidArgument with the read error's text, which names the gateway's own address and does
// not tell the caller what to change.
func bodyReadError(x *exchange) error {
	if _, ok := errors.AsType[*http.MaxBytesError](x.bodyErr); ok {
		return errBodyTooLarge(x.maxBody)
	}
	x.cause = "reading the request body: " + x.bodyErr.Error()
	if ne, ok := errors.AsType[net.Error](x.bodyErr); ok && ne.Timeout() {
		return &runtime.HTTPStatusError{
			HTTPStatus: http.StatusRequestTimeout,
			Err:        status.Error(codes.DeadlineExceeded, "the request body did not arrive in time"),
		}
	}
	return status.Error(codes.InvalidArgument, "the request body could not be read")
}

// errBodyTooLarge is 413 with ResourceExhausted, the code gRPC itself gives a message over the
// size limit.
func errBodyTooLarge(limit int64) error {
	return &runtime.HTTPStatusError{
		HTTPStatus: http.StatusRequestEntityTooLarge,
		Err:        status.Errorf(codes.ResourceExhausted, "request body exceeds the limit of %d bytes", limit),
	}
}

// keepResolvableDetails drops the details whose type this binary does not know. protojson cannot
// write those, and grpc-gateway would then replace the backend's error, code and all, with a
// bare 500.
func keepResolvableDetails(st *status.Status) *status.Status {
	p := st.Proto()
	kept := p.Details[:0]
	for _, d := range p.Details {
		if _, err := protoregistry.GlobalTypes.FindMessageByURL(d.GetTypeUrl()); err == nil {
			kept = append(kept, d)
		}
	}
	p.Details = kept
	return status.FromProto(p)
}

// routingError answers a request that matches no route. grpc-gateway's default would turn a
// wrong method into Unimplemented and so into 501; it is 405.
func routingError(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, httpStatus int) {
	var err error
	switch httpStatus {
	case http.StatusNotFound:
		err = status.Errorf(codes.NotFound, "no route for %s %s", r.Method, r.URL.Path)
	case http.StatusMethodNotAllowed:
		err = &runtime.HTTPStatusError{
			HTTPStatus: http.StatusMethodNotAllowed,
			Err:        status.Errorf(codes.Unimplemented, "method %s is not allowed on %s", r.Method, r.URL.Path),
		}
	default: // 400: the mux cannot read the path at all
		err = &runtime.HTTPStatusError{
			HTTPStatus: httpStatus,
			Err:        status.Errorf(codes.InvalidArgument, "invalid request path %q", r.URL.Path),
		}
	}
	runtime.HTTPError(ctx, mux, m, w, r, err)
}
