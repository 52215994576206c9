package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	// Also registers google.rpc.BadRequest and the other standard details, so that the details
	// a backend sends can be written as JSON.
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/nrm-albania/nrm/services/platform/apierr"
)

// errorCodec writes error bodies. It is used whatever the request's Accept header, so an error
// is always JSON.
var errorCodec = statusCodec{newJSONCodec()}

// statusCodec writes google.rpc.Status as {"code", "message", "details"}, the three always
// present (details [] when there are none) so that clients can rely on the shape, and each
// detail as the API writes any message: unset fields left out, not as "reason": "" or
// "localizedMessage": null.
type statusCodec struct{ jsonCodec }

func (c statusCodec) Marshal(v any) ([]byte, error) {
	st, ok := v.(*spb.Status)
	if !ok {
		return c.jsonCodec.Marshal(v)
	}
	body := struct {
		Code    int32             `json:"code"`
		Message string            `json:"message"`
		Details []json.RawMessage `json:"details"`
	}{Code: st.GetCode(), Message: st.GetMessage(), Details: []json.RawMessage{}}
	for _, d := range st.GetDetails() {
		b, err := c.jsonCodec.Marshal(d)
		if err != nil {
			return nil, err
		}
		body.Details = append(body.Details, b)
	}
	return json.Marshal(body)
}

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
		st = keepResolvableDetails(st)
		if x.rpc != nil {
			st = withJSONFieldPaths(st, x.rpc)
		}
		err = st.Err()
	}
	runtime.DefaultHTTPErrorHandler(ctx, mux, errorCodec, &challengeWriter{ResponseWriter: w, r: r}, r, err)
}

// realm names the protection space in the Bearer challenge.
const realm = "nrm"

// challengeWriter corrects WWW-Authenticate as the status is written. grpc-gateway sets it to the
// status message on every Unauthenticated, which is not a challenge a client can parse; RFC 6750
// wants the Bearer scheme, with error="invalid_token" when a token was sent and refused, and no
// error code when none was sent. No other status carries a challenge (a 403 means the caller is
// known and may not, so authenticating again would not help).
type challengeWriter struct {
	http.ResponseWriter
	r *http.Request
}

func (c *challengeWriter) WriteHeader(code int) {
	h := c.Header()
	if code == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", bearerChallenge(c.r))
	} else {
		h.Del("WWW-Authenticate")
	}
	c.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (c *challengeWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }

func bearerChallenge(r *http.Request) string {
	if _, sent := r.Header["Authorization"]; sent {
		return `Bearer realm="` + realm + `", error="invalid_token"`
	}
	return `Bearer realm="` + realm + `"`
}

// errRateLimited is 429 with ResourceExhausted, the code gRPC gives a quota exceeded.
func errRateLimited(retryAfterSecs int) error {
	return &runtime.HTTPStatusError{
		HTTPStatus: http.StatusTooManyRequests,
		Err: status.Errorf(codes.ResourceExhausted,
			"too many requests from this caller; retry after %d s (see the Retry-After header)", retryAfterSecs),
	}
}

// checkForwardedHeaders refuses a header the gateway would forward as gRPC metadata when its
// value is not printable ASCII. HTTP allows such bytes (an X-NRM-Purpose typed in Albanian,
// "për", is one), gRPC metadata does not, and grpc-gateway silently leaves such a value out: the
// service would then answer "state a purpose" to a caller who did, or write an audit record
// without the purpose given, or see no token where one was sent. A 400 naming the header tells
// the caller what to change, before any backend is called.
func checkForwardedHeaders(h http.Header) error {
	for name, values := range h {
		if _, forwarded := incomingHeader(name); !forwarded && name != "Authorization" {
			continue // Authorization is forwarded by grpc-gateway itself, not by the matcher
		}
		for _, v := range values {
			if !printableASCII(v) {
				return invalidHeader(name, "must contain printable ASCII characters only (gRPC metadata cannot carry others)")
			}
		}
	}
	return nil
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// invalidHeader is InvalidArgument with a field violation naming the header, the shape the
// services give an invalid field.
func invalidHeader(name, description string) error {
	msg := "invalid header " + name + ": " + description
	st, err := status.New(codes.InvalidArgument, msg).WithDetails(&errdetails.BadRequest{
		FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: name, Description: description}},
	})
	if err != nil {
		return status.Error(codes.InvalidArgument, msg)
	}
	return st.Err()
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

// withJSONFieldPaths rewrites the field paths of st's BadRequest details from the proto spelling
// the services use to the JSON spelling of the REST request. gRPC callers keep the proto paths:
// only the REST answer is changed.
func withJSONFieldPaths(st *status.Status, rt *route) *status.Status {
	p := st.Proto()
	for i, d := range p.Details {
		var br errdetails.BadRequest
		if !d.MessageIs(&br) || d.UnmarshalTo(&br) != nil {
			continue
		}
		for _, v := range br.FieldViolations {
			v.Field = rt.jsonPath(v.Field)
		}
		if a, err := anypb.New(&br); err == nil {
			p.Details[i] = a
		}
	}
	return status.FromProto(p)
}

// errUnknownQuery names every query parameter the route does not read.
func errUnknownQuery(rt *route, unknown []string) error {
	accepted := "it takes none"
	if params := rt.queryParams(); len(params) > 0 {
		accepted = "it takes " + strings.Join(params, ", ")
	}
	var v apierr.Violations
	for _, name := range unknown {
		v.Add(name, "is not a query parameter of %s %s; %s", rt.method, rt.template, accepted)
	}
	return v.Err()
}

// routingError answers a request that matches no route. grpc-gateway's default would turn a
// wrong method into Unimplemented and so into 501; it is 405, with the methods the path has in
// Allow as RFC 9110 asks.
func (rs routes) routingError(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, httpStatus int) {
	var err error
	switch httpStatus {
	case http.StatusNotFound:
		err = status.Errorf(codes.NotFound, "no route for %s %s", r.Method, r.URL.Path)
	case http.StatusMethodNotAllowed:
		if allowed := rs.allowed(r.URL.Path); len(allowed) > 0 {
			w.Header().Set("Allow", strings.Join(allowed, ", "))
		}
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
