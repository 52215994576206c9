package stack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	caseregistryv1 "github.com/nrm-albania/nrm/proto/nrm/caseregistry/v1"
	"github.com/nrm-albania/nrm/services/caseregistry"
	"github.com/nrm-albania/nrm/services/platform/natsbus"
	"github.com/nrm-albania/nrm/services/platform/testenv"
	"github.com/nrm-albania/nrm/services/reporting"
	"github.com/nrm-albania/nrm/tools/stack"
)

// REST optimistic concurrency: a change names the version it is based on (If-Match), a stale one
// is refused with 409 VERSION_CONFLICT, one naming none is refused, and an uninvolved institution
// may not change the case.
func TestUpdatesThroughRESTNeedTheCurrentVersion(t *testing.T) {
	s := start(t)
	police := bearerOf(t, s, "NRM_TOKEN_CASEWORKER_POLICE")
	code, created, hdr := callWithHeaders(t, "POST", s.GatewayURL+"/v1/cases", bytes.NewReader(example(t)), police)
	if code != http.StatusOK {
		t.Fatalf("POST /v1/cases: %d %v", code, created)
	}
	c := created["case"].(map[string]any)
	id := c["id"].(string)
	if tag := hdr.Get("ETag"); tag != `"1"` {
		t.Errorf("ETag of the registration %q, want %q", tag, `"1"`)
	}
	if c["etag"] != `"1"` {
		t.Errorf("case.etag of the registration %v, want %q", c["etag"], `"1"`)
	}

	url := s.GatewayURL + "/v1/cases/" + id
	const change = `{"profile":{"educationLevel":"EDUCATION_LEVEL_TERTIARY"}}`
	code, updated, hdr := callWithHeaders(t, "PATCH", url, strings.NewReader(change), with(police, "If-Match", `"1"`))
	if code != http.StatusOK {
		t.Fatalf(`PATCH with If-Match "1": %d %v`, code, updated)
	}
	u := updated["case"].(map[string]any)
	if u["version"] != "2" || u["etag"] != `"2"` || hdr.Get("ETag") != `"2"` {
		t.Errorf(`after the change: version %v, etag %v, ETag header %q; want "2", "\"2\"", "\"2\""`, u["version"], u["etag"], hdr.Get("ETag"))
	}
	if level := u["profile"].(map[string]any)["educationLevel"]; level != "EDUCATION_LEVEL_TERTIARY" {
		t.Errorf("education level after the change: %v", level)
	}
	if sex := u["profile"].(map[string]any)["sex"]; sex != "SEX_FEMALE" {
		t.Errorf("a field outside the change was touched: sex %v", sex)
	}

	code, e, _ := callWithHeaders(t, "PATCH", url, strings.NewReader(change), with(police, "If-Match", `"1"`))
	if code != http.StatusConflict || !slices.Contains(errorReasons(e), "VERSION_CONFLICT") {
		t.Errorf(`the same change again based on "1": %d %v, want 409 VERSION_CONFLICT`, code, e)
	}
	if md := errorMetadata(e); md["current_version"] != "2" || md["expected_version"] != "1" || md["case_id"] != id {
		t.Errorf("VERSION_CONFLICT metadata %v, want case_id, expected_version 1 and current_version 2", md)
	}
	code, e, _ = callWithHeaders(t, "PATCH", url, strings.NewReader(change), police)
	if code != http.StatusBadRequest {
		t.Errorf("a change naming no version: %d %v, want 400", code, e)
	}
	shelter := bearerOf(t, s, "NRM_TOKEN_CASEWORKER_SHELTER")
	code, e, _ = callWithHeaders(t, "PATCH", url, strings.NewReader(`{"profile":{"educationLevel":"EDUCATION_LEVEL_NONE"}}`),
		with(shelter, "If-Match", `"2"`))
	if code != http.StatusForbidden {
		t.Errorf("a change by an uninvolved institution: %d %v, want 403", code, e)
	}

	code, got, hdr := callWithHeaders(t, "GET", url, nil, police)
	if code != http.StatusOK || got["case"].(map[string]any)["version"] != "2" || hdr.Get("ETag") != `"2"` {
		t.Errorf(`GET after the refused changes: %d, version %v, ETag %q; want version "2"`, code, got["case"], hdr.Get("ETag"))
	}
}

