// Package referral refers victims and potential victims for assistance and protection (SOPs,
// step 3): the service that owns the service catalogue and, in time, the referrals themselves.
package referral

import (
	"context"

	referralv1 "github.com/nrm-albania/nrm/proto/nrm/referral/v1"
	"github.com/nrm-albania/nrm/services/platform/app"
	"github.com/nrm-albania/nrm/services/referral/internal/server"
)

// Defaults are the service's settings when nothing is configured.
func Defaults() app.Config { return app.Defaults("referral", "127.0.0.1:9102", "127.0.0.1:9202") }

// Setup registers the service; it has no background work yet.
func Setup(_ context.Context, rt *app.Runtime) ([]app.Worker, error) {
	referralv1.RegisterReferralServiceServer(rt.GRPC, server.New())
	return nil, nil
}
