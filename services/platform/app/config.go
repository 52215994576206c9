package app

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/connstring"

	"github.com/nrm-albania/nrm/services/platform/access"
	"github.com/nrm-albania/nrm/services/platform/authz"
	"github.com/nrm-albania/nrm/services/platform/config"
)

// Config holds the settings every service binary shares.
type Config struct {
	// Service is the service's name, used in logs, metrics and traces.
	Service string
	// GRPCAddr is where the gRPC API listens.
	GRPCAddr string
	// AdminAddr is where /healthz, /readyz, /metrics and /debug/pprof listen.
	AdminAddr string
	// MongoURI and MongoDatabase locate the service's own database.
	MongoURI      string
	MongoDatabase string
	// NATSURL locates the NATS server with JetStream.
	NATSURL string
	// NATSNamespace prefixes streams and subjects when several systems share one NATS.
	NATSNamespace string
	// NATSReplicas is the replica count of every stream (3 on a production cluster).
	NATSReplicas int
	// LogLevel is debug, info, warn or error.
	LogLevel string
	// OTLPEndpoint, when set, receives traces over OTLP/gRPC (host:port).
	OTLPEndpoint string
	// ShutdownTimeout bounds the graceful shutdown.
	ShutdownTimeout time.Duration
	// Reflection enables gRPC server reflection (for grpcurl).
	Reflection bool
	// MaxRecvBytes bounds the size of one incoming gRPC message.
	MaxRecvBytes int
	// AccessMaxStaleness is how long the access directory is trusted without the bus
	// confirming it; past it every call is refused (Unavailable).
	AccessMaxStaleness time.Duration
	// AuditPurposes is the comma-separated list of codes in which callers state why they read
	// personal data (x-nrm-purpose); every other purpose is refused.
	AuditPurposes string
	// Auth configures how callers are authenticated. At least one of bearer tokens (JWKS) and
	// client certificates (ClientCAFile) must be set.
	Auth AuthConfig
}

// AuthConfig says how a service authenticates its callers.
type AuthConfig struct {
	// JWKS is the key set bearer tokens are verified against: a file path or an https URL.
	JWKS       string
	Issuer     string
	Audience   string
	Algorithms string // comma-separated; empty means RS256, ES256, EdDSA
	// TLS: the server's certificate, and the CA and identity mapping of client certificates.
	CertFile, KeyFile, ClientCAFile, IdentitiesFile string
}

// Defaults returns the settings of a service when nothing is configured: local addresses for
// development, the given ports.
func Defaults(service, grpcAddr, adminAddr string) Config {
	return Config{
		Service:         service,
		GRPCAddr:        grpcAddr,
		AdminAddr:       adminAddr,
		MongoURI:        "mongodb://127.0.0.1:27017/",
		MongoDatabase:   "nrm_" + service,
		NATSURL:         "nats://127.0.0.1:4222",
		NATSReplicas:    1,
		LogLevel:        "info",
		ShutdownTimeout: 15 * time.Second,
		Reflection:      false,
		MaxRecvBytes:    4 << 20,

		AccessMaxStaleness: access.DefaultMaxStaleness,
		AuditPurposes:      authz.DefaultPurposes,
	}
}

// Bind registers the shared settings on s, with c's current values as defaults.
func (c *Config) Bind(s *config.Set) {
	s.String(&c.GRPCAddr, "grpc-addr", c.GRPCAddr, "gRPC listen address")
	s.String(&c.AdminAddr, "admin-addr", c.AdminAddr, "admin HTTP listen address (health, metrics, pprof)")
	s.String(&c.MongoURI, "mongo-uri", c.MongoURI, "MongoDB connection string")
	s.String(&c.MongoDatabase, "mongo-database", c.MongoDatabase, "MongoDB database owned by this service")
	s.String(&c.NATSURL, "nats-url", c.NATSURL, "NATS server URL (JetStream enabled)")
	s.String(&c.NATSNamespace, "nats-namespace", c.NATSNamespace, "prefix of streams and subjects, for several systems on one NATS; empty in a dedicated deployment")
	s.Int(&c.NATSReplicas, "nats-replicas", c.NATSReplicas, "replicas of every JetStream stream: 1 on one server, 3 on a cluster")
	s.String(&c.LogLevel, "log-level", c.LogLevel, "log level: debug, info, warn, error")
	s.String(&c.OTLPEndpoint, "otlp-endpoint", c.OTLPEndpoint, "OTLP/gRPC trace collector host:port; empty disables export")
	s.Duration(&c.ShutdownTimeout, "shutdown-timeout", c.ShutdownTimeout, "deadline for graceful shutdown")
	s.Bool(&c.Reflection, "grpc-reflection", c.Reflection, "serve gRPC reflection")
	s.Int(&c.MaxRecvBytes, "grpc-max-recv-bytes", c.MaxRecvBytes, "largest gRPC request message accepted, in bytes")
	s.Duration(&c.AccessMaxStaleness, "access-max-staleness", c.AccessMaxStaleness,
		"how long the directory of institutions and revocations is trusted without the bus confirming it; past it calls are refused")
	s.String(&c.AuditPurposes, "audit-purposes", c.AuditPurposes, "codes in which callers state the purpose of reading personal data (x-nrm-purpose), comma-separated")
	c.Auth.bind(s)

	s.RequireAddr("grpc-addr", &c.GRPCAddr)
	s.RequireAddr("admin-addr", &c.AdminAddr)
	s.Check(func() error { return checkMongoURI(c.MongoURI) })
	s.RequireNonEmpty("mongo-database", &c.MongoDatabase)
	s.RequireURL("nats-url", &c.NATSURL, "nats", "tls", "ws", "wss")
	s.Check(func() error { return config.CheckPattern("nats-namespace", c.NATSNamespace, `^[a-z0-9]{0,16}$`) })
	s.Check(func() error {
		if _, err := authz.ParsePurposes(c.AuditPurposes); err != nil {
			return fmt.Errorf("%s (--audit-purposes): %w", config.EnvName("audit-purposes"), err)
		}
		return nil
	})
	s.RequireOneOf("log-level", &c.LogLevel, "debug", "info", "warn", "error")
	s.RequirePositive("shutdown-timeout", &c.ShutdownTimeout)
	s.Check(func() error {
		if c.AccessMaxStaleness < 10*time.Second || c.AccessMaxStaleness > time.Hour {
			return fmt.Errorf("%s: must be between 10s and 1h, got %s", config.EnvName("access-max-staleness"), c.AccessMaxStaleness)
		}
		return nil
	})
	s.Check(func() error {
		if c.OTLPEndpoint == "" {
			return nil
		}
		return config.CheckAddr("otlp-endpoint", c.OTLPEndpoint)
	})
	s.Check(func() error { return config.CheckRange("nats-replicas", c.NATSReplicas, 1, 5) })
	s.Check(func() error {
		return config.CheckRange("grpc-max-recv-bytes", c.MaxRecvBytes, 1<<10, 64<<20)
	})
}