// Concurrent changes based on the same version through REST: exactly one wins, the others are
// told of the conflict, and the case holds the winner's value.
func TestConcurrentConflictingUpdatesThroughRESTLetExactlyOneWin(t *testing.T) {
	s := start(t)
	police := bearerOf(t, s, "NRM_TOKEN_CASEWORKER_POLICE")
	code, created, _ := callWithHeaders(t, "POST", s.GatewayURL+"/v1/cases", bytes.NewReader(example(t)), police)
	if code != http.StatusOK {
		t.Fatalf("POST /v1/cases: %d %v", code, created)
	}
	url := s.GatewayURL + "/v1/cases/" + created["case"].(map[string]any)["id"].(string)

	// Every change differs from the registered values (lower secondary, "sq") and from the others:
	// the language tells them apart, since there are fewer other education levels than writers.
	levels := []string{"NONE", "PRIMARY", "UPPER_SECONDARY", "VOCATIONAL", "TERTIARY", "UNKNOWN"}
	languages := []string{"it", "en", "el", "de", "fr", "es", "tr", "sr"}
	type result struct {
		code            int
		level, language string
		body            map[string]any
		err             error
	}
	results := make([]result, len(languages))
	begin := make(chan struct{})
	var wg sync.WaitGroup
	for i := range languages {
		level := "EDUCATION_LEVEL_" + levels[i%len(levels)]
		body := fmt.Sprintf(`{"profile":{"educationLevel":%q,"primaryLanguage":%q}}`, level, languages[i])
		wg.Go(func() {
			<-begin
			code, out, _, err := doREST("PATCH", url, strings.NewReader(body), with(police, "If-Match", `"1"`))
			results[i] = result{code, level, languages[i], out, err}
		})
	}
	close(begin)
	wg.Wait()

	var winners []result
	for _, r := range results {
		switch {
		case r.err != nil:
			t.Errorf("PATCH %s/%s: %v", r.level, r.language, r.err)
		case r.code == http.StatusOK:
			winners = append(winners, r)
		case r.code == http.StatusConflict:
			if !slices.Contains(errorReasons(r.body), "VERSION_CONFLICT") {
				t.Errorf("a conflict without the reason VERSION_CONFLICT: %v", r.body)
			}
			// Whether it lost before or at the commit, it is told the version that won.
			if md := errorMetadata(r.body); md["current_version"] != "2" {
				t.Errorf("a conflict naming current_version %q, want 2: %v", md["current_version"], r.body)
			}
		default:
			t.Errorf("PATCH %s/%s: %d %v, want 200 or 409", r.level, r.language, r.code, r.body)
		}
	}
	if len(winners) != 1 {
		t.Fatalf("%d changes based on version 1 succeeded, want exactly 1", len(winners))
	}
	w := winners[0]
	code, got, _ := callWithHeaders(t, "GET", url, nil, police)
	c := got["case"].(map[string]any)
	profile := c["profile"].(map[string]any)
	if code != http.StatusOK || c["version"] != "2" || profile["educationLevel"] != w.level || profile["primaryLanguage"] != w.language {
		t.Errorf(`GET after the race: %d, version %v, profile %v; want version "2" with %s/%s`, code, c["version"], profile, w.level, w.language)
	}
}

