package gateway_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"github.com/nrm-albania/nrm/gateway"
	caseregistryv1 "github.com/nrm-albania/nrm/proto/nrm/caseregistry/v1"
)

func TestRequestDeadlineReachesTheBackend(t *testing.T) {
	const timeout = 300 * time.Millisecond
	e := start(t, func(c *gateway.Config) { c.RequestTimeout = timeout })

	if r := e.do(t, http.MethodGet, e.api+"/v1/cases/c-0001", ""); r.status != http.StatusOK {
		t.Fatalf("status %d; body %s", r.status, r.body)
	}
	if left := e.cases.last(t).deadline; left <= 0 || left > timeout {
		t.Errorf("backend saw %v left, want a deadline within %v", left, timeout)
	}

	e.cases.set("GetCase", func(ctx context.Context) (proto.Message, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	})
	began := time.Now()
	r := e.do(t, http.MethodGet, e.api+"/v1/cases/c-0001", "")
	wantError(t, r, http.StatusGatewayTimeout, int(codes.DeadlineExceeded))
	if took := time.Since(began); took > timeout+2*time.Second {
		t.Errorf("answered after %v, want about %v", took, timeout)
	}
}

func TestShutdownDrainsRequestsInFlight(t *testing.T) {
	e := start(t, nil)
	started, release := make(chan struct{}), make(chan struct{})
	e.cases.set("GetCase", func(ctx context.Context) (proto.Message, error) {
		close(started)
		select {
		case <-release:
			return &caseregistryv1.GetCaseResponse{Case: sampleCase()}, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	})
	// Not e.do: t.Fatal must not be called outside the test's goroutine.
	inFlight := make(chan error, 1)
	go func() {
		resp, err := e.client.Get(e.api + "/v1/cases/c-0001")
		if err == nil {
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				err = fmt.Errorf("status %d", resp.StatusCode)
			}
		}
		inFlight <- err
	}()
	<-started

	stopped := make(chan error, 1)
	go func() { stopped <- e.stop() }()

	// While draining, readiness says so and new connections are refused.
	waitFor(t, "readiness to report draining", func() bool {
		code, rd := e.readyz(t)
		return code == http.StatusServiceUnavailable && rd.Checks["shutdown"] == "draining"
	})
	if conn, err := net.Dial("tcp", e.apiAddr); err == nil {
		conn.Close()
		t.Error("a new connection was accepted while draining")
	}
	select {
	case err := <-stopped:
		t.Fatalf("Run returned with a request in flight: %v", err)
	default:
	}

	close(release)
	if err := <-inFlight; err != nil {
		t.Errorf("the request in flight: %v", err)
	}
	select {
	case err := <-stopped:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after the last request")
	}
}

func TestShutdownCutsRequestsAtTheDeadline(t *testing.T) {
	e := start(t, func(c *gateway.Config) { c.ShutdownTimeout = 300 * time.Millisecond })
	started := make(chan struct{})
	e.cases.set("GetCase", func(ctx context.Context) (proto.Message, error) {
		close(started)
		<-ctx.Done()
		return nil, ctx.Err()
	})
	go func() {
		<-started
		// Run's error is checked by the test's cleanup.
		e.stop()
	}()
	// The gateway closes the connection without an answer; that is the test passing.
	req, _ := http.NewRequest(http.MethodGet, e.api+"/v1/cases/c-0001", nil)
	began := time.Now()
	if resp, err := e.client.Do(req); err == nil {
		resp.Body.Close()
	}
	if took := time.Since(began); took > 5*time.Second {
		t.Errorf("the stuck request lasted %v after a 300ms shutdown deadline", took)
	}
}

// waitFor polls cond for up to five seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}
