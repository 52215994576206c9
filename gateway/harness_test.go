package gateway_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/nrm-albania/nrm/gateway"
	caseregistryv1 "github.com/nrm-albania/nrm/proto/nrm/caseregistry/v1"
	referralv1 "github.com/nrm-albania/nrm/proto/nrm/referral/v1"
	reportingv1 "github.com/nrm-albania/nrm/proto/nrm/reporting/v1"
	secretariatv1 "github.com/nrm-albania/nrm/proto/nrm/secretariat/v1"
	"github.com/nrm-albania/nrm/services/platform/auth"
	"github.com/nrm-albania/nrm/services/platform/auth/authtest"
)

// registerBody is a RegisterCaseRequest as the portal sends it.
const registerBody = `{
  "profile": {"sex": "SEX_FEMALE", "ageAtIdentification": 17, "citizenships": ["AL"]},
  "trafficking": {"exploitationTypes": ["EXPLOITATION_TYPE_SEXUAL"]},
  "identification": {"identifyingInstitution": "ASP-ANTITRAF", "identificationDate": "2026-10-02"}
}`

func sampleCase() *caseregistryv1.Case {
	return &caseregistryv1.Case{
		Id:      "c-0001",
		Version: 1,
		Profile: &caseregistryv1.Profile{
			Sex:                   caseregistryv1.Sex_SEX_FEMALE,
			AgeAtIdentification:   new(int32(17)),
			Citizenships:          []string{"AL"},
			AgeBand:               caseregistryv1.AgeBand_AGE_BAND_CHILD,
			MinorAtIdentification: true,
		},
		Trafficking: &caseregistryv1.Trafficking{
			Status:            caseregistryv1.TraffickingStatus_TRAFFICKING_STATUS_POTENTIAL_VICTIM,
			ExploitationTypes: []caseregistryv1.ExploitationType{caseregistryv1.ExploitationType_EXPLOITATION_TYPE_SEXUAL},
		},
		Identification: &caseregistryv1.Identification{
			IdentifyingInstitution: "ASP-ANTITRAF",
			IdentificationDate:     "2026-10-02",
		},
		State:            caseregistryv1.CaseState_CASE_STATE_OPEN,
		OwnerInstitution: "ASP-ANTITRAF",
		RegisteredAt:     timestamppb.New(time.Date(2026, 10, 3, 9, 30, 0, 0, time.UTC)),
	}
}

// env is a gateway started with Run in front of four fake backends.
type env struct {
	api      string // base URL of the REST API
	apiAddr  string
	admin    string // base URL of the admin port
	cases    *backend
	referral *backend
	members  *backend
	stats    *backend
	logs     *logBuffer
	client   *http.Client
	stop     func() error
	// cfg is the configuration the gateway runs with; issuer signs the tokens it accepts; clock
	// is the rate limiter's.
	cfg    gateway.Config
	issuer *authtest.Issuer
	clock  *gateway.FakeClock
}

// bearer is an Authorization header with a valid token for subject in institution.
func (e *env) bearer(t *testing.T, institution, subject string) string {
	t.Helper()
	return "Authorization: Bearer " + e.issuer.TokenFor(t, auth.Principal{
		Institution: institution, Subject: subject, Roles: []auth.Role{auth.RoleCaseworker},
	}, time.Hour)
}

// start runs a gateway on free ports until the test ends; adjust changes its configuration.
func start(t *testing.T, adjust func(*gateway.Config)) *env {
	t.Helper()
	return startWithIssuer(t, authtest.NewIssuer(t), adjust)
}