// A case's lifecycle through gRPC: changed, decided a victim, closed, reopened, each change in
// the case's history in order with who made it; the transitions the rules forbid are refused
// with a reason a program can act on.
func TestCaseLifecycleThroughGRPCIsRecordedInItsHistory(t *testing.T) {
	s := start(t)
	client := registryClient(t, s, "NRM_TOKEN_CASEWORKER_POLICE")
	ctx := context.Background()
	id := registerThroughGRPC(t, client)

	// Before any closure: the forbidden transitions.
	_, err := client.ReopenCase(ctx, &caseregistryv1.ReopenCaseRequest{Id: id, Reason: caseregistryv1.ReopenReason_REOPEN_REASON_RE_TRAFFICKING})
	if code, reason := grpcReason(err); code != codes.FailedPrecondition || reason != "CASE_NOT_CLOSED" {
		t.Errorf("reopening an open case: %v, want FailedPrecondition CASE_NOT_CLOSED", err)
	}
	_, err = client.CloseCase(ctx, &caseregistryv1.CloseCaseRequest{Id: id, Reason: caseregistryv1.ClosureReason_CLOSURE_REASON_DUPLICATE})
	if code, reason := grpcReason(err); code != codes.FailedPrecondition || reason != "USE_MERGE" {
		t.Errorf("closing as a duplicate: %v, want FailedPrecondition USE_MERGE", err)
	}

	runLifecycle(t, client, id)

	h, err := client.ListCaseHistory(ctx, &caseregistryv1.ListCaseHistoryRequest{Id: id})
	if err != nil {
		t.Fatal(err)
	}
	want := []caseregistryv1.ChangeKind{
		caseregistryv1.ChangeKind_CHANGE_KIND_REGISTERED,
		caseregistryv1.ChangeKind_CHANGE_KIND_UPDATED,
		caseregistryv1.ChangeKind_CHANGE_KIND_STATUS_DECIDED,
		caseregistryv1.ChangeKind_CHANGE_KIND_CLOSED,
		caseregistryv1.ChangeKind_CHANGE_KIND_REOPENED,
	}
	entries := h.GetEntries()
	if len(entries) != len(want) {
		t.Fatalf("%d history entries, want %d: %v", len(entries), len(want), entries)
	}
	for i, e := range entries {
		if e.GetKind() != want[i] || e.GetVersion() != int64(i+1) || e.GetInstitution() != "ASP-ANTITRAF" || e.GetSubject() == "" || e.GetAt() == nil {
			t.Errorf("history entry %d: %v; want %s, version %d, by ASP-ANTITRAF", i, e, want[i], i+1)
		}
	}
	if f := entries[1].GetFields(); !slices.Equal(f, []string{"identification.place"}) {
		t.Errorf("fields of the update: %v", f)
	}
	if h.GetNextPageToken() != "" {
		t.Errorf("a next page after the whole history: %q", h.GetNextPageToken())
	}

	// runLifecycle named the case in case.id, as clients built before UpdateCaseRequest.id did;
	// id names it now. A change based on a version the case has left is told the current one.
	level := &caseregistryv1.Case{Profile: &caseregistryv1.Profile{EducationLevel: caseregistryv1.EducationLevel_EDUCATION_LEVEL_TERTIARY}}
	mask := &fieldmaskpb.FieldMask{Paths: []string{"profile.education_level"}}
	u, err := client.UpdateCase(ctx, &caseregistryv1.UpdateCaseRequest{Id: id, Case: level, UpdateMask: mask, ExpectedVersion: 5})
	if err != nil || u.GetCase().GetVersion() != 6 {
		t.Fatalf("UpdateCase naming the case in id: %v, %v; want version 6", u.GetCase().GetVersion(), err)
	}
	_, err = client.UpdateCase(ctx, &caseregistryv1.UpdateCaseRequest{Id: id, Case: level, UpdateMask: mask, ExpectedVersion: 1})
	code, reason, md := grpcErrorInfo(err)
	if code != codes.Aborted || reason != "VERSION_CONFLICT" {
		t.Fatalf("UpdateCase based on version 1: %v, want Aborted VERSION_CONFLICT", err)
	}
	if md["current_version"] != "6" || md["expected_version"] != "1" || md["case_id"] != id ||
		!strings.Contains(status.Convert(err).Message(), "the current version is 6") {
		t.Errorf("VERSION_CONFLICT %q with metadata %v; want it to name the current version 6", status.Convert(err).Message(), md)
	}
}

// Every change of a case reaches the bus as an event, and the statistics, which follow each
// case, count it once, as it is after all of them have been consumed: a victim, reopened.
func TestLifecycleEventsReachTheBusAndTheCaseIsCountedOnce(t *testing.T) {
	bus := testenv.NewBus(t)
	s := startStack(t, func(o *stack.Options) { o.NATSURL, o.NATSNamespace = bus.URL, string(bus.NS) })
	client := registryClient(t, s, "NRM_TOKEN_CASEWORKER_POLICE")
	runLifecycle(t, client, registerThroughGRPC(t, client))

	ctx := context.Background()
	stream, err := bus.JS.Stream(ctx, bus.NS.Stream(natsbus.StreamCase))
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range []string{"registered", "updated", "status_decided", "closed", "reopened"} {
		subject := bus.NS.Subject("nrm.case." + typ)
		testenv.Eventually(t, 30*time.Second, "an event on "+subject, func() bool {
			_, err := stream.GetLastMsgForSubject(ctx, subject)
			return err == nil
		})
	}
	for _, name := range []string{reporting.CaseStatisticsConsumer, caseregistry.ListConsumer} {
		testenv.Eventually(t, 30*time.Second, "consumer "+name+" has processed every event", func() bool {
			cons, err := stream.Consumer(ctx, name)
			if err != nil {
				return false
			}
			info, err := cons.Info(ctx)
			return err == nil && info.NumPending == 0 && info.NumAckPending == 0 && info.Delivered.Stream >= 5
		})
	}
	if n := total(t, s); n != 1 {
		t.Errorf("statistics after the lifecycle: %v cases, want 1", n)
	}
	for field, want := range map[string]string{"byStatus": "TRAFFICKING_STATUS_VICTIM", "byState": "CASE_STATE_REOPENED"} {
		if got := breakdown(t, s, field); !maps.Equal(got, map[string]string{want: "1"}) {
			t.Errorf("statistics %s after the lifecycle: %v, want %s: 1", field, got, want)
		}
	}
	dlq, err := bus.JS.Stream(ctx, bus.NS.Stream(natsbus.StreamDLQ))
	if err != nil {
		t.Fatal(err)
	}
	if info, err := dlq.Info(ctx); err != nil || info.State.Msgs != 0 {
		t.Errorf("dead letters after the lifecycle: %v %v", info, err)
	}
}

