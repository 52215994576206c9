// Package stack starts the whole system in one process: NATS with JetStream and FerretDB
// (embedded unless external ones are given), the four services and the REST gateway, each on its
// own port and talking over real sockets as in production. `make run` and the end-to-end tests
// and benchmarks use it.
package stack

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/nrm-albania/nrm/gateway"
	"github.com/nrm-albania/nrm/services/caseregistry"
	"github.com/nrm-albania/nrm/services/platform/admin"
	"github.com/nrm-albania/nrm/services/platform/app"
	"github.com/nrm-albania/nrm/services/platform/auth"
	"github.com/nrm-albania/nrm/services/platform/embedded"
	"github.com/nrm-albania/nrm/services/referral"
	"github.com/nrm-albania/nrm/services/reporting"
	"github.com/nrm-albania/nrm/services/secretariat"
	"github.com/nrm-albania/nrm/tools/stack/mailcatcher"
)

// Options configures a stack. The zero value is not useful; see the fields.
type Options struct {
	// DataDir holds the embedded stores' data (ferretdb/, nats/) and the development signing
	// key and tokens; it survives restarts.
	DataDir string
	// MongoURI, when set, is used instead of starting FerretDB.
	MongoURI string
	// FerretDBPostgreSQLURL, when set (and MongoURI is not), runs the embedded FerretDB on
	// PostgreSQL instead of SQLite.
	FerretDBPostgreSQLURL string
	// NATSURL, when set, is used instead of starting NATS.
	NATSURL string
	// EmbeddedMongoAddr and EmbeddedNATSAddr are where the embedded servers listen.
	EmbeddedMongoAddr, EmbeddedNATSAddr string
	// Ephemeral binds every service and the gateway to free ports instead of the fixed ones.
	Ephemeral bool
	// DatabasePrefix prefixes each service's database name ("" gives nrm_caseregistry, ...).
	DatabasePrefix string
	// NATSNamespace separates this system's streams on a shared NATS.
	NATSNamespace string
	// LogOutput receives every component's JSON log; nil discards it.
	LogOutput io.Writer
	// LogLevel for the services and the gateway.
	LogLevel string
	// ReferralAccessGrace, when set, replaces the registry's NRM_REFERRAL_ACCESS_GRACE: a test
	// that watches a recipient's access end.
	ReferralAccessGrace time.Duration
	// ReferralEmergencyDeadline, when set, replaces the time to answer an emergency referral
	// and makes the deadline sweep look every tenth of it: a test that watches one go overdue.
	ReferralEmergencyDeadline time.Duration
	// MailCatcher starts a development mail server that keeps every message under
	// DataDir/mail and shows them on a web page: SMTP on 127.0.0.1:1025 and the page on
	// http://127.0.0.1:8025/, or free ports when Ephemeral.
	MailCatcher bool
}

// Service is the addresses of one running component.
type Service struct {
	Name      string
	GRPCAddr  string // the gateway's HTTP address for the gateway
	AdminAddr string
	Database  string // the service's own database; "" for the gateway
}

// Stack is a running system.
type Stack struct {
	MongoURI string
	NATSURL  string
	Services []Service // caseregistry, referral, reporting, secretariat, gateway
	// GatewayURL is the REST base URL, e.g. http://127.0.0.1:8080.
	GatewayURL string
	// Tokens are the development tokens, also written to DataDir/dev-tokens.env.
	Tokens []auth.DevToken
	// Issuer mints further development tokens.
	Issuer *auth.DevIssuer
	// MailSMTPAddr, MailURL and MailDir are the mail catcher's SMTP address, web page and
	// directory of .eml files, when Options.MailCatcher is set.
	MailSMTPAddr, MailURL, MailDir string

	cancel   context.CancelFunc
	wg       sync.WaitGroup
	errs     chan error
	ferretdb *embedded.FerretDB
	nats     *embedded.NATS
	mail     *mailcatcher.Catcher
}

// IndexStore has the embedded FerretDB index, now, the tables created since its last round (its
// lookups by _id scan until then); a no-op against an external store.
func (s *Stack) IndexStore(ctx context.Context) error {
	if s.ferretdb == nil {
		return nil
	}
	return s.ferretdb.IndexNow(ctx)
}

type component struct {
	defaults app.Config
	setup    app.Setup
}

func components(registry *caseregistry.Service, referrals *referral.Service, sec *secretariat.Service, rep *reporting.Service) []component {
	return []component{
		{caseregistry.Defaults(), registry.Setup},
		{referral.Defaults(), referrals.Setup},
		// Reporting before the secretariat, which fetches the submitted reports from it.
		{reporting.Defaults(), rep.Setup},
		{secretariat.Defaults(), sec.Setup},
	}
}

