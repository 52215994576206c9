package gateway

import (
	"context"
	"io"
	"net/http"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"

	"github.com/nrm-albania/nrm/services/platform/requestid"
)

// requestIDHeader is the HTTP spelling of the request id's metadata key.
var requestIDHeader = http.CanonicalHeaderKey(requestid.MetadataKey)

// exchange is what the layers serving one request tell each other through its context: the mux
// reports the route it matched, the body reader why the body could not be read, the error
// handler a cause it kept from the caller.
type exchange struct {
	maxBody int64
	route   string
	bodyErr error
	cause   string
}

type exchangeKey struct{}

// exchangeFrom returns the request's exchange. The mux is only served behind the edge, which
// gives every request one; the zero exchange returned otherwise just records nothing.
func exchangeFrom(ctx context.Context) *exchange {
	if x, ok := ctx.Value(exchangeKey{}).(*exchange); ok {
		return x
	}
	return &exchange{}
}

// edge wraps the mux with what every request gets before routing: a request id, security
// headers, a deadline, a bounded body, and a log line and metrics afterwards.
type edge struct {
	next    http.Handler
	mux     *runtime.ServeMux
	obs     *observer
	maxBody int64
	timeout time.Duration
}

func (e *edge) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	x := &exchange{maxBody: e.maxBody}
	id := requestid.Sanitize(r.Header.Get(requestIDHeader))
	ctx, cancel := context.WithTimeout(requestid.With(context.WithValue(r.Context(), exchangeKey{}, x), id), e.timeout)
	defer cancel()
	r = r.WithContext(ctx)

	h := w.Header()
	h.Set(requestIDHeader, id)
	setSecurityHeaders(h)
	rec := &recorder{ResponseWriter: w, status: http.StatusOK}

	// A declared length over the limit is refused before a byte of the body is read; a chunked
	// body is cut off by MaxBytesReader when it gets there.
	if r.ContentLength > e.maxBody {
		runtime.HTTPError(ctx, e.mux, errorCodec, rec, r, errBodyTooLarge(e.maxBody))
	} else {
		r.Body = &limitedBody{ReadCloser: http.MaxBytesReader(w, r.Body, e.maxBody), x: x}
		e.next.ServeHTTP(rec, r)
	}
	e.obs.observe(ctx, r, x, rec, time.Since(start))
}

// setSecurityHeaders sets the headers every response carries. The API only ever returns JSON,
// so a browser must neither sniff it into something executable, nor frame it, nor cache it
// (responses hold personal data), nor leak the URL to another site.
func setSecurityHeaders(h http.Header) {
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
}

// limitedBody is the request body behind http.MaxBytesReader. It records a failed read in the
// exchange, because the generated handlers flatten the read error into InvalidArgument text and
// the error handler could not otherwise tell a body too large or too slow from bad JSON.
type limitedBody struct {
	io.ReadCloser
	x *exchange
}

func (b *limitedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		b.x.bodyErr = err
	}
	return n, err
}

// recorder notes the status and size of the response for the log line and the metrics.
type recorder struct {
	http.ResponseWriter
	status      int
	bytes       int64
	wroteHeader bool
}

func (r *recorder) WriteHeader(code int) {
	if !r.wroteHeader {
		r.status, r.wroteHeader = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(p []byte) (int, error) {
	r.wroteHeader = true
	n, err := r.ResponseWriter.Write(p)
	r.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection's writer (flush, deadlines).
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