// Lists through REST: filtered, in code order, page by page, pseudonymous, and showing a change
// as soon as the call that made it has returned.
func TestListsThroughRESTFilterPageAndFollowChanges(t *testing.T) {
	s := start(t)
	police := bearerOf(t, s, "NRM_TOKEN_CASEWORKER_POLICE")
	register := func(exploitation string) (id, code string) {
		t.Helper()
		var body map[string]any
		if err := json.Unmarshal(example(t), &body); err != nil {
			t.Fatal(err)
		}
		delete(body, "identity") // three registrations of one person would be refused as duplicates
		body["trafficking"].(map[string]any)["exploitationTypes"] = []string{exploitation}
		status, created, _ := callWithHeaders(t, "POST", s.GatewayURL+"/v1/cases", strings.NewReader(mustJSON(t, body)), police)
		if status != http.StatusOK {
			t.Fatalf("POST /v1/cases: %d %v", status, created)
		}
		c := created["case"].(map[string]any)
		return c["id"].(string), c["code"].(string)
	}
	_, _ = register("EXPLOITATION_TYPE_SEXUAL")
	bID, b := register("EXPLOITATION_TYPE_FORCED_LABOUR")
	_, c := register("EXPLOITATION_TYPE_FORCED_LABOUR")

	// walk lists every page of the query, one case a page.
	walk := func(query string) []string {
		t.Helper()
		var codes []string
		token := ""
		for range 10 {
			status, page, _ := callWithHeaders(t, "GET", s.GatewayURL+"/v1/cases?pageSize=1&"+query+"&pageToken="+token, nil, police)
			if status != http.StatusOK {
				t.Fatalf("GET /v1/cases?%s: %d %v", query, status, page)
			}
			for _, x := range asSlice(page["cases"]) {
				item := x.(map[string]any)
				if item["identity"] != nil {
					t.Errorf("a list carried an identity: %v", item)
				}
				codes = append(codes, item["code"].(string))
			}
			next, _ := page["nextPageToken"].(string)
			if next == "" {
				return codes
			}
			token = next
		}
		t.Fatalf("GET /v1/cases?%s: still a next page after 10", query)
		return nil
	}
	const labour = "exploitationType=EXPLOITATION_TYPE_FORCED_LABOUR"
	if got := walk(labour); !slices.Equal(got, []string{b, c}) {
		t.Errorf("forced labour, page by page: %v, want %v", got, []string{b, c})
	}

	status, e, _ := callWithHeaders(t, "PATCH", s.GatewayURL+"/v1/cases/"+bID,
		strings.NewReader(`{"trafficking":{"exploitationTypes":["EXPLOITATION_TYPE_SEXUAL"]}}`), with(police, "If-Match", `"1"`))
	if status != http.StatusOK {
		t.Fatalf("PATCH the exploitation type: %d %v", status, e)
	}
	if got := walk(labour); !slices.Equal(got, []string{c}) {
		t.Errorf("forced labour after %s changed to sexual exploitation: %v, want %v", b, got, []string{c})
	}
	if got := walk("exploitationType=EXPLOITATION_TYPE_SEXUAL&identifyingInstitution=ASP-ANTITRAF"); len(got) != 2 || got[1] != b {
		t.Errorf("sexual exploitation after the change: %v, want two cases ending with %s", got, b)
	}

	status, e, _ = callWithHeaders(t, "GET", s.GatewayURL+"/v1/cases?pageToken=bm90LWEtdG9rZW4", nil, police)
	if status != http.StatusBadRequest {
		t.Errorf("a page token this API did not issue: %d %v, want 400", status, e)
	}
}

