package referral_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	eventsv1 "github.com/nrm-albania/nrm/proto/nrm/events/v1"
	"github.com/nrm-albania/nrm/services/platform/apierr"
	"github.com/nrm-albania/nrm/services/platform/natsbus"
	"github.com/nrm-albania/nrm/services/platform/testenv"
	"github.com/nrm-albania/nrm/services/referral"
	"github.com/nrm-albania/nrm/services/referral/internal/cases"
)

// registry is the case registry as the referral service's tests make it: cases by id, or down.
type registry struct {
	mu    sync.Mutex
	cases map[string]cases.Case
	down  bool
	// asked records the institution each lookup was made for.
	asked []string
}

func (r *registry) Case(_ context.Context, id string) (cases.Case, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.down {
		return cases.Case{}, apierr.Unavailable("the case registry did not answer")
	}
	c, ok := r.cases[id]
	if !ok {
		return cases.Case{}, status.Errorf(codes.NotFound, "case %q not found", id)
	}
	return c, nil
}

func (r *registry) put(c cases.Case) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cases[c.ID] = c
}

func randomKey() string {
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	return base64.StdEncoding.EncodeToString(k)
}

// serveWith runs the service for a test, asking reg about cases.
func serveWith(t testing.TB, reg *registry) *testenv.Served {
	t.Helper()
	svc, err := referral.WithKeys("k1:"+randomKey(), randomKey())
	if err != nil {
		t.Fatal(err)
	}
	svc.Registry = reg
	return testenv.Serve(t, referral.Defaults(), svc.Setup)
}

// served runs the service with a registry holding no case.
func served(t *testing.T) *testenv.Served {
	return serveWith(t, &registry{cases: map[string]cases.Case{}})
}

// eventsWhen waits until the events the service published to its stream satisfy done (the relay
// publishes after the commit, not with it) and returns them.
func eventsWhen(t *testing.T, s *testenv.Served, what string, done func([]*eventsv1.Envelope) bool) []*eventsv1.Envelope {
	t.Helper()
	var envs []*eventsv1.Envelope
	testenv.Eventually(t, 30*time.Second, what, func() bool {
		envs = s.Bus.Envelopes(t, natsbus.StreamReferral)
		return done(envs)
	})
	return envs
}
