package gateway_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/nrm-albania/nrm/gateway"
)

const portal = "https://portal.nrm.gov.al"

// corsHeaders returns the response's Access-Control-* headers.
func corsHeaders(h http.Header) map[string]string {
	out := map[string]string{}
	for k, v := range h {
		if strings.HasPrefix(k, "Access-Control-") {
			out[k] = strings.Join(v, ", ")
		}
	}
	return out
}

// listHas tells whether a comma-separated header value names want, ignoring case as HTTP does.
func listHas(list, want string) bool {
	for item := range strings.SplitSeq(list, ",") {
		if strings.EqualFold(strings.TrimSpace(item), want) {
			return true
		}
	}
	return false
}

func preflight(origin, method, headers string) []string {
	h := []string{"Origin: " + origin, "Access-Control-Request-Method: " + method}
	if headers != "" {
		h = append(h, "Access-Control-Request-Headers: "+headers)
	}
	return h
}

func TestCORSAllowList(t *testing.T) {
	e := start(t, func(c *gateway.Config) { c.CORSAllowedOrigins = portal + ", http://localhost:5173" })
	e.cases.set("RegisterCase", fail(status.Error(codes.Unauthenticated, "token expired")))
	// The portal's usual preflight: a write with a token, a purpose and an idempotency key.
	const portalHeaders = "authorization,content-type,idempotency-key,x-nrm-purpose"
	tests := []struct {
		name, method, path, body string
		headers                  []string
		status                   int
		allowed                  bool // the answer lets the browser read it
		preflight                bool
	}{
		{name: "preflight from the portal", method: http.MethodOptions, path: "/v1/cases",
			headers: preflight(portal, "POST", portalHeaders), status: http.StatusNoContent, allowed: true, preflight: true},
		{name: "preflight from the second origin", method: http.MethodOptions, path: "/v1/cases/c-1",
			headers: preflight("http://localhost:5173", "PATCH", "authorization,if-match"), status: http.StatusNoContent, allowed: true, preflight: true},
		{name: "preflight for DELETE", method: http.MethodOptions, path: "/v1/cases/c-1",
			headers: preflight(portal, "DELETE", "authorization,x-request-id"), status: http.StatusNoContent, allowed: true, preflight: true},
		{name: "preflight from another origin", method: http.MethodOptions, path: "/v1/cases",
			headers: preflight("https://evil.example", "POST", portalHeaders), status: http.StatusNoContent},
		{name: "preflight from an origin that only starts like the portal's", method: http.MethodOptions, path: "/v1/cases",
			headers: preflight(portal+".evil.example", "POST", portalHeaders), status: http.StatusNoContent},
		{name: "preflight from the portal over plain HTTP", method: http.MethodOptions, path: "/v1/cases",
			headers: preflight("http://portal.nrm.gov.al", "POST", portalHeaders), status: http.StatusNoContent},
		{name: "preflight from an opaque origin", method: http.MethodOptions, path: "/v1/cases",
			headers: preflight("null", "POST", portalHeaders), status: http.StatusNoContent},
		{name: "preflight for a method the API does not use", method: http.MethodOptions, path: "/v1/cases",
			headers: preflight(portal, "PUT", "authorization"), status: http.StatusNoContent},
		{name: "preflight for a header the API does not read", method: http.MethodOptions, path: "/v1/cases",
			headers: preflight(portal, "POST", "authorization,x-debug"), status: http.StatusNoContent},
		{name: "request from the portal", method: http.MethodGet, path: "/v1/cases/c-0001",
			headers: []string{"Origin: " + portal, e.bearer(t, "KKSAT", "ana")}, status: http.StatusOK, allowed: true},
		{name: "error from the portal is readable", method: http.MethodPost, path: "/v1/cases", body: registerBody,
			headers: []string{"Origin: " + portal, "Authorization: Bearer t"}, status: http.StatusUnauthorized, allowed: true},
		{name: "request from another origin", method: http.MethodGet, path: "/v1/cases/c-0001",
			headers: []string{"Origin: https://evil.example", e.bearer(t, "KKSAT", "ana")}, status: http.StatusOK},
		{name: "request without an origin", method: http.MethodGet, path: "/v1/cases/c-0001", status: http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(e.cases.recorded())
			r := e.do(t, tt.method, e.api+tt.path, tt.body, tt.headers...)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d; body %s", r.status, tt.status, r.body)
			}
			got := corsHeaders(r.header)
			if !tt.allowed {
				if len(got) != 0 {
					t.Errorf("CORS headers %v, want none", got)
				}
			} else {
				var origin string
				for _, h := range tt.headers {
					if v, ok := strings.CutPrefix(h, "Origin: "); ok {
						origin = v
					}
				}
				if got["Access-Control-Allow-Origin"] != origin {
					t.Errorf("Access-Control-Allow-Origin %q, want %q", got["Access-Control-Allow-Origin"], origin)
				}
				if _, ok := got["Access-Control-Allow-Credentials"]; ok {
					t.Error("credentials mode allowed; tokens are sent explicitly")
				}
				if tt.preflight {
					reqMethod, reqHeaders := "", ""
					for _, h := range tt.headers {
						if v, ok := strings.CutPrefix(h, "Access-Control-Request-Method: "); ok {
							reqMethod = v
						}
						if v, ok := strings.CutPrefix(h, "Access-Control-Request-Headers: "); ok {
							reqHeaders = v
						}
					}
					if !listHas(got["Access-Control-Allow-Methods"], reqMethod) {
						t.Errorf("Access-Control-Allow-Methods %q lacks %s", got["Access-Control-Allow-Methods"], reqMethod)
					}
					for h := range strings.SplitSeq(reqHeaders, ",") {
						if !listHas(got["Access-Control-Allow-Headers"], h) {
							t.Errorf("Access-Control-Allow-Headers %q lacks %s", got["Access-Control-Allow-Headers"], h)
						}
					}
					if got["Access-Control-Max-Age"] != "600" {
						t.Errorf("Access-Control-Max-Age %q, want 600", got["Access-Control-Max-Age"])
					}
				} else {
					for _, h := range []string{"X-Request-Id", "ETag", "Retry-After"} {
						if !listHas(got["Access-Control-Expose-Headers"], h) {
							t.Errorf("Access-Control-Expose-Headers %q lacks %s", got["Access-Control-Expose-Headers"], h)
						}
					}
				}
			}
			if origin := slices.ContainsFunc(tt.headers, func(h string) bool { return strings.HasPrefix(h, "Origin: ") }); origin &&
				!listHas(strings.Join(r.header.Values("Vary"), ","), "Origin") {
				t.Errorf("Vary %q lacks Origin: a shared cache could serve one origin's answer to another", r.header.Values("Vary"))
			}
			if tt.preflight || tt.method == http.MethodOptions {
				if n := len(e.cases.recorded()) - before; n != 0 {
					t.Errorf("a preflight reached the backend %d times", n)
				}
			}
			// Whatever CORS decides, the edge's own headers are there.
			if r.header.Get("X-Request-Id") == "" || r.header.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("edge headers missing: %v", r.header)
			}
		})
	}
}

func TestNoCORSWithoutAllowedOrigins(t *testing.T) {
	e := start(t, nil) // the default: no origin allowed
	tests := []struct {
		name, method string
		headers      []string
		status       int
	}{
		// Without CORS the preflight is just an OPTIONS request, which no route has.
		{"preflight", http.MethodOptions, preflight(portal, "POST", "authorization,content-type"), http.StatusMethodNotAllowed},
		{"request", http.MethodGet, []string{"Origin: " + portal}, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(t, tt.method, e.api+"/v1/cases/c-0001", "", tt.headers...)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d; body %s", r.status, tt.status, r.body)
			}
			if got := corsHeaders(r.header); len(got) != 0 {
				t.Errorf("CORS headers %v with no origin allowed", got)
			}
		})
	}
}