// startWithIssuer is start with the tokens of a given issuer, for tests whose own backends
// verify them too.
func startWithIssuer(t *testing.T, issuer *authtest.Issuer, adjust func(*gateway.Config)) *env {
	t.Helper()
	e := &env{
		cases: startBackend(t, func(s *grpc.Server, f *fake) {
			caseregistryv1.RegisterCaseRegistryServiceServer(s, caseRegistry{fake: f})
		}, map[string]reply{
			"RegisterCase": respond(&caseregistryv1.RegisterCaseResponse{Case: sampleCase()}),
			"GetCase":      respond(&caseregistryv1.GetCaseResponse{Case: sampleCase()}),
			"ListCases":    respond(&caseregistryv1.ListCasesResponse{}),
			"UpdateCase":   respond(&caseregistryv1.UpdateCaseResponse{Case: sampleCase()}),
		}),
		referral: startBackend(t, func(s *grpc.Server, f *fake) {
			referralv1.RegisterReferralServiceServer(s, referral{fake: f})
		}, map[string]reply{
			"ListServiceTypes": respond(&referralv1.ListServiceTypesResponse{ServiceTypes: []*referralv1.ServiceTypeInfo{
				{Type: referralv1.ServiceType_SERVICE_TYPE_SHELTER, Code: "SHELTER", Name: "Shelter"},
				{Type: referralv1.ServiceType_SERVICE_TYPE_CHILD_PROTECTION, Code: "CHILD_PROTECTION", Name: "Child protection", ChildrenOnly: true},
			}}),
		}),
		members: startBackend(t, func(s *grpc.Server, f *fake) {
			secretariatv1.RegisterSecretariatServiceServer(s, secretariat{fake: f})
		}, map[string]reply{
			"ListMembers": respond(&secretariatv1.ListMembersResponse{
				Members: []*secretariatv1.Member{
					{Code: "MB-DAMP", Name: "Ministry of Interior", Role: secretariatv1.MemberRole_MEMBER_ROLE_CHAIR, Chair: true},
					{Code: "ASP-ANTITRAF", Name: "State Police", Role: secretariatv1.MemberRole_MEMBER_ROLE_MEMBER},
				},
				NextPageToken: "p2",
			}),
		}),
		stats: startBackend(t, func(s *grpc.Server, f *fake) {
			reportingv1.RegisterReportingServiceServer(s, reporting{fake: f})
		}, map[string]reply{
			"GetCaseStatistics": respond(&reportingv1.GetCaseStatisticsResponse{
				Total: 3,
				BySex: []*reportingv1.Count{{Key: "SEX_FEMALE", Count: 3}},
				From:  "2026-01-01", To: "2026-12-31",
			}),
		}),
		logs:   &logBuffer{},
		issuer: issuer,
		clock:  gateway.NewFakeClock(),
	}

	cfg := gateway.Defaults()
	jc := e.issuer.JWTConfig()
	cfg.AuthJWKS, cfg.AuthIssuer, cfg.AuthAudience = jc.JWKS, jc.Issuer, jc.Audience
	cfg.Addr, cfg.AdminAddr = "127.0.0.1:0", "127.0.0.1:0"
	cfg.CaseRegistryAddr, cfg.ReferralAddr = e.cases.addr, e.referral.addr
	cfg.SecretariatAddr, cfg.ReportingAddr = e.members.addr, e.stats.addr
	cfg.ShutdownTimeout = 5 * time.Second
	if adjust != nil {
		adjust(&cfg)
	}
	e.cfg = cfg

	ctx, cancel := context.WithCancel(context.Background())
	listening := make(chan [2]net.Addr, 1)
	done := make(chan error, 1)
	go func() {
		done <- gateway.Run(ctx, cfg, gateway.Options{
			LogOutput: e.logs,
			Listening: func(h, a net.Addr) { listening <- [2]net.Addr{h, a} },
			Now:       e.clock.Now,
		})
	}()
	select {
	case addrs := <-listening:
		e.apiAddr = addrs[0].String()
		e.api, e.admin = "http://"+e.apiAddr, "http://"+addrs[1].String()
	case err := <-done:
		cancel()
		t.Fatalf("Run returned before serving: %v", err)
	case <-time.After(10 * time.Second):
		cancel()
		t.Fatal("the gateway did not start")
	}

	transport := &http.Transport{}
	e.client = &http.Client{Transport: transport, Timeout: 20 * time.Second}
	var once sync.Once
	var stopErr error
	e.stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case stopErr = <-done:
			case <-time.After(15 * time.Second):
				stopErr = context.DeadlineExceeded
			}
			transport.CloseIdleConnections()
		})
		return stopErr
	}
	t.Cleanup(func() {
		if err := e.stop(); err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return e
}

// response is what a test looks at in an answer.
type response struct {
	status int
	header http.Header
	body   []byte
	close  bool // the gateway closes the connection after this answer
}

// do sends a request with the given headers ("Name: value") and returns the whole answer.
func (e *env) do(t *testing.T, method, url, body string, headers ...string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Set(k, v)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, url, err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b, close: resp.Close}
}

// sendRaw writes a request on its own connection while reading the answer concurrently. The
// gateway answers an oversized body before it has all arrived and then closes the connection;
// http.Client may report the broken upload instead of that answer. length -1 sends the body
// chunked.
func (e *env) sendRaw(t *testing.T, method, path string, body io.Reader, length int64) response {
	t.Helper()
	conn, err := net.Dial("tcp", e.apiAddr)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(method, e.api+path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = length
	req.Header.Set("Content-Type", "application/json")
	wrote := make(chan struct{})
	go func() {
		defer close(wrote)
		_ = req.Write(conn) // fails once the gateway has answered and hung up
	}()
	defer func() {
		conn.Close()
		<-wrote
	}()
	_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, path, err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b, close: resp.Close}
}

// sendBytes writes raw bytes, a request or the beginning of one, on a new connection and reads
// the answer: for requests that an HTTP client would not send.
func (e *env) sendBytes(t *testing.T, raw string) response {
	t.Helper()
	conn, err := net.Dial("tcp", e.apiAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, raw); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b, close: resp.Close}
}

// apiError is the JSON error body, with "details" kept raw to tell absent from empty.
type apiError struct {
	Code    int               `json:"code"`
	Message string            `json:"message"`
	Details []json.RawMessage `json:"details"`
}

// wantError checks that r is a JSON error with the HTTP status and the gRPC code, and returns it.
func wantError(t *testing.T, r response, status, code int) apiError {
	t.Helper()
	if r.status != status {
		t.Errorf("status %d, want %d; body %s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(r.body, &fields); err != nil {
		t.Fatalf("error body is not JSON: %v; body %s", err, r.body)
	}
	for _, k := range []string{"code", "message", "details"} {
		if _, ok := fields[k]; !ok {
			t.Errorf("error body lacks %q: %s", k, r.body)
		}
	}
	var e apiError
	if err := json.Unmarshal(r.body, &e); err != nil {
		t.Fatalf("error body: %v; body %s", err, r.body)
	}
	if e.Code != code {
		t.Errorf("code %d, want %d; body %s", e.Code, code, r.body)
	}
	if e.Message == "" {
		t.Errorf("error without a message: %s", r.body)
	}
	return e
}

// decode parses a JSON body into a generic value, failing the test if it is not JSON.
func decode(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("body is not a JSON object: %v; body %s", err, b)
	}
	return v
}

// logBuffer collects the gateway's JSON log.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// records returns the log records whose message is msg.
func (l *logBuffer) records(t *testing.T, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.Lines(l.String()) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %v: %q", err, line)
		}
		if rec["msg"] == msg {
			out = append(out, rec)
		}
	}
	return out
}
