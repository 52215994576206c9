package testenv

import (
	"context"
	"testing"
	"time"

	"github.com/nrm-albania/nrm/services/platform/access"
	"github.com/nrm-albania/nrm/services/platform/admin"
)

// Institutions are the institution codes tests' principals use; Serve publishes them as the
// access directory, as the secretariat would, so that a service under test admits them.
var Institutions = []string{"MB-DPAM", "MB-SEKRETARIATI", "ASP-ANTITRAF", "ASP-KUFIRI", "KKSAT", "ISHPSHSH", "SHSSH", "NRM"}

// PublishAccess publishes codes as active institutions in the bus's access bucket and marks the
// directory seeded.
func PublishAccess(t testing.TB, bus *Bus, codes ...string) *access.Publisher {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg := access.Bucket(bus.NS, 1)
	pub, err := access.OpenPublisher(ctx, bus.JS, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = bus.JS.DeleteKeyValue(ctx, cfg.Bucket)
	})
	for _, c := range codes {
		if err := pub.PutInstitution(ctx, access.Institution{Code: c, Kind: access.KindMember, Active: true}); err != nil {
			t.Fatal(err)
		}
	}
	if err := pub.MarkSeeded(ctx); err != nil {
		t.Fatal(err)
	}
	return pub
}

// WaitForAccess waits until the service whose admin port is adminAddr has loaded the access
// directory (its readiness check "access"), so that a test's first call is not refused as
// arriving before it.
func WaitForAccess(t testing.TB, adminAddr string) {
	t.Helper()
	Eventually(t, 30*time.Second, "access directory loaded at "+adminAddr, func() bool {
		checks, err := admin.Readiness(context.Background(), adminAddr)
		return err == nil && checks["access"] == "ok"
	})
}
