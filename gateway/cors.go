package gateway

import (
	"net/http"
	"time"

	"github.com/rs/cors"
)

// corsMaxAge is how long a browser may reuse a preflight answer: long enough to spare the portal
// a preflight before most calls, short enough that a narrowed allow-list takes effect soon.
const corsMaxAge = 10 * time.Minute

// newCORS returns the CORS policy for the allowed origins, or nil when there are none. rs/cors
// reads an empty list as "every origin", so the empty setting must not reach it: the gateway
// then sends no CORS header at all and browsers keep other origins out.
func newCORS(origins []string) *cors.Cors {
	if len(origins) == 0 {
		return nil
	}
	return cors.New(cors.Options{
		AllowedOrigins: origins,
		// The methods the API's routes are declared with (google.api.http); none uses PUT.
		AllowedMethods: []string{http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodDelete},
		// The request headers the API reads. X-NRM-Purpose states why personal data is read;
		// Idempotency-Key and If-Match make writes safe to retry and to race.
		AllowedHeaders: []string{"Authorization", "Content-Type", "Idempotency-Key", "If-Match", "X-Request-Id", "X-NRM-Purpose"},
		// What the portal needs to read: the id to quote to support, the version for the next
		// If-Match, and how long to back off after a 429.
		ExposedHeaders: []string{"X-Request-Id", "ETag", "Retry-After"},
		// Bearer tokens are sent explicitly in Authorization, never as cookies, so the browser's
		// credentials mode stays off: no page can ride on ambient credentials.
		AllowCredentials: false,
		MaxAge:           int(corsMaxAge / time.Second),
	})
}

// isPreflight tells a CORS preflight from an ordinary OPTIONS request, as rs/cors does.
func isPreflight(r *http.Request) bool {
	return r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
}
