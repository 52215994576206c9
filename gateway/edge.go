package gateway

import (
	"context"
	"io"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/cors"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/nrm-albania/nrm/services/platform/auth"
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
	rpc     *route // the matched route's rule; nil when none matched
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
// headers, CORS, a deadline, a per-principal rate limit, checked headers and a bounded body, and
// a log line and metrics afterwards. Every check answers the request itself when it fails, so
// that only a request that passed them all reaches the mux, and through it a backend.
type edge struct {
	next    http.Handler
	mux     *runtime.ServeMux
	obs     *observer
	maxBody int64
	timeout time.Duration
	// cors is nil when no origin is allowed: then no CORS header is ever sent.
	cors *cors.Cors
	// authn verifies bearer tokens as the services do.
	authn *auth.Authenticator
	// limiter is nil when the rate limit is disabled.
	limiter *rateLimiter
	limits  limits
	proxies []netip.Prefix
	limited *prometheus.CounterVec
}

// newEdge builds the edge from the parsed settings and registers its metrics on reg. tokens
// verifies bearer tokens; the rate limiter runs on the clock now (time.Now when nil).
func newEdge(cfg Config, es edgeSettings, tokens *auth.JWTVerifier, now func() time.Time, mux *runtime.ServeMux, obs *observer, reg prometheus.Registerer) *edge {
	e := &edge{
		next:    mux,
		mux:     mux,
		obs:     obs,
		maxBody: int64(cfg.MaxBodyBytes),
		timeout: cfg.RequestTimeout,
		cors:    newCORS(es.origins),
		authn:   &auth.Authenticator{JWT: tokens},
		limits:  es.limits,
		proxies: es.proxies,
		limited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_rate_limited_requests_total",
			Help: "Requests refused with 429 by the per-principal rate limit, by kind of principal (token or address).",
		}, []string{"principal"}),
	}
	reg.MustRegister(e.limited)
	if cfg.RateLimit > 0 {
		e.limiter = newRateLimiter(maxPrincipals, now)
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "gateway_rate_limit_principals",
			Help: "Principals (verified callers or client addresses) the rate limiter currently tracks.",
		}, func() float64 { return float64(e.limiter.size()) }))
	}
	return e
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
	setSecurityHeaders(h, r.TLS != nil)
	rec := &recorder{ResponseWriter: w, status: http.StatusOK}

	if e.cors != nil {
		// Before anything can refuse the request, so that the portal can read its errors too
		// (a 401 or 429 without CORS headers looks to the page like a network failure).
		e.cors.HandlerFunc(rec, r)
		if isPreflight(r) {
			// Answered (204, with CORS headers only for an allowed origin). A preflight carries
			// no credentials and reaches no backend, so it costs no principal its budget.
			e.obs.observe(ctx, r, x, rec, time.Since(start))
			return
		}
	}
	if err := e.admit(h, r, x); err != nil {
		runtime.HTTPError(ctx, e.mux, errorCodec, rec, r, err)
	} else {
		// A chunked body is cut off by MaxBytesReader when it gets over the limit.
		r.Body = &limitedBody{ReadCloser: http.MaxBytesReader(w, r.Body, e.maxBody), x: x}
		e.next.ServeHTTP(rec, r)
	}
	e.obs.observe(ctx, r, x, rec, time.Since(start))
}

// admit runs the checks that need neither the route nor the body and returns the error to
// answer with when one fails. The token is verified first, as the rate limit is keyed by whom it
// names; a request whose token is refused is counted against its address, so that a flood of
// made-up tokens runs out of budget like any other.
func (e *edge) admit(h http.Header, r *http.Request, x *exchange) error {
	if exemptFromRateLimit(r.URL.Path) {
		return e.checkRequest(r)
	}
	p, authErr := e.verify(r)
	if e.limiter != nil {
		key, kind := principalOf(r, p, e.proxies)
		if ok, wait := e.limiter.allow(key, e.limits.of(p)); !ok {
			e.limited.WithLabelValues(kind).Inc()
			x.cause = "rate limit exceeded by a " + kind + " principal"
			secs := retryAfter(wait)
			h.Set("Retry-After", strconv.Itoa(secs))
			return errRateLimited(secs)
		}
	}
	if err := e.checkRequest(r); err != nil {
		return err
	}
	if authErr != nil {
		x.cause = "bearer token refused at the edge: " + status.Convert(authErr).Message()
		return authErr
	}
	return nil
}

// checkRequest refuses headers gRPC cannot carry and a declared body over the limit, before a
// byte of the body is read.
func (e *edge) checkRequest(r *http.Request) error {
	if err := checkForwardedHeaders(r.Header); err != nil {
		return err
	}
	if r.ContentLength > e.maxBody {
		return errBodyTooLarge(e.maxBody)
	}
	return nil
}

// verify returns the principal of the request's bearer token, nil without an Authorization
// header, or the services' own Unauthenticated error (same reason codes, same body) for a token
// they would refuse. It goes through the platform's Authenticator with the token as the only
// credential, so that the edge and the services judge a header exactly alike.
func (e *edge) verify(r *http.Request) (*auth.Principal, error) {
	values, sent := r.Header["Authorization"]
	if !sent {
		return nil, nil
	}
	md := metadata.MD{auth.AuthorizationKey: values}
	ctx, err := e.authn.Authenticate(metadata.NewIncomingContext(r.Context(), md), "")
	if err != nil {
		return nil, err
	}
	p, _ := auth.FromContext(ctx)
	return p, nil
}

// hstsMaxAge is two years, the value the HSTS preload list asks for.
const hstsMaxAge = "max-age=63072000"

// setSecurityHeaders sets the headers every response carries. The API only ever returns JSON,
// so a browser must neither sniff it into something executable, nor frame it, nor cache it
// (responses hold personal data), nor leak the URL to another site. HSTS only means something
// on a response that came over TLS (browsers ignore it otherwise, and promising HTTPS from a
// plain-text listener could lock clients out), so it is sent only then; where TLS ends at a
// proxy in front, that proxy sends it.
func setSecurityHeaders(h http.Header, overTLS bool) {
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
	if overTLS {
		h.Set("Strict-Transport-Security", hstsMaxAge)
	}
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
