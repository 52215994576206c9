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
	"github.com/nrm-albania/nrm/services/platform/consumer"
	"github.com/nrm-albania/nrm/services/platform/natsbus"
	"github.com/nrm-albania/nrm/services/platform/peer"
	"github.com/nrm-albania/nrm/services/platform/piicrypto"
	"github.com/nrm-albania/nrm/services/platform/workdays"
	"github.com/nrm-albania/nrm/services/referral/internal/cases"
	"github.com/nrm-albania/nrm/services/referral/internal/deadlines"
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
	RegistryTLS  peer.TLS
	TokenFile    string
	// Registry, when set, is asked instead of dialing RegistryAddr: a test's own registry.
	Registry cases.Registry
	// Deadlines: when recipients must answer, the grace before a pending referral expires, the
	// sweep's pace and the public holidays it skips (as NRM_PUBLIC_HOLIDAYS gives them).
	Deadlines     deadlines.Policy
	Grace         time.Duration
	SweepInterval time.Duration
	holidays      string
	overrides     string
}

// Bind registers the service's own settings.
func (s *Service) Bind(set *config.Set) {
	s.Keys.Bind(set)
	set.String(&s.RegistryAddr, "caseregistry-addr", "127.0.0.1:9101", "the case registry's gRPC address, asked about cases on the caller's behalf")
	set.String(&s.TokenFile, "service-token-file", "",
		"file holding the service's own bearer token (institution NRM, role service), read at each call so that a renewed token is picked up")
	set.RequireAddr("caseregistry-addr", &s.RegistryAddr)
	set.String(&s.RegistryTLS.CAFile, "caseregistry-tls-ca-file", "", "CA bundle (PEM) of the case registry's certificate; calls it over TLS when set")
	set.String(&s.RegistryTLS.ServerName, "caseregistry-tls-server-name", "", "name expected in the case registry's certificate instead of its address's host")
	set.Duration(&s.Deadlines.Emergency, "referral-emergency-deadline", 24*time.Hour, "time a recipient has to answer an emergency referral")
	set.Int(&s.Deadlines.StandardDays, "referral-standard-days", 5, "working days a recipient has to answer a standard referral")
	set.Duration(&s.Grace, "referral-expiry-grace", 72*time.Hour, "time after its deadline at which an unanswered referral expires (it is overdue from the deadline)")
	set.Duration(&s.SweepInterval, "referral-sweep-interval", time.Minute, "pause between two looks at the pending referrals' deadlines")
	set.String(&s.holidays, "public-holidays", workdays.DefaultHolidays, "public holidays, YYYY-MM-DD[,…], that are not working days (weekends never are)")
	set.String(&s.overrides, "referral-deadlines", "",
		"service types' own deadlines, SERVICE_TYPE_X:emergency=12h or SERVICE_TYPE_X:standard=3 (working days), comma-separated")
	set.RequirePositive("referral-emergency-deadline", &s.Deadlines.Emergency)
	set.RequirePositive("referral-sweep-interval", &s.SweepInterval)
	set.Check(func() error { return config.CheckRange("referral-standard-days", s.Deadlines.StandardDays, 1, 60) })
	set.Check(func() error {
		if s.Grace < 0 {
			return fmt.Errorf("%s must not be negative", config.EnvName("referral-expiry-grace"))
		}
		var err error
		if s.Deadlines.Calendar.Holidays, err = workdays.ParseHolidays(s.holidays); err != nil {
			return fmt.Errorf("%s: %w", config.EnvName("public-holidays"), err)
		}
		if s.Deadlines.ByService, err = deadlines.ParseOverrides(s.overrides); err != nil {
			return fmt.Errorf("%s: %w", config.EnvName("referral-deadlines"), err)
		}
		return nil
	})
}

// Setup registers the service and seeds the providers' directory with its defaults on a fresh
// installation. Its workers sweep the pending referrals' deadlines, withdraw referrals when
// consent is withdrawn (from the registry's case.updated events) and close the connection to
// the case registry at shutdown.
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
		client, err := cases.Dial(s.RegistryAddr, s.RegistryTLS, peer.TokenFile(s.TokenFile))
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
	srv := server.New(server.Deps{
		Providers: ps, Referrals: rs, Cases: registry, Keys: s.Keys.MasterKeys(), Index: s.Keys.IndexKey(),
		Deadlines: s.Deadlines, Grace: s.Grace, Relay: rt.Outbox, Log: rt.Logger,
	})
	referralv1.RegisterReferralServiceServer(rt.GRPC, srv)
	withdrawals := rt.Consumer(consumer.Config{
		Stream:   natsbus.StreamCase,
		Durable:  server.ConsentConsumer,
		Subjects: []string{"nrm.case.updated"},
	}, srv.ConsentWithdrawals())
	return append(workers, app.Every(s.SweepInterval, "the deadline sweep", rt.Logger, srv.Sweep), withdrawals.Run), nil
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
