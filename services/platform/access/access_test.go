package access_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/nrm-albania/nrm/services/platform/access"
	"github.com/nrm-albania/nrm/services/platform/auth"
	"github.com/nrm-albania/nrm/services/platform/testenv"
)

// clock is a settable time source.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// following starts a directory following a fresh bucket and returns it with the publisher.
func following(t *testing.T, clk *clock) (*access.Directory, *access.Publisher) {
	t.Helper()
	bus := testenv.NewBus(t)
	cfg := access.Bucket(bus.NS, 1)
	ctx, cancel := context.WithCancel(context.Background())
	pub, err := access.OpenPublisher(ctx, bus.JS, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var now func() time.Time
	if clk != nil {
		now = clk.Now
	}
	d := access.NewDirectory(time.Minute, now)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = d.Follow(ctx, bus.JS, cfg, slog.New(slog.DiscardHandler))
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		_ = bus.JS.DeleteKeyValue(context.Background(), cfg.Bucket)
	})
	return d, pub
}

func reason(err error) (codes.Code, string) {
	st := status.Convert(err)
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return st.Code(), info.Reason
		}
	}
	return st.Code(), ""
}

func police(tokenID string, issued time.Time) *auth.Principal {
	return &auth.Principal{Institution: "ASP-ANTITRAF", Subject: "officer-7", Roles: []auth.Role{auth.RoleCaseworker},
		Credential: auth.Credential{TokenID: tokenID, IssuedAt: issued}}
}

func TestDirectoryAdmitsOnlyKnownActiveUnrevokedCallers(t *testing.T) {
	ctx := context.Background()
	d, pub := following(t, nil)

	// Nothing is admitted before the secretariat has published the directory, even once the
	// (empty) bucket has been read: an empty bucket is a fresh installation, not a verdict.
	testenv.Eventually(t, 10*time.Second, "bucket read", func() bool {
		code, r := reason(d.Admit(police("t1", time.Now())))
		return code == codes.Unavailable && r == access.ReasonLoading
	})

	must(t, pub.PutInstitution(ctx, access.Institution{Code: "ASP-ANTITRAF", Kind: access.KindMember, Active: true}))
	must(t, pub.PutInstitution(ctx, access.Institution{Code: "OLD-NGO", Kind: access.KindProvider, Active: false}))
	must(t, pub.MarkSeeded(ctx))
	testenv.Eventually(t, 10*time.Second, "directory ready", func() bool { return d.Ready() == nil })

	issued := time.Now().Add(-time.Hour)
	must(t, pub.PutTokenRevocation(ctx, "stolen-jti", time.Now().Add(time.Hour)))
	must(t, pub.PutSubjectRevocation(ctx, "ASP-ANTITRAF", "left-the-job", issued.Add(time.Minute)))
	// Two puts, which the watch may deliver apart: wait for both.
	testenv.Eventually(t, 10*time.Second, "revocations applied", func() bool {
		leaver := &auth.Principal{Institution: "ASP-ANTITRAF", Subject: "left-the-job", Credential: auth.Credential{IssuedAt: issued}}
		return d.Admit(police("stolen-jti", issued)) != nil && d.Admit(leaver) != nil
	})

	cases := []struct {
		name   string
		p      *auth.Principal
		code   codes.Code
		reason string
	}{
		{"known and active", police("t2", issued), codes.OK, ""},
		{"certificate of a known institution", &auth.Principal{Institution: "ASP-ANTITRAF", Subject: "case-system",
			Credential: auth.Credential{IssuedAt: issued}}, codes.OK, ""},
		{"unknown institution", &auth.Principal{Institution: "ZZ-UNKNOWN", Subject: "x"}, codes.PermissionDenied, access.ReasonInstitutionUnknown},
		{"deactivated institution", &auth.Principal{Institution: "OLD-NGO", Subject: "x"}, codes.PermissionDenied, access.ReasonInstitutionInactive},
		{"revoked token", police("stolen-jti", issued), codes.Unauthenticated, access.ReasonRevoked},
		{"revoked subject, token issued before", &auth.Principal{Institution: "ASP-ANTITRAF", Subject: "left-the-job",
			Credential: auth.Credential{TokenID: "t3", IssuedAt: issued}}, codes.Unauthenticated, access.ReasonRevoked},
		{"revoked subject, token without iat", &auth.Principal{Institution: "ASP-ANTITRAF", Subject: "left-the-job",
			Credential: auth.Credential{TokenID: "t4"}}, codes.Unauthenticated, access.ReasonRevoked},
		{"revoked subject, token issued after", &auth.Principal{Institution: "ASP-ANTITRAF", Subject: "left-the-job",
			Credential: auth.Credential{TokenID: "t5", IssuedAt: issued.Add(2 * time.Minute)}}, codes.OK, ""},
		{"same subject in another institution", &auth.Principal{Institution: "OLD-NGO", Subject: "left-the-job"},
			codes.PermissionDenied, access.ReasonInstitutionInactive},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, r := reason(d.Admit(c.p))
			if code != c.code || r != c.reason {
				t.Fatalf("Admit = %s %q, want %s %q", code, r, c.code, c.reason)
			}
		})
	}

	// A deactivation applies without a restart, as soon as the bus delivers it.
	must(t, pub.PutInstitution(ctx, access.Institution{Code: "ASP-ANTITRAF", Kind: access.KindMember, Active: false}))
	testenv.Eventually(t, 10*time.Second, "deactivation applied", func() bool {
		_, r := reason(d.Admit(police("t6", issued)))
		return r == access.ReasonInstitutionInactive
	})
	// An expired token's revocation can be forgotten.
	must(t, pub.DeleteTokenRevocation(ctx, "stolen-jti"))
	must(t, pub.PutInstitution(ctx, access.Institution{Code: "ASP-ANTITRAF", Kind: access.KindMember, Active: true}))
	testenv.Eventually(t, 10*time.Second, "revocation forgotten", func() bool { return d.Admit(police("stolen-jti", issued)) == nil })
}

