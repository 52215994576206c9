// Package secretariat is the Authority's secretariat (points 8 to 10 of the Joint Instruction):
// the service that keeps the Authority's composition and, in time, its meetings.
package secretariat

import (
	"context"
	"time"

	secretariatv1 "github.com/nrm-albania/nrm/proto/nrm/secretariat/v1"
	"github.com/nrm-albania/nrm/services/platform/access"
	"github.com/nrm-albania/nrm/services/platform/app"
	"github.com/nrm-albania/nrm/services/secretariat/internal/directory"
	"github.com/nrm-albania/nrm/services/secretariat/internal/letters"
	"github.com/nrm-albania/nrm/services/secretariat/internal/members"
	"github.com/nrm-albania/nrm/services/secretariat/internal/server"
)

// firstSeedWithin bounds the seeding attempt made before the service serves: long enough for a
// healthy database, short enough that a database that is down only delays the start a little.
const firstSeedWithin = 2 * time.Second

// Defaults are the service's settings when nothing is configured.
func Defaults() app.Config { return app.Defaults("secretariat", "127.0.0.1:9103", "127.0.0.1:9203") }

// Setup seeds the Authority's default composition, registers the services, and keeps the access
// directory published. Seeding is tried
// once here so that, with the database up, no caller ever meets the not-yet-seeded state; if it
// fails, a worker keeps retrying while the service answers Unavailable, rather than the process
// failing and restarting until the database comes back.
func Setup(ctx context.Context, rt *app.Runtime) ([]app.Worker, error) {
	st := members.NewStore(rt.DB)
	seeder := members.NewSeeder(st.Seed, rt.Logger)
	secretariatv1.RegisterSecretariatServiceServer(rt.GRPC, server.New(st, seeder.Seeded))

	// The directory of who may call is kept here and published to every service (this one too).
	dir := directory.NewStore(rt.DB)
	sync := directory.NewSyncer(dir, rt.JS, access.Bucket(rt.NS, rt.Config.NATSReplicas), rt.Logger, time.Now)
	secretariatv1.RegisterAccessServiceServer(rt.GRPC, server.NewAccess(dir, sync, time.Now))

	// The correspondence register; its attachments' limits are NRM_LETTER_ATTACHMENT_*.
	policy, err := letters.PolicyFromEnv()
	if err != nil {
		return nil, err
	}
	secretariatv1.RegisterCorrespondenceServiceServer(rt.GRPC, server.NewCorrespondence(letters.New(rt.DB), policy, rt.Outbox, rt.Logger))

	first, cancel := context.WithTimeout(ctx, firstSeedWithin)
	defer cancel()
	if seeder.Seed(first) == nil {
		return []app.Worker{sync.Run}, nil
	}
	return []app.Worker{seeder.Run, sync.Run}, nil
}