// DevReportRecipients are where `make run` mails the submitted reports: the Ministry's general
// director and deputy minister, as development addresses that reach the mail catcher.
const DevReportRecipients = "General director <general.director@ministry.nrm.test>, Deputy minister <deputy.minister@ministry.nrm.test>"

// Start starts the system and returns once every component serves. Stop it with Stop.
func Start(o Options) (_ *Stack, err error) {
	if o.LogOutput == nil {
		o.LogOutput = io.Discard
	}
	if o.LogLevel == "" {
		o.LogLevel = "info"
	}
	s := &Stack{MongoURI: o.MongoURI, NATSURL: o.NATSURL, errs: make(chan error, 8)}
	defer func() {
		if err != nil {
			s.Stop()
		}
	}()
	// Development mode: a local signing key that every service trusts, and tokens to call with.
	if s.Issuer, err = auth.LoadOrCreateDevIssuer(o.DataDir); err != nil {
		return nil, err
	}
	if s.Tokens, err = s.Issuer.DevTokens(o.DataDir); err != nil {
		return nil, err
	}
	jc := s.Issuer.JWTConfig()
	devAuth := app.AuthConfig{JWKS: jc.JWKS, Issuer: jc.Issuer, Audience: jc.Audience, Algorithms: strings.Join(jc.Algorithms, ",")}

	mk, ik, err := PIIKeys(o.DataDir)
	if err != nil {
		return nil, err
	}
	registry, err := caseregistry.WithKeys(mk, ik)
	if err != nil {
		return nil, err
	}
	if o.ReferralAccessGrace > 0 {
		registry.ReferralAccessGrace = o.ReferralAccessGrace
	}
	referrals, err := referral.WithKeys(mk, ik)
	if err != nil {
		return nil, err
	}
	if d := o.ReferralEmergencyDeadline; d > 0 {
		referrals.Deadlines.Emergency, referrals.SweepInterval = d, d/10
	}
	if referrals.TokenFile, err = ServiceToken(s.Issuer, o.DataDir, "referral"); err != nil {
		return nil, err
	}

	if o.MailCatcher {
		smtpAddr, httpAddr := "127.0.0.1:1025", "127.0.0.1:8025"
		if o.Ephemeral {
			smtpAddr, httpAddr = "127.0.0.1:0", "127.0.0.1:0"
		}
		if s.mail, err = mailcatcher.Start(filepath.Join(o.DataDir, "mail"), smtpAddr, httpAddr); err != nil {
			return nil, err
		}
		s.MailSMTPAddr, s.MailURL, s.MailDir = s.mail.SMTPAddr, s.mail.URL, s.mail.Dir
	}
	// The secretariat sends its notices to the catcher, and every member has a development
	// representative for them to reach.
	secToken, err := ServiceToken(s.Issuer, o.DataDir, "secretariat")
	if err != nil {
		return nil, err
	}
	sec, err := secretariat.Configured(map[string]string{"NRM_SMTP_ADDR": s.MailSMTPAddr, "NRM_DEV_REPRESENTATIVES": "true",
		"NRM_SERVICE_TOKEN_FILE": secToken, "NRM_REPORT_MAIL_RECIPIENTS": DevReportRecipients})
	if err != nil {
		return nil, err
	}
	rep, err := reporting.Configured(nil)
	if err != nil {
		return nil, err
	}
	if s.NATSURL == "" {
		if s.nats, err = embedded.StartNATS(o.EmbeddedNATSAddr, filepath.Join(o.DataDir, "nats")); err != nil {
			return nil, err
		}
		s.NATSURL = s.nats.URL()
	}
	if s.MongoURI == "" {
		fo := embedded.FerretDBOptions{Addr: o.EmbeddedMongoAddr, PostgreSQLURL: o.FerretDBPostgreSQLURL}
		if fo.PostgreSQLURL == "" {
			fo.SQLiteDir = filepath.Join(o.DataDir, "ferretdb")
		}
		if s.ferretdb, err = embedded.StartFerretDB(fo); err != nil {
			return nil, err
		}
		s.MongoURI = s.ferretdb.URI()
	}

	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	for _, c := range components(registry, referrals, sec, rep) {
		cfg := c.defaults
		cfg.MongoURI, cfg.NATSURL, cfg.NATSNamespace, cfg.LogLevel = s.MongoURI, s.NATSURL, o.NATSNamespace, o.LogLevel
		cfg.MongoDatabase = o.DatabasePrefix + cfg.MongoDatabase
		cfg.Auth, cfg.Reflection = devAuth, true
		if o.Ephemeral {
			cfg.GRPCAddr, cfg.AdminAddr = "127.0.0.1:0", "127.0.0.1:0"
		}
		svc, err := s.launch(cfg.Service, func(listening func(a, b net.Addr)) error {
			return app.Run(ctx, cfg, c.setup, app.Options{LogOutput: o.LogOutput, Listening: listening})
		})
		if err != nil {
			return nil, err
		}
		svc.Database = cfg.MongoDatabase
		s.Services = append(s.Services, svc)
		switch cfg.Service {
		case "caseregistry":
			referrals.RegistryAddr = svc.GRPCAddr // launched next, it asks the registry about cases
		case "reporting":
			sec.ReportingAddr = svc.GRPCAddr // launched next, it fetches the submitted reports
		}
	}

	gw := gateway.Defaults()
	gw.LogLevel = o.LogLevel
	// The gateway verifies tokens with the key set the services trust.
	gw.AuthJWKS, gw.AuthIssuer, gw.AuthAudience, gw.AuthAlgorithms = devAuth.JWKS, devAuth.Issuer, devAuth.Audience, devAuth.Algorithms
	gw.CaseRegistryAddr, gw.ReferralAddr = s.Services[0].GRPCAddr, s.Services[1].GRPCAddr
	gw.ReportingAddr, gw.SecretariatAddr = s.Services[2].GRPCAddr, s.Services[3].GRPCAddr
	if o.Ephemeral {
		// Tests and benchmarks drive many requests as one principal; the limit has tests of its own.
		gw.Addr, gw.AdminAddr, gw.RateLimit = "127.0.0.1:0", "127.0.0.1:0", 0
	}
	svc, err := s.launch("gateway", func(listening func(a, b net.Addr)) error {
		return gateway.Run(ctx, gw, gateway.Options{LogOutput: o.LogOutput, Listening: listening})
	})
	if err != nil {
		return nil, err
	}
	s.Services = append(s.Services, svc)
	s.GatewayURL = "http://" + svc.GRPCAddr
	if err := s.waitForAccess(accessWithin); err != nil {
		return nil, err
	}
	return s, nil
}

