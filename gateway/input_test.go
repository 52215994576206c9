package gateway_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/nrm-albania/nrm/gateway"
)

// filler is an endless body of one byte, for bodies too large to hold comfortably.
type filler byte

func (f filler) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(f)
	}
	return len(p), nil
}

// oversized is a body of n bytes that starts like a real request, so that only its size is wrong.
func oversized(n int64) io.Reader {
	head := `{"identification": {"identifyingInstitution": "`
	return io.MultiReader(strings.NewReader(head), io.LimitReader(filler('A'), n-int64(len(head))))
}

const mib = 1 << 20

func TestBadRequestsNeverReachTheBackend(t *testing.T) {
	e := start(t, nil)
	chunked := int64(-1)
	tests := []struct {
		name    string
		body    string // sent with its length unless big is set
		big     int64  // size of an oversized body instead
		length  int64  // declared length of the oversized body; -1 sends it chunked
		status  int
		code    codes.Code
		message string // part of the error message
	}{
		{name: "truncated JSON", body: `{"profile": {"sex": "SEX_FEMALE", "citizenships": ["AL"`,
			status: 400, code: codes.InvalidArgument, message: "invalid request body"},
		{name: "empty body",
			status: 400, code: codes.InvalidArgument, message: "request body is empty"},
		{name: "blank body", body: " \r\n\t ",
			status: 400, code: codes.InvalidArgument, message: "request body is empty"},
		{name: "not JSON", body: `profile.sex=SEX_FEMALE`,
			status: 400, code: codes.InvalidArgument, message: "invalid request body"},
		{name: "unknown enum value", body: strings.Replace(registerBody, `"SEX_FEMALE"`, `"SEX_FEMININE"`, 1),
			status: 400, code: codes.InvalidArgument, message: `invalid value for enum field sex: "SEX_FEMININE"`},
		{name: "fraction for an enum", body: strings.Replace(registerBody, `"SEX_FEMALE"`, `5.5`, 1),
			status: 400, code: codes.InvalidArgument, message: "sex"},
		{name: "string for a list", body: strings.Replace(registerBody, `["AL"]`, `"AL"`, 1),
			status: 400, code: codes.InvalidArgument, message: `unexpected token "AL"`},
		{name: "string for a number", body: strings.Replace(registerBody, `17`, `"seventeen"`, 1),
			status: 400, code: codes.InvalidArgument, message: "ageAtIdentification"},
		{name: "unknown field", body: strings.Replace(registerBody, `"sex"`, `"nickname": "Ana", "sex"`, 1),
			status: 400, code: codes.InvalidArgument, message: `unknown field "nickname"`},
		{name: "data after the object", body: registerBody + `{"profile": {}}`,
			status: 400, code: codes.InvalidArgument, message: "invalid request body"},
		{name: "20 MB with Content-Length", big: 20 * mib, length: 20 * mib,
			status: 413, code: codes.ResourceExhausted, message: "exceeds the limit of 1048576 bytes"},
		{name: "20 MB chunked", big: 20 * mib, length: chunked,
			status: 413, code: codes.ResourceExhausted, message: "exceeds the limit of 1048576 bytes"},
		{name: "one byte over the limit with Content-Length", big: mib + 1, length: mib + 1,
			status: 413, code: codes.ResourceExhausted, message: "exceeds the limit"},
		{name: "one byte over the limit chunked", big: mib + 1, length: chunked,
			status: 413, code: codes.ResourceExhausted, message: "exceeds the limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r response
			if tt.big > 0 {
				r = e.sendRaw(t, http.MethodPost, "/v1/cases", oversized(tt.big), tt.length)
			} else {
				r = e.sendRaw(t, http.MethodPost, "/v1/cases", strings.NewReader(tt.body), int64(len(tt.body)))
			}
			got := wantError(t, r, tt.status, int(tt.code))
			if !strings.Contains(got.Message, tt.message) {
				t.Errorf("message %q does not contain %q", got.Message, tt.message)
			}
			if calls := e.cases.recorded(); len(calls) != 0 {
				t.Fatalf("the backend was called with %v", calls[0].req)
			}
		})
	}

	// The gateway is unharmed.
	r := e.do(t, http.MethodPost, e.api+"/v1/cases", registerBody)
	if r.status != http.StatusOK {
		t.Fatalf("after the bad requests: status %d; body %s", r.status, r.body)
	}
	if n := len(e.cases.recorded()); n != 1 {
		t.Errorf("backend called %d times, want once", n)
	}
}