func (a *AuthConfig) bind(s *config.Set) {
	s.String(&a.JWKS, "auth-jwks", a.JWKS, "key set for bearer tokens: a file path or an https URL")
	s.String(&a.Issuer, "auth-issuer", a.Issuer, "required issuer (iss) of bearer tokens")
	s.String(&a.Audience, "auth-audience", a.Audience, "required audience (aud) of bearer tokens")
	s.String(&a.Algorithms, "auth-algorithms", a.Algorithms, "accepted signature algorithms, comma-separated (default RS256,ES256,EdDSA)")
	s.String(&a.CertFile, "tls-cert-file", a.CertFile, "server certificate (PEM); serves TLS when set")
	s.String(&a.KeyFile, "tls-key-file", a.KeyFile, "server private key (PEM)")
	s.String(&a.ClientCAFile, "tls-client-ca-file", a.ClientCAFile, "CA of member institutions' client certificates (mutual TLS)")
	s.String(&a.IdentitiesFile, "tls-identities-file", a.IdentitiesFile, "JSON mapping of client certificates to institutions and roles")
	s.Check(func() error {
		var errs []error
		if a.JWKS == "" && a.ClientCAFile == "" {
			errs = append(errs, fmt.Errorf("%s or %s: authentication is not configured; set a JWKS for bearer tokens or a client CA for mutual TLS",
				config.EnvName("auth-jwks"), config.EnvName("tls-client-ca-file")))
		}
		if a.JWKS != "" && (a.Issuer == "" || a.Audience == "") {
			errs = append(errs, fmt.Errorf("%s and %s: required with %s", config.EnvName("auth-issuer"), config.EnvName("auth-audience"), config.EnvName("auth-jwks")))
		}
		if (a.CertFile == "") != (a.KeyFile == "") {
			errs = append(errs, fmt.Errorf("%s and %s: set both or neither", config.EnvName("tls-cert-file"), config.EnvName("tls-key-file")))
		}
		if a.ClientCAFile != "" && (a.CertFile == "" || a.IdentitiesFile == "") {
			errs = append(errs, fmt.Errorf("%s: needs %s, %s and %s", config.EnvName("tls-client-ca-file"),
				config.EnvName("tls-cert-file"), config.EnvName("tls-key-file"), config.EnvName("tls-identities-file")))
		}
		return errors.Join(errs...)
	})
}

// checkMongoURI validates a connection string with the driver's own parser, since a seed list
// (mongodb://db1:27017,db2/?replicaSet=rs0) is no URL that net/url accepts. A mongodb+srv URI
// names one host, whose records would be looked up over DNS: its syntax is checked without that.
func checkMongoURI(uri string) error {
	name := config.EnvName("mongo-uri") + " (--mongo-uri)"
	if rest, ok := strings.CutPrefix(uri, "mongodb+srv://"); ok {
		if u, err := url.Parse("mongodb://" + rest); err != nil || u.Hostname() == "" || u.Port() != "" {
			return fmt.Errorf("%s: a mongodb+srv URI names one host without a port", name)
		}
		return nil
	}
	if !strings.HasPrefix(uri, "mongodb://") {
		return fmt.Errorf("%s: must start with mongodb:// or mongodb+srv://", name)
	}
	if _, err := connstring.Parse(uri); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}
