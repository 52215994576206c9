package app

import (
	"time"

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
		Reflection:      true,
		MaxRecvBytes:    4 << 20,
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

	s.RequireAddr("grpc-addr", &c.GRPCAddr)
	s.RequireAddr("admin-addr", &c.AdminAddr)
	s.RequireURL("mongo-uri", &c.MongoURI, "mongodb", "mongodb+srv")
	s.RequireNonEmpty("mongo-database", &c.MongoDatabase)
	s.RequireURL("nats-url", &c.NATSURL, "nats", "tls", "ws", "wss")
	s.Check(func() error { return config.CheckPattern("nats-namespace", c.NATSNamespace, `^[a-z0-9]{0,16}$`) })
	s.RequireOneOf("log-level", &c.LogLevel, "debug", "info", "warn", "error")
	s.RequirePositive("shutdown-timeout", &c.ShutdownTimeout)
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
