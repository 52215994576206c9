package stack_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

// The providers' directory through REST: the shelters a caseworker can refer to, a shelter
// recording its own places, the secretariat changing a provider on its current version.
func TestProvidersThroughREST(t *testing.T) {
	s := start(t)
	police := bearerOf(t, s, "NRM_TOKEN_CASEWORKER_POLICE")
	shelter := bearerOf(t, s, "NRM_TOKEN_CASEWORKER_SHELTER")
	listed := func(query string) []string {
		t.Helper()
		code, out := call(t, "GET", s.GatewayURL+"/v1/providers"+query, nil, police)
		if code != http.StatusOK {
			t.Fatalf("GET /v1/providers%s: %d %v", query, code, out)
		}
		var codes []string
		for _, p := range asSlice(out["providers"]) {
			codes = append(codes, p.(map[string]any)["code"].(string))
		}
		return codes
	}
	if got := listed("?serviceType=SERVICE_TYPE_SHELTER"); !slices.Equal(got, []string{"KKSAT", "SHSSH"}) {
		t.Errorf("shelters %v", got)
	}
	if got := listed("?minFreePlaces=1"); len(got) != 0 {
		t.Errorf("providers with free places before any were recorded: %v", got)
	}
	if code, e := call(t, "GET", s.GatewayURL+"/v1/providers?serviceTyp=SERVICE_TYPE_SHELTER", nil, police); code != http.StatusBadRequest {
		t.Errorf("a misspelt filter: %d %v", code, e)
	}

	code, out, hdr := callWithHeaders(t, "POST", s.GatewayURL+"/v1/providers/KKSAT:updateCapacity",
		strings.NewReader(`{"placesTotal": 40, "placesFree": 3}`), shelter)
	p, _ := out["provider"].(map[string]any)
	if code != http.StatusOK || hdr.Get("ETag") != `"2"` || p["capacity"].(map[string]any)["placesFree"] != float64(3) {
		t.Fatalf("a shelter's places: %d %v %q", code, out, hdr.Get("ETag"))
	}
	if code, e := call(t, "POST", s.GatewayURL+"/v1/providers/KKSAT:updateCapacity", strings.NewReader(`{"placesTotal": 1}`), police); code != http.StatusForbidden {
		t.Errorf("the police recorded a shelter's places: %d %v", code, e)
	}
	if got := listed("?minFreePlaces=3"); !slices.Equal(got, []string{"KKSAT"}) {
		t.Errorf("providers with 3 free places: %v", got)
	}

	contact := `{"contact": {"unit": "Coalition secretariat", "email": "office@kksat.example"}}`
	for _, c := range []struct {
		ifMatch string
		want    int
	}{{`"1"`, http.StatusConflict}, {`"2"`, http.StatusOK}} {
		code, out, _ := callWithHeaders(t, "PATCH", s.GatewayURL+"/v1/providers/KKSAT?updateMask=contact",
			strings.NewReader(contact), with(secretariat(t, s), "If-Match", c.ifMatch))
		if code != c.want {
			t.Errorf("PATCH with If-Match %s: %d %v, want %d", c.ifMatch, code, out, c.want)
		}
	}
	code, out = call(t, "GET", s.GatewayURL+"/v1/providers/KKSAT", nil, police)
	if p, _ := out["provider"].(map[string]any); code != http.StatusOK || p["version"] != "3" || p["contact"].(map[string]any)["email"] != "office@kksat.example" {
		t.Errorf("GET /v1/providers/KKSAT: %d %v", code, out)
	}
}
