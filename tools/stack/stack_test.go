package stack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"

	auditv1 "github.com/nrm-albania/nrm/proto/nrm/audit/v1"
	caseregistryv1 "github.com/nrm-albania/nrm/proto/nrm/caseregistry/v1"
	referralv1 "github.com/nrm-albania/nrm/proto/nrm/referral/v1"
	reportingv1 "github.com/nrm-albania/nrm/proto/nrm/reporting/v1"
	secretariatv1 "github.com/nrm-albania/nrm/proto/nrm/secretariat/v1"
	"github.com/nrm-albania/nrm/services/caseregistry"
	"github.com/nrm-albania/nrm/services/platform/mongodb"
	"github.com/nrm-albania/nrm/services/platform/natsbus"
	"github.com/nrm-albania/nrm/services/platform/testenv"
	"github.com/nrm-albania/nrm/services/reporting"
	"github.com/nrm-albania/nrm/tools/stack"
)

// start runs the whole system on free ports against the test store and bus (embedded, or the
// external ones named by NRM_TEST_MONGO_URI and NRM_TEST_NATS_URL).
func start(t *testing.T) *stack.Stack {
	t.Helper()
	s, err := stack.Start(stack.Options{
		MongoURI:       testenv.MongoURI(t),
		NATSURL:        testenv.NATSURL(t),
		DataDir:        t.TempDir(),
		Ephemeral:      true,
		DatabasePrefix: testenv.Name("e2e") + "_",
		NATSNamespace:  testenv.Name("e"),
		LogLevel:       "warn",
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// Probes ask each service's health by the full names of the services it serves (as
// grpc-health-probe -service=… does), without credentials; every service serves its own and the
// audit service.
func TestEveryServiceAnswersHealthByTheNamesItServes(t *testing.T) {
	s := start(t)
	audit := auditv1.AuditService_ServiceDesc.ServiceName
	want := map[string][]string{
		"caseregistry": {caseregistryv1.CaseRegistryService_ServiceDesc.ServiceName, audit},
		"referral":     {referralv1.ReferralService_ServiceDesc.ServiceName, audit},
		"secretariat":  {secretariatv1.SecretariatService_ServiceDesc.ServiceName, audit},
		"reporting":    {reportingv1.ReportingService_ServiceDesc.ServiceName, audit},
	}
	for _, svc := range s.Services {
		names, ok := want[svc.Name]
		if !ok {
			continue // the gateway
		}
		delete(want, svc.Name)
		conn, err := grpc.NewClient(svc.GRPCAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		hc := healthpb.NewHealthClient(conn)
		for _, name := range append(names, "") {
			res, err := hc.Check(context.Background(), &healthpb.HealthCheckRequest{Service: name})
			if err != nil || res.GetStatus() != healthpb.HealthCheckResponse_SERVING {
				t.Errorf("%s: health of %q = %s, %v; want SERVING", svc.Name, name, res.GetStatus(), err)
			}
		}
	}
	if len(want) > 0 {
		t.Errorf("services not running: %v", want)
	}
}

// token returns the development token of that name, e.g. "NRM_TOKEN_SECRETARIAT".
func token(t *testing.T, s *stack.Stack, name string) string {
	t.Helper()
	for _, tok := range s.Tokens {
		if tok.Name == name {
			return tok.Token
		}
	}
	t.Fatalf("no development token %s", name)
	return ""
}

// secretariat is the header of a call made with the secretariat's token.
func secretariat(t *testing.T, s *stack.Stack) map[string]string {
	return map[string]string{"Authorization": "Bearer " + token(t, s, "NRM_TOKEN_SECRETARIAT")}
}

// call makes a REST call; header values that are empty are not sent.
func call(t *testing.T, method, url string, body io.Reader, header map[string]string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		if v != "" {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("%s %s: %d with a body that is not JSON: %q", method, url, resp.StatusCode, b)
	}
	return resp.StatusCode, out
}

// breakdown returns one breakdown of the statistics of all time through REST, key to count (an
// int64, so a string in proto JSON).
func breakdown(t *testing.T, s *stack.Stack, field string) map[string]string {
	t.Helper()
	code, stats := call(t, "GET", s.GatewayURL+"/v1/statistics/cases", nil, secretariat(t, s))
	if code != http.StatusOK {
		t.Fatalf("statistics: %d %v", code, stats)
	}
	out := map[string]string{}
	list, _ := stats[field].([]any)
	for _, c := range list {
		c, _ := c.(map[string]any)
		key, _ := c["key"].(string)
		out[key], _ = c["count"].(string)
	}
	return out
}

func total(t *testing.T, s *stack.Stack) float64 {
	t.Helper()
	code, stats := call(t, "GET", s.GatewayURL+"/v1/statistics/cases", nil, secretariat(t, s))
	if code != http.StatusOK {
		t.Fatalf("statistics: %d %v", code, stats)
	}
	// int64 is a string in proto JSON; absent when zero.
	v, _ := stats["total"].(string)
	var n float64
	if v != "" {
		if err := json.Unmarshal([]byte(v), &n); err != nil {
			t.Fatal(err)
		}
	}
	return n
}

// The flow of the foundation: REST POST /v1/cases → GET → statistics show it.
func TestRegisterGetAndCountThroughREST(t *testing.T) {
	s := start(t)
	body, err := os.ReadFile("../../docs/examples/register-case.json")
	if err != nil {
		t.Fatal(err)
	}
	code, created := call(t, "POST", s.GatewayURL+"/v1/cases", bytes.NewReader(body), withKey(secretariat(t, s), "e2e-1"))
	if code != http.StatusOK {
		t.Fatalf("POST /v1/cases: %d %v", code, created)
	}
	c := created["case"].(map[string]any)
	id := c["id"].(string)
	if code, _ := c["code"].(string); !regexp.MustCompile(`^VT-\d{4}-\d{5}$`).MatchString(code) {
		t.Errorf("case code %q, want VT-YYYY-NNNNN", code)
	}

	code, got := call(t, "GET", s.GatewayURL+"/v1/cases/"+id, nil, secretariat(t, s))
	if code != http.StatusOK || got["case"].(map[string]any)["id"] != id {
		t.Fatalf("GET /v1/cases/%s: %d %v", id, code, got)
	}
	profile := got["case"].(map[string]any)["profile"].(map[string]any)
	if profile["ageBand"] != "AGE_BAND_CHILD" || profile["minorAtIdentification"] != true {
		t.Errorf("derived profile %v", profile)
	}

	// A retry with the same key is the same case, counted once.
	code, again := call(t, "POST", s.GatewayURL+"/v1/cases", bytes.NewReader(body), withKey(secretariat(t, s), "e2e-1"))
	if code != http.StatusOK || again["case"].(map[string]any)["id"] != id {
		t.Fatalf("retry: %d %v", code, again)
	}
	testenv.Eventually(t, 30*time.Second, "statistics show the case", func() bool { return total(t, s) == 1 })
	_, stats := call(t, "GET", s.GatewayURL+"/v1/statistics/cases?from=2026-10-01&to=2026-10-31", nil, secretariat(t, s))
	if !strings.Contains(mustJSON(t, stats["byExploitationType"]), "EXPLOITATION_TYPE_FORCED_BEGGING") {
		t.Errorf("breakdown by exploitation type: %v", stats["byExploitationType"])
	}
	_, outside := call(t, "GET", s.GatewayURL+"/v1/statistics/cases?from=2025-01-01&to=2025-12-31", nil, secretariat(t, s))
	if outside["total"] != nil {
		t.Errorf("a case identified in 2026 counted in 2025: %v", outside)
	}

	code, members := call(t, "GET", s.GatewayURL+"/v1/members", nil, secretariat(t, s))
	if code != http.StatusOK || len(members["members"].([]any)) != 13 {
		t.Errorf("GET /v1/members: %d, %d members", code, len(members["members"].([]any)))
	}
	code, types := call(t, "GET", s.GatewayURL+"/v1/service-types", nil, secretariat(t, s))
	if code != http.StatusOK || len(types["serviceTypes"].([]any)) != 12 {
		t.Errorf("GET /v1/service-types: %d %v", code, types)
	}
}

// Bad input through the whole stack: a clear 4xx JSON error each time, nothing written, and the
// system still serving.
func TestBadInputIsRefusedAndNothingIsWritten(t *testing.T) {
	s := start(t)
	valid, err := os.ReadFile("../../docs/examples/register-case.json")
	if err != nil {
		t.Fatal(err)
	}
	huge := bytes.Repeat([]byte("x"), 20<<20)
	tests := []struct {
		name string
		body []byte
		url  string
		want int
		// field is the field violation the answer must name, as the REST request spells it.
		field string
	}{
		{"truncated JSON", valid[:len(valid)/2], "/v1/cases", 400, ""},
		{"empty body", nil, "/v1/cases", 400, ""},
		{"unknown enum value", bytes.Replace(valid, []byte("SEX_FEMALE"), []byte("SEX_BANANA"), 1), "/v1/cases", 400, ""},
		{"wrong type", bytes.Replace(valid, []byte(`"ageAtIdentification": 17`), []byte(`"ageAtIdentification": "seventeen"`), 1), "/v1/cases", 400, ""},
		{"invalid country", bytes.Replace(valid, []byte(`"AL"`), []byte(`"ZZ"`), 1), "/v1/cases", 400, "profile.citizenships[0]"},
		{"future date", bytes.Replace(valid, []byte("2026-10-02"), []byte("2099-10-02"), 1), "/v1/cases", 400, "identification.identificationDate"},
		{"unknown query parameter", valid, "/v1/cases?dryRun=true", 400, "dryRun"},
		{"20 MB body", huge, "/v1/cases", 413, ""},
		{"unknown route", valid, "/v1/victims", 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, e := call(t, "POST", s.GatewayURL+tt.url, bytes.NewReader(tt.body), secretariat(t, s))
			if code != tt.want {
				t.Fatalf("status %d, want %d (%v)", code, tt.want, e)
			}
			if msg, _ := e["message"].(string); msg == "" {
				t.Errorf("error without a message: %v", e)
			}
			if tt.field != "" && !slices.Contains(violatedFields(e), tt.field) {
				t.Errorf("violations %v, want one on %s", violatedFields(e), tt.field)
			}
		})
	}
	// A misspelt filter is an error, not a list of every case.
	code, e := call(t, "GET", s.GatewayURL+"/v1/cases?identifyingInstituion=ASP-ANTITRAF", nil, secretariat(t, s))
	if code != http.StatusBadRequest || !slices.Equal(violatedFields(e), []string{"identifyingInstituion"}) {
		t.Errorf("misspelt filter: %d %v", code, e)
	}
	code, e = call(t, "GET", s.GatewayURL+"/v1/cases/0190a3c4-0000-7000-8000-000000000000", nil, secretariat(t, s))
	if code != http.StatusNotFound {
		t.Errorf("unknown case id: %d %v", code, e)
	}

	c, err := mongodb.Connect(s.MongoURI, "e2e")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Disconnect(context.Background())
	n, err := c.Database(s.Services[0].Database).Collection("cases").CountDocuments(context.Background(), bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d cases written by rejected requests", n)
	}
	if code, got := call(t, "POST", s.GatewayURL+"/v1/cases", bytes.NewReader(valid), secretariat(t, s)); code != http.StatusOK {
		t.Errorf("a valid registration after the bad ones: %d %v", code, got)
	}
}

// violatedFields lists the fields of the BadRequest details of a REST error body.
func violatedFields(e map[string]any) []string {
	var fields []string
	details, _ := e["details"].([]any)
	for _, d := range details {
		detail, _ := d.(map[string]any)
		violations, _ := detail["fieldViolations"].([]any)
		for _, v := range violations {
			if f, ok := v.(map[string]any)["field"].(string); ok {
				fields = append(fields, f)
			}
		}
	}
	return fields
}

// Member institutions' software calls gRPC directly; a retry with the same idempotency key in
// the metadata returns the same case.
func TestRegisterThroughGRPCIsIdempotent(t *testing.T) {
	s := start(t)
	conn, err := grpc.NewClient(s.Services[0].GRPCAddr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithPerRPCCredentials(testenv.Bearer(token(t, s, "NRM_TOKEN_CASEWORKER_POLICE"))))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := caseregistryv1.NewCaseRegistryServiceClient(conn)
	req := &caseregistryv1.RegisterCaseRequest{
		Profile: &caseregistryv1.Profile{Sex: caseregistryv1.Sex_SEX_MALE, AgeAtIdentification: proto.Int32(31), Citizenships: []string{"XK"}},
		Trafficking: &caseregistryv1.Trafficking{ExploitationTypes: []caseregistryv1.ExploitationType{
			caseregistryv1.ExploitationType_EXPLOITATION_TYPE_FORCED_LABOUR}},
		Identification: &caseregistryv1.Identification{IdentifyingInstitution: "ASP-KUFIRI", IdentificationDate: "2026-11-01"},
	}
	ctx := metadata.AppendToOutgoingContext(context.Background(), "idempotency-key", "grpc-1")
	first, err := client.RegisterCase(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	second, err := client.RegisterCase(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if first.GetCase().GetId() != second.GetCase().GetId() {
		t.Errorf("retry created a second case: %s and %s", first.GetCase().GetId(), second.GetCase().GetId())
	}
	testenv.Eventually(t, 30*time.Second, "statistics count the case once", func() bool { return total(t, s) == 1 })
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func withKey(h map[string]string, key string) map[string]string {
	h["Idempotency-Key"] = key
	return h
}

// What "done" means for security, through the whole stack: no token 401, a tampered token
// 401, the analyst may not register a case (403), the secretariat may.
func TestCallersAreAuthenticatedAndAuthorizedThroughREST(t *testing.T) {
	s := start(t)
	body := anonymous(t)
	good := token(t, s, "NRM_TOKEN_SECRETARIAT")
	tampered := good[:len(good)-4] + strings.Map(func(r rune) rune {
		if r == 'A' {
			return 'B'
		}
		return 'A'
	}, good[len(good)-4:])
	for _, tt := range []struct {
		name, auth string
		want       int
	}{
		{"no token", "", http.StatusUnauthorized},
		{"tampered token", "Bearer " + tampered, http.StatusUnauthorized},
		{"not a bearer token", "Basic dXNlcjpwYXNz", http.StatusUnauthorized},
		{"analyst", "Bearer " + token(t, s, "NRM_TOKEN_ANALYST"), http.StatusForbidden},
		{"auditor", "Bearer " + token(t, s, "NRM_TOKEN_AUDITOR"), http.StatusForbidden},
		{"secretariat", "Bearer " + good, http.StatusOK},
		{"police caseworker", "Bearer " + token(t, s, "NRM_TOKEN_CASEWORKER_POLICE"), http.StatusOK},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, e := call(t, "POST", s.GatewayURL+"/v1/cases", bytes.NewReader(body), map[string]string{"Authorization": tt.auth})
			if code != tt.want {
				t.Fatalf("status %d, want %d: %v", code, tt.want, e)
			}
			if code >= 400 {
				if msg, _ := e["message"].(string); msg == "" || strings.Contains(msg, good[:20]) {
					t.Errorf("error message %q: empty or echoing the token", msg)
				}
			}
		})
	}
	// The case belongs to the registering institution, as its token says.
	_, created := call(t, "POST", s.GatewayURL+"/v1/cases", bytes.NewReader(body),
		map[string]string{"Authorization": "Bearer " + token(t, s, "NRM_TOKEN_CASEWORKER_SHELTER")})
	if owner := created["case"].(map[string]any)["ownerInstitution"]; owner != "KKSAT" {
		t.Errorf("owner %v, want KKSAT", owner)
	}
	// The analyst reads aggregates.
	if code, e := call(t, "GET", s.GatewayURL+"/v1/statistics/cases", nil,
		map[string]string{"Authorization": "Bearer " + token(t, s, "NRM_TOKEN_ANALYST")}); code != http.StatusOK {
		t.Errorf("analyst statistics: %d %v", code, e)
	}
}

// The audit trail through REST: every registration and every read of a case is recorded with who,
// why and the outcome; only auditors read the trail; the chain verifies.
func TestAccessToCasesIsAuditedAndTheChainVerifies(t *testing.T) {
	s := start(t)
	body, err := os.ReadFile("../../docs/examples/register-case.json")
	if err != nil {
		t.Fatal(err)
	}
	police := "Bearer " + token(t, s, "NRM_TOKEN_CASEWORKER_POLICE")
	_, created := call(t, "POST", s.GatewayURL+"/v1/cases", bytes.NewReader(body), map[string]string{"Authorization": police})
	id := created["case"].(map[string]any)["id"].(string)
	if code, e := call(t, "GET", s.GatewayURL+"/v1/cases/"+id, nil, map[string]string{
		"Authorization": police, "X-NRM-Purpose": "referral;ref=REF-2026-0042",
	}); code != http.StatusOK {
		t.Fatalf("GET case: %d %v", code, e)
	}
	// A purpose in prose, naming a person, is refused naming the codes; a name where the id goes
	// is refused too. Neither leaves the name in the trail.
	if code, e := call(t, "GET", s.GatewayURL+"/v1/cases/"+id, nil, map[string]string{
		"Authorization": police, "X-NRM-Purpose": "referral of Arta Hoxha",
	}); code != http.StatusBadRequest || !strings.Contains(mustJSON(t, e), "case-management, referral") {
		t.Errorf("a purpose naming a person: %d %v, want 400 naming the codes", code, e)
	}
	if code, e := call(t, "GET", s.GatewayURL+"/v1/cases/Arta%20Hoxha", nil, map[string]string{
		"Authorization": police, "X-NRM-Purpose": "referral",
	}); code != http.StatusBadRequest {
		t.Errorf("GET /v1/cases/<a name>: %d %v, want 400", code, e)
	}

	auditor := map[string]string{"Authorization": "Bearer " + token(t, s, "NRM_TOKEN_AUDITOR")}
	code, trail := call(t, "GET", s.GatewayURL+"/v1/cases/"+id+"/audit", nil, auditor)
	if code != http.StatusOK {
		t.Fatalf("GET /v1/cases/{id}/audit: %d %v", code, trail)
	}
	records, _ := trail["records"].([]any)
	if len(records) != 2 {
		t.Fatalf("%d records for the case, want the registration and the read: %v", len(records), trail)
	}
	code, all := call(t, "GET", s.GatewayURL+"/v1/audit/records", nil, auditor)
	if code != http.StatusOK || !strings.Contains(mustJSON(t, all), `"invalid"`) || strings.Contains(mustJSON(t, all), "Hoxha") {
		t.Errorf("the whole trail, with the read of an invalid id: %d %v", code, all)
	}
	read := records[0].(map[string]any) // newest first
	if read["method"] != "/nrm.caseregistry.v1.CaseRegistryService/GetCase" || read["institution"] != "ASP-ANTITRAF" ||
		read["purpose"] != "referral;ref=REF-2026-0042" || read["outcome"] != "OK" || read["requestId"] == nil {
		t.Errorf("record of the read: %v", read)
	}
	if reg := records[1].(map[string]any); reg["method"] != "/nrm.caseregistry.v1.CaseRegistryService/RegisterCase" {
		t.Errorf("record of the registration: %v", reg)
	}

	if code, e := call(t, "GET", s.GatewayURL+"/v1/cases/"+id+"/audit", nil, map[string]string{"Authorization": police}); code != http.StatusForbidden {
		t.Errorf("a caseworker read the audit trail: %d %v", code, e)
	}
	code, verdict := call(t, "POST", s.GatewayURL+"/v1/audit:verify", strings.NewReader("{}"), auditor)
	if code != http.StatusOK || verdict["intact"] != true {
		t.Errorf("POST /v1/audit:verify: %d %v", code, verdict)
	}
}

// Nothing a caller sends that could identify someone or grant access reaches a log line: not the
// bearer token, not the stated purpose's reference, not the idempotency key. The identity headings (names, birth dates) join the markers when the registry stores them.
func TestSecretsAndFreeTextNeverReachTheLogs(t *testing.T) {
	logs := &testenv.LogBuffer{}
	s, err := stack.Start(stack.Options{
		MongoURI: testenv.MongoURI(t), NATSURL: testenv.NATSURL(t), DataDir: t.TempDir(), Ephemeral: true,
		DatabasePrefix: testenv.Name("e2e") + "_", NATSNamespace: testenv.Name("e"),
		LogLevel: "debug", LogOutput: logs,
	})
	if err != nil {
		t.Fatal(err)
	}
	body, err := os.ReadFile("../../docs/examples/register-case.json")
	if err != nil {
		t.Fatal(err)
	}
	tok := token(t, s, "NRM_TOKEN_CASEWORKER_POLICE")
	const purpose, key = "referral;ref=MARKER-PURPOSE-7f3a", "MARKER-IDEMPOTENCY-7f3a"
	// A person with marker names: they must reach no log line, neither on success nor in errors.
	body = bytes.Replace(body, []byte(`"Arjola"`), []byte(`"MARKERGIVEN"`), 1)
	body = bytes.Replace(body, []byte(`"Kapllani"`), []byte(`"MARKERFAMILY"`), 1)
	body = bytes.Replace(body, []byte(`"J90315041K"`), []byte(`"MARKERDOC1"`), 1)
	h := map[string]string{"Authorization": "Bearer " + tok, "X-NRM-Purpose": purpose, "Idempotency-Key": key}
	_, created := call(t, "POST", s.GatewayURL+"/v1/cases", bytes.NewReader(body), h)
	id := created["case"].(map[string]any)["id"].(string)
	call(t, "GET", s.GatewayURL+"/v1/cases/"+id, nil, h)
	call(t, "POST", s.GatewayURL+"/v1/cases", bytes.NewReader(body[:10]), h)      // a failure is logged too
	bad := bytes.Replace(body, []byte(`"2009-03-15"`), []byte(`"1999-03-15"`), 1) // disagrees with the age
	if code, _ := call(t, "POST", s.GatewayURL+"/v1/cases", bytes.NewReader(bad), map[string]string{"Authorization": "Bearer " + tok}); code != http.StatusBadRequest {
		t.Errorf("an inconsistent birth date: %d, want 400", code)
	}
	s.Stop()

	out := logs.String()
	if !strings.Contains(out, `"msg":"case registered"`) {
		t.Fatalf("the run logged nothing useful; the scan proves nothing:\n%s", out)
	}
	for name, secret := range map[string]string{
		"bearer token": tok, "token signature": tok[strings.LastIndex(tok, ".")+1:],
		"purpose": "MARKER-PURPOSE-7f3a", "idempotency key": key,
		"given name": "MARKERGIVEN", "family name": "MARKERFAMILY", "document number": "MARKERDOC1",
		"date of birth": "2009-03-15", "notes": "Durrës port",
	} {
		if strings.Contains(out, secret) {
			t.Errorf("the %s appears in the logs", name)
		}
	}
}

// The identity through REST: sealed at rest, shown to the registering institution and the
// secretariat when they state a purpose, withheld from others, and erased for good by the
// secretariat while the statistics stay as they were.
func TestIdentityNeedToKnowAndErasureThroughREST(t *testing.T) {
	s := start(t)
	body, err := os.ReadFile("../../docs/examples/register-case.json")
	if err != nil {
		t.Fatal(err)
	}
	bearer := func(name, purpose string) map[string]string {
		return map[string]string{"Authorization": "Bearer " + token(t, s, name), "X-NRM-Purpose": purpose}
	}
	_, created := call(t, "POST", s.GatewayURL+"/v1/cases", bytes.NewReader(body), bearer("NRM_TOKEN_CASEWORKER_POLICE", ""))
	id := created["case"].(map[string]any)["id"].(string)
	caseCode := created["case"].(map[string]any)["code"].(string)

	// The same person again, from the shelter: refused as a likely duplicate, naming the case
	// only to a caller who states a purpose.
	code, dup := call(t, "POST", s.GatewayURL+"/v1/cases", bytes.NewReader(body), bearer("NRM_TOKEN_CASEWORKER_SHELTER", ""))
	if code != http.StatusConflict || strings.Contains(mustJSON(t, dup), caseCode) || strings.Contains(mustJSON(t, dup), id) {
		t.Errorf("a likely duplicate without a purpose: %d %v, want 409 naming no case", code, dup)
	}
	code, dup = call(t, "POST", s.GatewayURL+"/v1/cases", bytes.NewReader(body), bearer("NRM_TOKEN_CASEWORKER_SHELTER", "duplicate-check"))
	if code != http.StatusConflict || !strings.Contains(mustJSON(t, dup["details"]), caseCode) {
		t.Errorf("a likely duplicate: %d %v, want 409 naming %s", code, dup, caseCode)
	}
	code, found := call(t, "POST", s.GatewayURL+"/v1/cases:findPossibleDuplicates",
		strings.NewReader(`{"identity":{"givenName":"ARJOLA","familyName":"kapllani","dateOfBirth":"2009-03-15"}}`),
		bearer("NRM_TOKEN_CASEWORKER_SHELTER", "duplicate-check"))
	if code != http.StatusOK || !strings.Contains(mustJSON(t, found), caseCode) || strings.Contains(mustJSON(t, found), "Kapllani") {
		t.Errorf("findPossibleDuplicates: %d %v", code, found)
	}
	view := func(h map[string]string) (string, map[string]any) {
		code, got := call(t, "GET", s.GatewayURL+"/v1/cases/"+id, nil, h)
		if code != http.StatusOK {
			t.Fatalf("GET: %d %v", code, got)
		}
		c := got["case"].(map[string]any)
		identity, _ := c["identity"].(map[string]any)
		return c["identityView"].(string), identity
	}
	if v, identity := view(bearer("NRM_TOKEN_CASEWORKER_POLICE", "referral")); v != "IDENTITY_VIEW_VISIBLE" || identity["familyName"] != "Kapllani" {
		t.Errorf("registering institution: %s %v", v, identity)
	}
	if v, identity := view(bearer("NRM_TOKEN_CASEWORKER_POLICE", "")); v != "IDENTITY_VIEW_PURPOSE_REQUIRED" || identity != nil {
		t.Errorf("without a purpose: %s %v", v, identity)
	}
	if v, identity := view(bearer("NRM_TOKEN_CASEWORKER_SHELTER", "referral")); v != "IDENTITY_VIEW_WITHHELD" || identity != nil {
		t.Errorf("an uninvolved institution: %s %v", v, identity)
	}
	testenv.Eventually(t, 30*time.Second, "the case counted", func() bool { return total(t, s) == 1 })

	if code, e := call(t, "POST", s.GatewayURL+"/v1/cases/"+id+":eraseIdentity", strings.NewReader(`{"reason":"request of the person"}`),
		bearer("NRM_TOKEN_CASEWORKER_POLICE", "")); code != http.StatusForbidden {
		t.Errorf("a caseworker erased an identity: %d %v", code, e)
	}
	code, erased := call(t, "POST", s.GatewayURL+"/v1/cases/"+id+":eraseIdentity", strings.NewReader(`{"reason":"request of the person"}`),
		bearer("NRM_TOKEN_SECRETARIAT", ""))
	if code != http.StatusOK || erased["case"].(map[string]any)["identityView"] != "IDENTITY_VIEW_ERASED" {
		t.Fatalf("erasure: %d %v", code, erased)
	}
	if v, identity := view(bearer("NRM_TOKEN_SECRETARIAT", "case-management")); v != "IDENTITY_VIEW_ERASED" || identity != nil {
		t.Errorf("after erasure: %s %v", v, identity)
	}
	if n := total(t, s); n != 1 {
		t.Errorf("statistics after erasure: %v cases, want 1", n)
	}
}

// anonymous is the example registration without its identity: for tests that register it several
// times and are not about identities (the same person twice is refused as a likely duplicate).
func anonymous(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("../../docs/examples/register-case.json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "identity")
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// A first start on a bus that has no streams yet: the streams are provisioned before any consumer
// starts, so no consumer reports its stream missing.
func TestAFreshStartLogsNoMissingStream(t *testing.T) {
	logs := &testenv.LogBuffer{}
	ns := testenv.Name("e")
	s, err := stack.Start(stack.Options{
		MongoURI: testenv.MongoURI(t), NATSURL: testenv.NATSURL(t), DataDir: t.TempDir(), Ephemeral: true,
		DatabasePrefix: testenv.Name("e2e") + "_", NATSNamespace: ns, LogOutput: logs,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	bus := testenv.BusOn(t, natsbus.Namespace(ns))
	for _, durable := range []string{caseregistry.ListConsumer, reporting.CaseStatisticsConsumer} {
		testenv.Eventually(t, 60*time.Second, "consumer "+durable+" exists", func() bool {
			_, err := bus.JS.Consumer(context.Background(), bus.NS.Stream(natsbus.StreamCase), durable)
			return err == nil
		})
	}
	s.Stop()
	out := logs.String()
	if !strings.Contains(out, `"msg":"serving"`) {
		t.Fatalf("the run logged nothing useful; the scan proves nothing:\n%s", out)
	}
	for line := range strings.Lines(out) {
		if strings.Contains(line, "consumer stopped") || strings.Contains(line, "stream not found") {
			t.Errorf("a fresh start logged: %s", line)
		}
	}
}

// Every component says on its /metrics which build it runs.
func TestEveryComponentExportsItsBuildInfo(t *testing.T) {
	s := start(t)
	for _, svc := range s.Services {
		resp, err := http.Get("http://" + svc.AdminAddr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		line := regexp.MustCompile(`(?m)^nrm_build_info\{.*\} 1$`).FindString(string(b))
		if line == "" || !strings.Contains(line, `go_version="go1.`) || !strings.Contains(line, `revision="`) || !strings.Contains(line, `version="`) {
			t.Errorf("%s: build info %q, want nrm_build_info{go_version, revision, version, …} 1", svc.Name, line)
		}
	}
}