// The identity's contact headings (address, family contacts) follow need-to-know through REST:
// shown to the registering institution with a purpose, withheld from an uninvolved one until the
// secretariat grants it access, which also lets it change the case.
func TestGrantedInstitutionSeesTheAddressAndMayChangeTheCaseThroughREST(t *testing.T) {
	s := start(t)
	police := bearerOf(t, s, "NRM_TOKEN_CASEWORKER_POLICE")
	shelter := bearerOf(t, s, "NRM_TOKEN_CASEWORKER_SHELTER")
	code, created, _ := callWithHeaders(t, "POST", s.GatewayURL+"/v1/cases", bytes.NewReader(example(t)), police)
	if code != http.StatusOK {
		t.Fatalf("POST /v1/cases: %d %v", code, created)
	}
	id := created["case"].(map[string]any)["id"].(string)
	view := func(h map[string]string) (string, map[string]any) {
		t.Helper()
		code, got := call(t, "GET", s.GatewayURL+"/v1/cases/"+id, nil, with(h, "X-NRM-Purpose", "assistance"))
		if code != http.StatusOK {
			t.Fatalf("GET: %d %v", code, got)
		}
		c := got["case"].(map[string]any)
		identity, _ := c["identity"].(map[string]any)
		return c["identityView"].(string), identity
	}
	const address, family = "Lagjja 4, Durrës", "Mother, reachable through the municipal child-protection unit of Durrës"
	if v, identity := view(police); v != "IDENTITY_VIEW_VISIBLE" || identity["address"] != address ||
		identity["familyContacts"] != family || identity["contactDetails"] != "+355 69 000 0000" {
		t.Errorf("registering institution: %s %v", v, identity)
	}
	if v, identity := view(shelter); v != "IDENTITY_VIEW_WITHHELD" || identity != nil {
		t.Errorf("uninvolved shelter: %s %v", v, identity)
	}
	if code, e := call(t, "POST", s.GatewayURL+"/v1/cases/"+id+":grantIdentityAccess",
		strings.NewReader(`{"institution":"KKSAT","reason":"shelter placement decided by the Authority"}`), police); code != http.StatusForbidden {
		t.Errorf("a caseworker granted access: %d %v, want 403", code, e)
	}
	if code, e := call(t, "POST", s.GatewayURL+"/v1/cases/"+id+":grantIdentityAccess",
		strings.NewReader(`{"institution":"KKSAT","reason":"shelter placement decided by the Authority"}`), secretariat(t, s)); code != http.StatusOK {
		t.Fatalf("grantIdentityAccess: %d %v", code, e)
	}
	if v, identity := view(shelter); v != "IDENTITY_VIEW_VISIBLE" || identity["address"] != address || identity["familyContacts"] != family {
		t.Errorf("granted shelter: %s %v", v, identity)
	}
	code, updated, _ := callWithHeaders(t, "PATCH", s.GatewayURL+"/v1/cases/"+id,
		strings.NewReader(`{"identification":{"place":"Tiranë"}}`), with(shelter, "If-Match", `"1"`))
	if code != http.StatusOK || updated["case"].(map[string]any)["version"] != "2" {
		t.Errorf("a change by the granted shelter: %d %v", code, updated)
	}
}

// Merging a duplicate record through REST: the duplicate is closed as a duplicate pointing to its
// survivor, keeps its own history, and is no longer found as a possible duplicate.
func TestMergingADuplicateThroughRESTClosesItAndHidesItFromDuplicateChecks(t *testing.T) {
	s := start(t)
	police := bearerOf(t, s, "NRM_TOKEN_CASEWORKER_POLICE")
	code, first, _ := callWithHeaders(t, "POST", s.GatewayURL+"/v1/cases", bytes.NewReader(example(t)), police)
	if code != http.StatusOK {
		t.Fatalf("POST /v1/cases: %d %v", code, first)
	}
	survivor := first["case"].(map[string]any)["id"].(string)
	again := withFields(t, example(t), map[string]any{
		"confirmedDifferentPerson": true, "differentPersonReason": "the shelter believes it is a namesake",
	})
	code, second, _ := callWithHeaders(t, "POST", s.GatewayURL+"/v1/cases", bytes.NewReader(again), bearerOf(t, s, "NRM_TOKEN_CASEWORKER_SHELTER"))
	if code != http.StatusOK {
		t.Fatalf("registration confirmed as another person: %d %v", code, second)
	}
	dup := second["case"].(map[string]any)["id"].(string)

	findBody := mustJSON(t, map[string]any{"identity": map[string]any{
		"givenName": "Arjola", "familyName": "Kapllani", "dateOfBirth": "2009-03-15", "documentNumber": "J90315041K",
	}})
	found := func() []string {
		t.Helper()
		code, out := call(t, "POST", s.GatewayURL+"/v1/cases:findPossibleDuplicates", strings.NewReader(findBody),
			with(secretariat(t, s), "X-NRM-Purpose", "duplicate-check"))
		if code != http.StatusOK {
			t.Fatalf("findPossibleDuplicates: %d %v", code, out)
		}
		var ids []string
		for _, d := range asSlice(out["duplicates"]) {
			ids = append(ids, d.(map[string]any)["caseId"].(string))
		}
		slices.Sort(ids)
		return ids
	}
	if ids, want := found(), sorted(survivor, dup); !slices.Equal(ids, want) {
		t.Fatalf("possible duplicates before the merge: %v, want both %v", ids, want)
	}

	if code, e := call(t, "POST", s.GatewayURL+"/v1/cases/"+survivor+":merge",
		strings.NewReader(mustJSON(t, map[string]any{"duplicateId": dup, "reason": "same person"})), police); code != http.StatusForbidden {
		t.Errorf("a caseworker merged cases: %d %v, want 403", code, e)
	}
	code, merged := call(t, "POST", s.GatewayURL+"/v1/cases/"+survivor+":merge",
		strings.NewReader(mustJSON(t, map[string]any{"duplicateId": dup, "reason": "same person, confirmed at the joint interview"})),
		secretariat(t, s))
	if code != http.StatusOK {
		t.Fatalf("merge: %d %v", code, merged)
	}
	if ids := asSlice(merged["case"].(map[string]any)["mergedCaseIds"]); len(ids) != 1 || ids[0] != dup {
		t.Errorf("survivor's mergedCaseIds %v, want [%s]", ids, dup)
	}

	code, got := call(t, "GET", s.GatewayURL+"/v1/cases/"+dup, nil, secretariat(t, s))
	if code != http.StatusOK {
		t.Fatalf("GET the duplicate: %d %v", code, got)
	}
	d := got["case"].(map[string]any)
	closure, _ := d["closure"].(map[string]any)
	if d["mergedInto"] != survivor || d["state"] != "CASE_STATE_CLOSED" || closure["reason"] != "CLOSURE_REASON_DUPLICATE" {
		t.Errorf("the duplicate after the merge: mergedInto %v, state %v, closure %v", d["mergedInto"], d["state"], closure)
	}
	if ids := found(); !slices.Equal(ids, []string{survivor}) {
		t.Errorf("possible duplicates after the merge: %v, want only the survivor %s", ids, survivor)
	}
	code, history := call(t, "GET", s.GatewayURL+"/v1/cases/"+dup+"/history", nil, secretariat(t, s))
	entries := asSlice(history["entries"])
	if code != http.StatusOK || len(entries) != 2 {
		t.Fatalf("the duplicate's history: %d %v, want 2 entries", code, history)
	}
	if last := entries[1].(map[string]any); last["kind"] != "CHANGE_KIND_MERGED_INTO" || last["relatedCaseId"] != survivor {
		t.Errorf("the duplicate's last history entry: %v", last)
	}
}