// accessWithin bounds the wait for the services to load the access directory, which the
// secretariat publishes when it starts.
const accessWithin = time.Minute

// waitForAccess waits until every service has loaded the access directory: until then each
// refuses every call (Unavailable), and a system that says it has started should not.
func (s *Stack) waitForAccess(within time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	for _, svc := range s.Services {
		if svc.Database == "" { // the gateway keeps no directory
			continue
		}
		for {
			checks, err := admin.Readiness(ctx, svc.AdminAddr)
			if err == nil && checks["access"] == "ok" {
				break
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("%s did not load the access directory within %s (readiness: %v %v)", svc.Name, within, checks, err)
			case err := <-s.errs:
				return err
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	return nil
}

// launch runs one component in the background and waits until it listens or fails.
func (s *Stack) launch(name string, run func(listening func(a, b net.Addr)) error) (Service, error) {
	ready := make(chan Service, 1)
	failed := make(chan error, 1)
	s.wg.Go(func() {
		err := run(func(a, b net.Addr) { ready <- Service{Name: name, GRPCAddr: a.String(), AdminAddr: b.String()} })
		if err != nil {
			failed <- fmt.Errorf("%s: %w", name, err)
			select {
			case s.errs <- fmt.Errorf("%s: %w", name, err):
			default:
			}
		}
	})
	select {
	case svc := <-ready:
		return svc, nil
	case err := <-failed:
		return Service{}, err
	case <-time.After(30 * time.Second):
		return Service{}, fmt.Errorf("%s did not start within 30s", name)
	}
}

// Err delivers the first failure of a running component.
func (s *Stack) Err() <-chan error { return s.errs }

// Stop shuts the components down gracefully, then the embedded servers.
func (s *Stack) Stop() {
	if s.cancel != nil {
		s.cancel()
	}
	s.wg.Wait()
	if s.ferretdb != nil {
		s.ferretdb.Stop()
	}
	if s.nats != nil {
		s.nats.Stop()
	}
	if s.mail != nil {
		s.mail.Stop()
	}
}

// ServiceToken writes a development token for the service's own calls to the others
// (institution NRM, role service) to a file of the data directory, and returns its path; the
// service reads it at each call (NRM_SERVICE_TOKEN_FILE).
func ServiceToken(issuer *auth.DevIssuer, dir, service string) (string, error) {
	tok, err := issuer.Mint(auth.Principal{Institution: "NRM", Subject: service, Roles: []auth.Role{auth.RoleService}}, 30*24*time.Hour)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, service+"-service-token")
	if err := os.WriteFile(path, []byte(tok), 0o600); err != nil {
		return "", fmt.Errorf("write the %s service's token: %w", service, err)
	}
	return path, nil
}