func TestDeclaredOversizeIsRefusedBeforeTheBodyArrives(t *testing.T) {
	e := start(t, nil)
	// Headers only: a gateway that waited for the body would never answer.
	r := e.sendBytes(t, fmt.Sprintf("POST /v1/cases HTTP/1.1\r\nHost: gateway\r\nContent-Length: %d\r\n\r\n", 20*mib))
	wantError(t, r, http.StatusRequestEntityTooLarge, int(codes.ResourceExhausted))
	if !r.close {
		t.Error("the connection is kept open with 20 MB of body still to come")
	}
}

func TestBodyThatCannotBeRead(t *testing.T) {
	e := start(t, func(c *gateway.Config) { c.RequestTimeout = 300 * time.Millisecond })
	tests := []struct {
		name, raw string
		status    int
		code      codes.Code
		message   string
		cause     string // in the log line
	}{
		{
			name:   "body stops arriving",
			raw:    "POST /v1/cases HTTP/1.1\r\nHost: gateway\r\nX-Request-Id: stalled\r\nContent-Length: 100\r\n\r\n{\"profile\": ",
			status: http.StatusRequestTimeout, code: codes.DeadlineExceeded,
			message: "the request body did not arrive in time", cause: "i/o timeout",
		},
		{
			name:   "malformed chunked encoding",
			raw:    "POST /v1/cases HTTP/1.1\r\nHost: gateway\r\nX-Request-Id: malformed\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
			status: http.StatusBadRequest, code: codes.InvalidArgument,
			message: "the request body could not be read", cause: "chunk",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.sendBytes(t, tt.raw)
			if got := wantError(t, r, tt.status, int(tt.code)); got.Message != tt.message {
				t.Errorf("message %q, want %q", got.Message, tt.message)
			}
			if strings.Contains(string(r.body), "127.0.0.1") {
				t.Errorf("the error shows an address: %s", r.body)
			}
			id := r.header.Get("X-Request-Id")
			var cause string
			for _, rec := range e.logs.records(t, "http request") {
				if rec["request_id"] == id {
					cause, _ = rec["error"].(string)
				}
			}
			if !strings.Contains(cause, tt.cause) {
				t.Errorf("logged cause %q, want it to mention %q", cause, tt.cause)
			}
		})
	}
	if calls := e.cases.recorded(); len(calls) != 0 {
		t.Errorf("the backend was called with %v", calls[0].req)
	}
}

func TestBodyOfExactlyTheLimitIsAccepted(t *testing.T) {
	const limit = 4 << 10
	e := start(t, func(c *gateway.Config) { c.MaxBodyBytes = limit })
	atLimit := registerBody + strings.Repeat(" ", limit-len(registerBody))
	overLimit := atLimit + " "
	for _, chunked := range []bool{false, true} {
		length := func(body string) int64 {
			if chunked {
				return -1
			}
			return int64(len(body))
		}
		t.Run(fmt.Sprintf("chunked=%t", chunked), func(t *testing.T) {
			before := len(e.cases.recorded())
			r := e.sendRaw(t, http.MethodPost, "/v1/cases", strings.NewReader(atLimit), length(atLimit))
			if r.status != http.StatusOK {
				t.Errorf("%d bytes: status %d; body %s", len(atLimit), r.status, r.body)
			}
			r = e.sendRaw(t, http.MethodPost, "/v1/cases", strings.NewReader(overLimit), length(overLimit))
			wantError(t, r, http.StatusRequestEntityTooLarge, int(codes.ResourceExhausted))
			if n := len(e.cases.recorded()) - before; n != 1 {
				t.Errorf("backend called %d times, want once", n)
			}
		})
	}
}
