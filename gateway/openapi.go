package gateway

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"net/http"
	"time"
)

// openAPIPath is where the document is served.
const openAPIPath = "/openapi.json"

// openAPISpec is the OpenAPI document generated from the protos (scripts/generate.sh), served so
// that the portal generates its client from exactly the API this binary exposes.
//
//go:embed openapi/nrm.swagger.json
var openAPISpec []byte

// openAPIETag lets clients revalidate the document instead of downloading it again.
var openAPIETag = func() string {
	sum := sha256.Sum256(openAPISpec)
	return `"` + hex.EncodeToString(sum[:16]) + `"`
}()

func serveOpenAPI(w http.ResponseWriter, r *http.Request, _ map[string]string) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	// Unlike API responses the document is public and may be cached, as long as it is
	// revalidated: it changes with every release.
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", openAPIETag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(openAPISpec))
}
