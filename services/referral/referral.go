// Package referral refers victims and potential victims for assistance and protection (SOPs,
// step 3): the service that owns the service catalogue, the directory of providers and, in
// time, the referrals themselves.
package referral

import (
	"context"
	"time"

	referralv1 "github.com/nrm-albania/nrm/proto/nrm/referral/v1"
	"github.com/nrm-albania/nrm/services/platform/app"
	"github.com/nrm-albania/nrm/services/referral/internal/providers"
	"github.com/nrm-albania/nrm/services/referral/internal/server"
)

// Defaults are the service's settings when nothing is configured.
func Defaults() app.Config { return app.Defaults("referral", "127.0.0.1:9102", "127.0.0.1:9202") }

// Setup registers the service and seeds the providers' directory with its defaults on a fresh
// installation; it has no background work yet.
func Setup(ctx context.Context, rt *app.Runtime) ([]app.Worker, error) {
	ps := providers.New(rt.DB)
	if err := ps.Seed(ctx, providers.Defaults(), time.Now()); err != nil {
		return nil, err
	}
	rt.Outbox.Notify()
	referralv1.RegisterReferralServiceServer(rt.GRPC, server.New(ps, rt.Outbox, rt.Logger))
	return nil, nil
}
