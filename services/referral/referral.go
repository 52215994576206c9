// Package referral refers victims and potential victims for assistance and protection (SOPs,
// step 3): the service that owns the service catalogue, the directory of providers and the
// referrals themselves.
package referral

import (
	"context"
	"fmt"
	"time"

	referralv1 "github.com/nrm-albania/nrm/proto/nrm/referral/v1"
	"github.com/nrm-albania/nrm/services/platform/app"
	"github.com/nrm-albania/nrm/services/platform/config"
	"github.com/nrm-albania/nrm/services/platform/piicrypto"
	"github.com/nrm-albania/nrm/services/referral/internal/cases"
	"github.com/nrm-albania/nrm/services/referral/internal/providers"
	"github.com/nrm-albania/nrm/services/referral/internal/referrals"
	"github.com/nrm-albania/nrm/services/referral/internal/server"
)

// Defaults are the service's settings when nothing is configured.
func Defaults() app.Config { return app.Defaults("referral", "127.0.0.1:9102", "127.0.0.1:9202") }

// Service is the referral service with the keys that seal the referrals' free text
// (NRM_PII_MASTER_KEYS, NRM_PII_INDEX_KEY) and the way to the case registry, which it asks on
// its callers' behalf (NRM_CASEREGISTRY_ADDR, NRM_SERVICE_TOKEN_FILE: docs/security.md).
type Service struct {
	Keys         piicrypto.Config
	RegistryAddr string
	TokenFile    string
	// Registry, when set, is asked instead of dialing RegistryAddr: a test's own registry.
	Registry cases.Registry
}

// Bind registers the service's own settings.
func (s *Service) Bind(set *config.Set) {
	s.Keys.Bind(set)
	set.String(&s.RegistryAddr, "caseregistry-addr", "127.0.0.1:9101", "the case registry's gRPC address, asked about cases on the caller's behalf")
	set.String(&s.TokenFile, "service-token-file", "",
		"file holding the service's own bearer token (institution NRM, role service), read at each call so that a renewed token is picked up")
	set.RequireAddr("caseregistry-addr", &s.RegistryAddr)
}

// Setup registers the service and seeds the providers' directory with its defaults on a fresh
// installation. Its one worker closes the connection to the case registry at shutdown.
func (s *Service) Setup(ctx context.Context, rt *app.Runtime) ([]app.Worker, error) {
	if s.Keys.MasterKeys() == nil || s.Keys.IndexKey() == nil {
		return nil, fmt.Errorf("the keys that seal referrals are not configured (%s, %s)",
			config.EnvName(piicrypto.MasterKeysSetting), config.EnvName(piicrypto.IndexKeySetting))
	}
	registry, workers := s.Registry, []app.Worker(nil)
	if registry == nil {
		if s.TokenFile == "" {
			return nil, fmt.Errorf("%s is required: the service asks the case registry about cases on its callers' behalf", config.EnvName("service-token-file"))
		}
		client, err := cases.Dial(s.RegistryAddr, cases.TokenFile(s.TokenFile))
		if err != nil {
			return nil, err
		}
		registry = client
		workers = append(workers, func(ctx context.Context) error {
			<-ctx.Done()
			return client.Close()
		})
	}
	ps := providers.New(rt.DB)
	if err := ps.Seed(ctx, providers.Defaults(), time.Now()); err != nil {
		return nil, err
	}
	rs := referrals.New(rt.DB)
	if err := rs.Vault.EnsureIndexes(ctx); err != nil {
		return nil, err
	}
	rt.Outbox.Notify()
	referralv1.RegisterReferralServiceServer(rt.GRPC, server.New(server.Deps{
		Providers: ps, Referrals: rs, Cases: registry, Keys: s.Keys.MasterKeys(), Index: s.Keys.IndexKey(),
		Relay: rt.Outbox, Log: rt.Logger,
	}))
	return workers, nil
}

// WithKeys returns the service with keys given as the settings' values would be, for the dev
// launcher and tests.
func WithKeys(masterKeys, indexKey string) (*Service, error) {
	var s Service
	if err := config.Apply("referral", piicrypto.Settings(masterKeys, indexKey), s.Bind); err != nil {
		return nil, err
	}
	return &s, nil
}
