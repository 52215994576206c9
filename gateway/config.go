package gateway

import (
	"time"

	"github.com/nrm-albania/nrm/services/platform/config"
)

// Config holds the gateway's settings.
type Config struct {
	// Addr is where the REST/JSON API listens.
	Addr string
	// AdminAddr is where /healthz, /readyz, /metrics and /debug/pprof listen.
	AdminAddr string
	// CaseRegistryAddr, ReferralAddr, SecretariatAddr and ReportingAddr are the backends' gRPC
	// addresses (host:port).
	CaseRegistryAddr string
	ReferralAddr     string
	SecretariatAddr  string
	ReportingAddr    string
	// MaxBodyBytes bounds a request body; a larger one is refused with 413.
	MaxBodyBytes int
	// RequestTimeout bounds one request, the backend call included; the deadline travels to the
	// backend with the call.
	RequestTimeout time.Duration
	// LogLevel is debug, info, warn or error.
	LogLevel string
	// OTLPEndpoint, when set, receives traces over OTLP/gRPC (host:port).
	OTLPEndpoint string
	// ShutdownTimeout bounds the graceful shutdown.
	ShutdownTimeout time.Duration
}

// Defaults returns the settings when nothing is configured: local addresses for development,
// the backends on the ports the services use by default.
func Defaults() Config {
	return Config{
		Addr:             "127.0.0.1:8080",
		AdminAddr:        "127.0.0.1:9200",
		CaseRegistryAddr: "127.0.0.1:9101",
		ReferralAddr:     "127.0.0.1:9102",
		SecretariatAddr:  "127.0.0.1:9103",
		ReportingAddr:    "127.0.0.1:9104",
		MaxBodyBytes:     1 << 20,
		RequestTimeout:   30 * time.Second,
		LogLevel:         "info",
		ShutdownTimeout:  15 * time.Second,
	}
}

// Bind registers the gateway's settings on s, with c's current values as defaults.
func (c *Config) Bind(s *config.Set) {
	s.String(&c.Addr, "http-addr", c.Addr, "REST/JSON listen address")
	s.String(&c.AdminAddr, "admin-addr", c.AdminAddr, "admin HTTP listen address (health, metrics, pprof)")
	s.String(&c.CaseRegistryAddr, "caseregistry-addr", c.CaseRegistryAddr, "case-registry gRPC address")
	s.String(&c.ReferralAddr, "referral-addr", c.ReferralAddr, "referral gRPC address")
	s.String(&c.SecretariatAddr, "secretariat-addr", c.SecretariatAddr, "secretariat gRPC address")
	s.String(&c.ReportingAddr, "reporting-addr", c.ReportingAddr, "reporting gRPC address")
	s.Int(&c.MaxBodyBytes, "max-body-bytes", c.MaxBodyBytes, "largest request body accepted, in bytes")
	s.Duration(&c.RequestTimeout, "request-timeout", c.RequestTimeout, "deadline of one request, backend call included")
	s.String(&c.LogLevel, "log-level", c.LogLevel, "log level: debug, info, warn, error")
	s.String(&c.OTLPEndpoint, "otlp-endpoint", c.OTLPEndpoint, "OTLP/gRPC trace collector host:port; empty disables export")
	s.Duration(&c.ShutdownTimeout, "shutdown-timeout", c.ShutdownTimeout, "deadline for graceful shutdown")

	s.RequireAddr("http-addr", &c.Addr)
	s.RequireAddr("admin-addr", &c.AdminAddr)
	s.RequireAddr("caseregistry-addr", &c.CaseRegistryAddr)
	s.RequireAddr("referral-addr", &c.ReferralAddr)
	s.RequireAddr("secretariat-addr", &c.SecretariatAddr)
	s.RequireAddr("reporting-addr", &c.ReportingAddr)
	// The upper bound matches the largest message a service accepts (grpc-max-recv-bytes): a
	// bigger body could never reach a backend anyway.
	s.Check(func() error { return config.CheckRange("max-body-bytes", c.MaxBodyBytes, 1<<10, 64<<20) })
	s.RequirePositive("request-timeout", &c.RequestTimeout)
	s.RequireOneOf("log-level", &c.LogLevel, "debug", "info", "warn", "error")
	s.RequirePositive("shutdown-timeout", &c.ShutdownTimeout)
	s.Check(func() error {
		if c.OTLPEndpoint == "" {
			return nil
		}
		return config.CheckAddr("otlp-endpoint", c.OTLPEndpoint)
	})
}