// An identity is encrypted at rest: no name, document number or address appears in any file of
// the database or the bus, before or after its erasure; erasure leaves the statistics as they were.
func TestIdentityNeverReachesTheDataFilesAndErasureKeepsTheCount(t *testing.T) {
	// The store's files are only there to scan when it is embedded, in the stack's data directory.
	external := os.Getenv("NRM_TEST_MONGO_URI") != ""
	dir := t.TempDir()
	s := startStack(t, func(o *stack.Options) {
		o.DataDir = dir
		o.EmbeddedMongoAddr, o.EmbeddedNATSAddr = "127.0.0.1:0", "127.0.0.1:0"
		if !external {
			o.MongoURI = ""
		}
		if os.Getenv("NRM_TEST_NATS_URL") == "" {
			o.NATSURL = ""
		}
	})
	police := bearerOf(t, s, "NRM_TOKEN_CASEWORKER_POLICE")
	code, created, _ := callWithHeaders(t, "POST", s.GatewayURL+"/v1/cases", bytes.NewReader(example(t)), police)
	if code != http.StatusOK {
		t.Fatalf("POST /v1/cases: %d %v", code, created)
	}
	id := created["case"].(map[string]any)["id"].(string)
	caseCode := created["case"].(map[string]any)["code"].(string)
	// The identity is used once more, so that it has been opened and shown, not only stored.
	if code, got := call(t, "GET", s.GatewayURL+"/v1/cases/"+id, nil, with(police, "X-NRM-Purpose", "referral")); code != http.StatusOK ||
		got["case"].(map[string]any)["identityView"] != "IDENTITY_VIEW_VISIBLE" {
		t.Fatalf("GET with a purpose: %d %v", code, got)
	}
	testenv.Eventually(t, 30*time.Second, "the case counted", func() bool { return total(t, s) == 1 })

	secrets := []string{"Kapllani", "J90315041K", "Lagjja 4"}
	scan := func(when string) {
		t.Helper()
		if external {
			return
		}
		// The case code is stored in clear: finding it shows the scan reads what was written.
		seen := false
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			seen = seen || bytes.Contains(b, []byte(caseCode))
			for _, secret := range secrets {
				if bytes.Contains(b, []byte(secret)) {
					rel, _ := filepath.Rel(dir, path)
					t.Errorf("%s: %q appears in %s", when, secret, rel)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if !seen {
			t.Fatalf("%s: the case code %s is in no file under the data directory; the scan proves nothing", when, caseCode)
		}
	}
	scan("before the erasure")

	code, erased := call(t, "POST", s.GatewayURL+"/v1/cases/"+id+":eraseIdentity", strings.NewReader(`{"reason":"request of the person"}`), secretariat(t, s))
	if code != http.StatusOK || erased["case"].(map[string]any)["identityView"] != "IDENTITY_VIEW_ERASED" {
		t.Fatalf("erasure: %d %v", code, erased)
	}
	scan("after the erasure")
	if n := total(t, s); n != 1 {
		t.Errorf("statistics after the erasure: %v cases, want 1", n)
	}
}

// startStack is start with options of the test's own; change may alter the defaults.
func startStack(t *testing.T, change func(*stack.Options)) *stack.Stack {
	t.Helper()
	o := stack.Options{
		MongoURI:       testenv.MongoURI(t),
		NATSURL:        testenv.NATSURL(t),
		DataDir:        t.TempDir(),
		Ephemeral:      true,
		DatabasePrefix: testenv.Name("e2e") + "_",
		NATSNamespace:  testenv.Name("e"),
		LogLevel:       "warn",
	}
	change(&o)
	s, err := stack.Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// example is the full example registration, identity included.
func example(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("../../docs/examples/register-case.json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// withFields is the JSON object body with the given top-level fields set.
func withFields(t *testing.T, body []byte, fields map[string]any) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	for k, v := range fields {
		m[k] = v
	}
	return []byte(mustJSON(t, m))
}

// bearerOf is the header of a call made with the development token of that name.
func bearerOf(t *testing.T, s *stack.Stack, name string) map[string]string {
	return map[string]string{"Authorization": "Bearer " + token(t, s, name)}
}

// with is a copy of h with one more header.
func with(h map[string]string, key, value string) map[string]string {
	out := make(map[string]string, len(h)+1)
	for k, v := range h {
		out[k] = v
	}
	out[key] = value
	return out
}

// callWithHeaders is call that also returns the response's headers.
func callWithHeaders(t *testing.T, method, url string, body io.Reader, header map[string]string) (int, map[string]any, http.Header) {
	t.Helper()
	code, out, h, err := doREST(method, url, body, header)
	if err != nil {
		t.Fatal(err)
	}
	return code, out, h
}

// doREST makes a REST call and decodes its JSON body; it does not fail the test, so that
// goroutines may use it.
func doREST(method, url string, body io.Reader, header map[string]string) (int, map[string]any, http.Header, error) {
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		return 0, nil, nil, err
	}
	for k, v := range header {
		if v != "" {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, nil, err
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		return 0, nil, nil, fmt.Errorf("%s %s: %d with a body that is not JSON: %q", method, url, resp.StatusCode, b)
	}
	return resp.StatusCode, out, resp.Header, nil
}

// errorReasons are the reasons of the ErrorInfo details of a REST error body.
func errorReasons(e map[string]any) []string {
	var reasons []string
	for _, d := range asSlice(e["details"]) {
		if m, ok := d.(map[string]any); ok && m["@type"] == "type.googleapis.com/google.rpc.ErrorInfo" {
			if r, ok := m["reason"].(string); ok {
				reasons = append(reasons, r)
			}
		}
	}
	return reasons
}

// errorMetadata is the metadata of the ErrorInfo detail of a REST error body.
func errorMetadata(e map[string]any) map[string]any {
	for _, d := range asSlice(e["details"]) {
		if m, ok := d.(map[string]any); ok && m["@type"] == "type.googleapis.com/google.rpc.ErrorInfo" {
			md, _ := m["metadata"].(map[string]any)
			return md
		}
	}
	return nil
}

// grpcReason is the code of a gRPC error and the reason of its ErrorInfo detail, if any.
func grpcReason(err error) (codes.Code, string) {
	code, reason, _ := grpcErrorInfo(err)
	return code, reason
}

// grpcErrorInfo is the code of a gRPC error and the reason and metadata of its ErrorInfo
// detail, if any.
func grpcErrorInfo(err error) (codes.Code, string, map[string]string) {
	st := status.Convert(err)
	for _, d := range st.Details() {
		m, ok := d.(proto.Message)
		if !ok || m.ProtoReflect().Descriptor().FullName() != "google.rpc.ErrorInfo" {
			continue
		}
		r := m.ProtoReflect()
		fields := r.Descriptor().Fields()
		md := map[string]string{}
		r.Get(fields.ByName("metadata")).Map().Range(func(k protoreflect.MapKey, v protoreflect.Value) bool {
			md[k.String()] = v.String()
			return true
		})
		return st.Code(), r.Get(fields.ByName("reason")).String(), md
	}
	return st.Code(), "", nil
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}

func sorted(s ...string) []string {
	slices.Sort(s)
	return s
}

// registryClient dials the case registry's gRPC address with a development token.
func registryClient(t *testing.T, s *stack.Stack, name string) caseregistryv1.CaseRegistryServiceClient {
	t.Helper()
	conn, err := grpc.NewClient(s.Services[0].GRPCAddr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithPerRPCCredentials(testenv.Bearer(token(t, s, name))))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return caseregistryv1.NewCaseRegistryServiceClient(conn)
}

// registerThroughGRPC registers the example (identity included) and returns the case's id.
func registerThroughGRPC(t *testing.T, client caseregistryv1.CaseRegistryServiceClient) string {
	t.Helper()
	req := &caseregistryv1.RegisterCaseRequest{}
	if err := protojson.Unmarshal(example(t), req); err != nil {
		t.Fatal(err)
	}
	resp, err := client.RegisterCase(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	c := resp.GetCase()
	if c.GetVersion() != 1 || c.GetState() != caseregistryv1.CaseState_CASE_STATE_OPEN ||
		c.GetTrafficking().GetStatus() != caseregistryv1.TraffickingStatus_TRAFFICKING_STATUS_POTENTIAL_VICTIM {
		t.Fatalf("registered: version %d, state %s, status %s", c.GetVersion(), c.GetState(), c.GetTrafficking().GetStatus())
	}
	return c.GetId()
}

// runLifecycle takes a registered case (version 1) through a change of a field, a decision that
// the person is a victim, a closure and a reopening, checking each step's result.
func runLifecycle(t *testing.T, client caseregistryv1.CaseRegistryServiceClient, id string) {
	t.Helper()
	ctx := context.Background()
	var hdr metadata.MD
	u, err := client.UpdateCase(ctx, &caseregistryv1.UpdateCaseRequest{
		Case:            &caseregistryv1.Case{Id: id, Identification: &caseregistryv1.Identification{Place: "Shkodër"}},
		UpdateMask:      &fieldmaskpb.FieldMask{Paths: []string{"identification.place"}},
		ExpectedVersion: 1,
	}, grpc.Header(&hdr))
	if err != nil {
		t.Fatalf("UpdateCase: %v", err)
	}
	if c := u.GetCase(); c.GetVersion() != 2 || c.GetIdentification().GetPlace() != "Shkodër" ||
		c.GetIdentification().GetChannel() != caseregistryv1.IdentificationChannel_IDENTIFICATION_CHANNEL_MOBILE_UNIT {
		t.Errorf("after UpdateCase: version %d, identification %v", c.GetVersion(), c.GetIdentification())
	}
	if tag := hdr.Get("etag"); !slices.Equal(tag, []string{`"2"`}) {
		t.Errorf("etag metadata of UpdateCase %q", tag)
	}

	d, err := client.DecideStatus(ctx, &caseregistryv1.DecideStatusRequest{
		Id: id, Status: caseregistryv1.TraffickingStatus_TRAFFICKING_STATUS_VICTIM,
		DecidingBody: caseregistryv1.DecidingBody_DECIDING_BODY_JOINT_INTERVIEW, DecisionDate: "2026-10-02",
		Basis: "indicators of sexual exploitation confirmed at the joint interview", ExpectedVersion: 2,
	})
	if err != nil {
		t.Fatalf("DecideStatus: %v", err)
	}
	decisions := d.GetCase().GetTrafficking().GetStatusDecisions()
	if c := d.GetCase(); c.GetVersion() != 3 || c.GetTrafficking().GetStatus() != caseregistryv1.TraffickingStatus_TRAFFICKING_STATUS_VICTIM ||
		len(decisions) != 1 || decisions[0].GetRecordedBy() != "ASP-ANTITRAF" || decisions[0].GetRevision() {
		t.Errorf("after DecideStatus: version %d, trafficking %v", c.GetVersion(), c.GetTrafficking())
	}

	closed, err := client.CloseCase(ctx, &caseregistryv1.CloseCaseRequest{
		Id: id, Reason: caseregistryv1.ClosureReason_CLOSURE_REASON_REINTEGRATED, Note: "living with her family", ExpectedVersion: 3,
	})
	if err != nil {
		t.Fatalf("CloseCase: %v", err)
	}
	if c := closed.GetCase(); c.GetVersion() != 4 || c.GetState() != caseregistryv1.CaseState_CASE_STATE_CLOSED ||
		c.GetClosure().GetReason() != caseregistryv1.ClosureReason_CLOSURE_REASON_REINTEGRATED || c.GetClosure().GetDate() == "" {
		t.Errorf("after CloseCase: version %d, state %s, closure %v", c.GetVersion(), c.GetState(), c.GetClosure())
	}

	reopened, err := client.ReopenCase(ctx, &caseregistryv1.ReopenCaseRequest{
		Id: id, Reason: caseregistryv1.ReopenReason_REOPEN_REASON_RE_TRAFFICKING, ExpectedVersion: 4,
	})
	if err != nil {
		t.Fatalf("ReopenCase: %v", err)
	}
	if c := reopened.GetCase(); c.GetVersion() != 5 || c.GetState() != caseregistryv1.CaseState_CASE_STATE_REOPENED || c.GetClosure() != nil {
		t.Errorf("after ReopenCase: version %d, state %s, closure %v", c.GetVersion(), c.GetState(), c.GetClosure())
	}
}