func TestDirectoryRefusesWhenTheBusHasNotConfirmedItWithinTheBound(t *testing.T) {
	ctx := context.Background()
	clk := &clock{now: time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)}
	d, pub := following(t, clk)
	must(t, pub.PutInstitution(ctx, access.Institution{Code: "ASP-ANTITRAF", Kind: access.KindMember, Active: true}))
	must(t, pub.MarkSeeded(ctx))
	testenv.Eventually(t, 10*time.Second, "directory ready", func() bool { return d.Ready() == nil })

	// The directory was built with a one-minute bound; nothing the bus says is older than that yet.
	clk.Advance(59 * time.Second)
	if err := d.Admit(police("t", clk.Now())); err != nil {
		t.Fatalf("within the bound: %v", err)
	}
	// Past the bound without a confirmation (the test's clock moves, the watcher's ticker has
	// not fired in real time): refused as Unavailable, never admitted on an old copy.
	clk.Advance(2 * time.Second)
	code, r := reason(d.Admit(police("t", clk.Now())))
	if code != codes.Unavailable || r != access.ReasonStale {
		t.Fatalf("past the bound: %s %q, want Unavailable %s", code, r, access.ReasonStale)
	}
	if d.Ready() == nil {
		t.Fatal("Ready() = nil past the staleness bound")
	}
	// Any news from the bus confirms it again.
	must(t, pub.PutInstitution(ctx, access.Institution{Code: "KKSAT", Kind: access.KindMember, Active: true}))
	testenv.Eventually(t, 10*time.Second, "confirmed by an update", func() bool { return d.Ready() == nil })
}

func TestKeysAreValidBucketKeysWhateverTheCredentialHolds(t *testing.T) {
	for _, k := range []string{
		access.TokenKey("jti with spaces/and*wildcards>"),
		access.SubjectKey("ASP-ANTITRAF", "name.with.dots and ümlauts"),
		access.InstitutionKey("MEPJ-KONSULLORE"),
	} {
		for _, r := range k {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.' || r == '_') {
				t.Fatalf("key %q holds %q", k, r)
			}
		}
	}
	if access.SubjectKey("A", "B-C") == access.SubjectKey("A-B", "C") {
		t.Fatal("subject keys of different (institution, subject) pairs collide")
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
