// Package caseregistry is the National Database for Victims of Trafficking (point 6 of the Joint
// Instruction): the service that registers cases and owns their data.
package caseregistry

import (
	"context"
	"fmt"
	"time"

	caseregistryv1 "github.com/nrm-albania/nrm/proto/nrm/caseregistry/v1"
	"github.com/nrm-albania/nrm/services/caseregistry/internal/server"
	"github.com/nrm-albania/nrm/services/caseregistry/internal/store"
	"github.com/nrm-albania/nrm/services/platform/app"
	"github.com/nrm-albania/nrm/services/platform/config"
	"github.com/nrm-albania/nrm/services/platform/consumer"
	"github.com/nrm-albania/nrm/services/platform/natsbus"
	"github.com/nrm-albania/nrm/services/platform/piicrypto"
)

// Defaults are the service's settings when nothing is configured.
func Defaults() app.Config { return app.Defaults("caseregistry", "127.0.0.1:9101", "127.0.0.1:9201") }

// Service is the case registry with the keys that protect identities (NRM_PII_MASTER_KEYS,
// NRM_PII_INDEX_KEY) and its housekeeping settings.
type Service struct {
	Keys         piicrypto.Config
	Housekeeping server.Housekeeping
	// ReferralAccessGrace is how long a referral's recipient keeps access to the identity after
	// the referral ends.
	ReferralAccessGrace time.Duration
}

// Bind registers the service's own settings.
func (s *Service) Bind(set *config.Set) {
	s.Keys.Bind(set)
	set.Int(&s.Housekeeping.RetentionYears, "retention-years", 10,
		"years after a case's closure at which its identity is erased (crypto-shredded); 0 keeps identities until erased by hand")
	set.Duration(&s.Housekeeping.Every, "housekeeping-interval", time.Hour,
		"pause between rounds of the retention sweep, of re-wrapping data keys after a master-key rotation and of destroying keys left without an identity")
	set.RequirePositive("housekeeping-interval", &s.Housekeeping.Every)
	set.Duration(&s.ReferralAccessGrace, "referral-access-grace", 7*24*time.Hour,
		"how long a referral's recipient keeps access to the case's identity after the referral is completed, cancelled or withdrawn")
	set.Check(func() error { return config.CheckRange("retention-years", s.Housekeeping.RetentionYears, 0, 100) })
}

// WithKeys returns the service with keys given as the settings' values would be, for the dev
// launcher and tests.
func WithKeys(masterKeys, indexKey string) (*Service, error) {
	var s Service
	if err := config.Apply("caseregistry", piicrypto.Settings(masterKeys, indexKey), s.Bind); err != nil {
		return nil, err
	}
	return &s, nil
}

// ListConsumer is the durable consumer of the registry's own case events that keeps the list
// index up to date; it also names its dead letters, nrm.dlq.caseregistry-case-list.<subject>.
const ListConsumer = "caseregistry-case-list"

// ReferralAccessConsumer is the durable consumer of the referral service's events that gives a
// referral's recipient access to the case's identity while the referral is accepted.
const ReferralAccessConsumer = "caseregistry-referral-access"

// Setup registers the service and its workers: housekeeping, and the consumer that keeps the
// list index up to date. Its events leave through the runtime's outbox relay.
func (s *Service) Setup(ctx context.Context, rt *app.Runtime) ([]app.Worker, error) {
	if s.Keys.MasterKeys() == nil || s.Keys.IndexKey() == nil {
		return nil, fmt.Errorf("the identity keys are not configured (%s, %s)",
			config.EnvName(piicrypto.MasterKeysSetting), config.EnvName(piicrypto.IndexKeySetting))
	}
	st := store.New(rt.DB)
	if err := st.EnsureIndexes(ctx); err != nil {
		return nil, err
	}
	srv := server.New(st, rt.Outbox, s.Keys.MasterKeys(), s.Keys.IndexKey(), rt.Audit, rt.Logger, rt.Registry)
	caseregistryv1.RegisterCaseRegistryServiceServer(rt.GRPC, srv)
	lists := rt.Consumer(consumer.Config{
		Stream:   natsbus.StreamCase,
		Durable:  ListConsumer,
		Subjects: []string{"nrm.case.>"},
	}, srv.ListIndexer())
	access := rt.Consumer(consumer.Config{
		Stream:  natsbus.StreamReferral,
		Durable: ReferralAccessConsumer,
		// One filter subject: NATS servers before 2.10 take no more; the handler reads the four
		// event types that matter and lets the others go.
		Subjects: []string{"nrm.referral.>"},
	}, srv.ReferralAccess(s.ReferralAccessGrace))
	return []app.Worker{srv.Housekeep(s.Housekeeping), lists.Run, access.Run}, nil
}
