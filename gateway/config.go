package gateway

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
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
	// CORSAllowedOrigins lists, comma-separated, the exact origins (scheme://host[:port]) whose
	// web pages may call the API from a browser. Empty sends no CORS headers at all, so browsers
	// refuse every page served from another origin. Kept as the raw setting, not a slice, so
	// that Config stays comparable and reads as it is configured.
	CORSAllowedOrigins string
	// AuthJWKS, AuthIssuer, AuthAudience and AuthAlgorithms verify bearer tokens exactly as the
	// services do (the same NRM_AUTH_* settings): the gateway refuses a token it cannot verify
	// and keys the rate limit by the verified principal. The services still verify every token.
	AuthJWKS, AuthIssuer, AuthAudience string
	AuthAlgorithms                     string // comma-separated; empty means RS256, ES256, EdDSA
	// RateLimit is the sustained number of requests per second allowed to one principal (one
	// verified institution and subject, or one client address for requests without a token);
	// 0 disables the limit.
	RateLimit int
	// RateBurst is how many requests a principal may make at once above RateLimit.
	RateBurst int
	// RateLimitInstitutions gives the principals of some institutions another limit than
	// RateLimit, and RateLimitSubjects some subjects (a portal's service account, say): both
	// comma-separated NAME=RATE or NAME=RATE/BURST (burst twice the rate when left out). A
	// subject's entry wins over its institution's.
	RateLimitInstitutions string
	RateLimitSubjects     string
	// BackendTLSCAFile, when set, makes the gateway call the services over TLS, trusting the CAs
	// in this PEM bundle; empty calls them in plain text.
	BackendTLSCAFile string
	// BackendTLSCertFile and BackendTLSKeyFile are the gateway's client certificate, presented
	// only on its readiness probes: a call carrying a user's token must not present one, since
	// a service refuses a certificate and a bearer token together.
	BackendTLSCertFile, BackendTLSKeyFile string
	// BackendTLSServerName, when set, is the name checked in every service's certificate instead
	// of the host of its address.
	BackendTLSServerName string
	// TrustedProxies lists, comma-separated, the addresses or CIDRs of the reverse proxies in
	// front of the gateway whose X-Forwarded-For is believed when keying the rate limit by
	// client address. Empty ignores X-Forwarded-For: any client could write it.
	TrustedProxies string
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
		RateLimit:        20,
		RateBurst:        40,
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
	s.String(&c.CORSAllowedOrigins, settingCORSOrigins, c.CORSAllowedOrigins,
		"comma-separated origins (scheme://host[:port]) allowed to call the API from a browser; empty allows none")
	s.String(&c.AuthJWKS, settingAuthJWKS, c.AuthJWKS, "key set of bearer tokens, as the services have it: a file path or an https URL")
	s.String(&c.AuthIssuer, settingAuthIssuer, c.AuthIssuer, "required issuer (iss) of bearer tokens")
	s.String(&c.AuthAudience, settingAuthAudience, c.AuthAudience, "required audience (aud) of bearer tokens")
	s.String(&c.AuthAlgorithms, "auth-algorithms", c.AuthAlgorithms, "accepted signature algorithms, comma-separated (default RS256,ES256,EdDSA)")
	s.Int(&c.RateLimit, settingRateLimit, c.RateLimit, "requests per second per principal (verified token, or client address without one); 0 disables")
	s.Int(&c.RateBurst, settingRateBurst, c.RateBurst, "requests a principal may make at once above the rate limit")
	s.String(&c.RateLimitInstitutions, settingRateInstitutions, c.RateLimitInstitutions,
		"per-institution limits of its principals, comma-separated CODE=RATE or CODE=RATE/BURST")
	s.String(&c.RateLimitSubjects, settingRateSubjects, c.RateLimitSubjects,
		"per-subject limits (service accounts), comma-separated SUBJECT=RATE or SUBJECT=RATE/BURST; win over the institution's")
	s.String(&c.BackendTLSCAFile, settingBackendCA, c.BackendTLSCAFile, "CA bundle (PEM) of the services' certificates; calls them over TLS when set")
	s.String(&c.BackendTLSCertFile, settingBackendCert, c.BackendTLSCertFile, "client certificate (PEM) presented on readiness probes only")
	s.String(&c.BackendTLSKeyFile, settingBackendKey, c.BackendTLSKeyFile, "private key (PEM) of the client certificate")
	s.String(&c.BackendTLSServerName, settingBackendServerName, c.BackendTLSServerName, "name expected in the services' certificates instead of their address's host")
	s.String(&c.TrustedProxies, settingTrustedProxies, c.TrustedProxies,
		"comma-separated addresses or CIDRs of reverse proxies whose X-Forwarded-For is believed; empty ignores the header")

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
	s.Check(func() error { _, err := c.parseEdgeSettings(); return err })
}

// The edge's settings, by flag name; the environment variables are NRM_ and the name in capitals.
const (
	settingCORSOrigins       = "cors-allowed-origins"
	settingAuthJWKS          = "auth-jwks"
	settingAuthIssuer        = "auth-issuer"
	settingAuthAudience      = "auth-audience"
	settingRateLimit         = "rate-limit"
	settingRateBurst         = "rate-burst"
	settingRateInstitutions  = "rate-limit-institutions"
	settingRateSubjects      = "rate-limit-subjects"
	settingTrustedProxies    = "trusted-proxies"
	settingBackendCA         = "backend-tls-ca-file"
	settingBackendCert       = "backend-tls-cert-file"
	settingBackendKey        = "backend-tls-key-file"
	settingBackendServerName = "backend-tls-server-name"
)

// maxRate bounds both rate settings: far above what one caller can legitimately need, and low
// enough that a typo (an extra few zeros) is caught at start rather than silently disabling the
// limit.
const maxRate = 100_000

// settingError names a setting the way the config package does, for the checks that Run repeats
// when the gateway is embedded without going through Bind.
func settingError(name, format string, args ...any) error {
	return fmt.Errorf("%s (--%s): %s", config.EnvName(name), name, fmt.Sprintf(format, args...))
}

// edgeSettings is the parsed form of the edge's settings.
type edgeSettings struct {
	origins []string
	proxies []netip.Prefix
	limits  limits
}

// parseEdgeSettings checks the settings beyond addresses and durations (edge, tokens, TLS to the
// services), all problems at once. Run calls it too, because
// an embedder (the dev launcher, tests) fills Config without Bind's checks.
func (c *Config) parseEdgeSettings() (edgeSettings, error) {
	origins, oErr := parseOrigins(c.CORSAllowedOrigins)
	proxies, pErr := parseTrustedProxies(c.TrustedProxies)
	institutions, iErr := parseRates(settingRateInstitutions, c.RateLimitInstitutions)
	subjects, sErr := parseRates(settingRateSubjects, c.RateLimitSubjects)
	var lErr error
	if c.RateLimit == 0 && (len(institutions) > 0 || len(subjects) > 0) {
		lErr = settingError(settingRateLimit, "is 0 (no limit) while %s or %s is set; set a limit for everyone else",
			config.EnvName(settingRateInstitutions), config.EnvName(settingRateSubjects))
	}
	err := errors.Join(oErr, c.checkAuth(), checkRate(c.RateLimit, c.RateBurst), iErr, sErr, lErr, pErr, c.checkBackendTLS())
	return edgeSettings{
		origins: origins,
		proxies: proxies,
		limits:  limits{byDefault: rateOf{c.RateLimit, c.RateBurst}, institutions: institutions, subjects: subjects},
	}, err
}

// checkAuth requires the token settings: without them the gateway could neither refuse made-up
// tokens nor tell one caller from another.
func (c *Config) checkAuth() error {
	var errs []error
	for _, s := range []struct{ name, value string }{
		{settingAuthJWKS, c.AuthJWKS}, {settingAuthIssuer, c.AuthIssuer}, {settingAuthAudience, c.AuthAudience},
	} {
		if strings.TrimSpace(s.value) == "" {
			errs = append(errs, settingError(s.name, "is required: the gateway verifies bearer tokens with the services' key set"))
		}
	}
	return errors.Join(errs...)
}

// checkBackendTLS refuses a client certificate without TLS, and half a certificate.
func (c *Config) checkBackendTLS() error {
	var errs []error
	if (c.BackendTLSCertFile == "") != (c.BackendTLSKeyFile == "") {
		errs = append(errs, settingError(settingBackendCert, "and %s: set both or neither", config.EnvName(settingBackendKey)))
	}
	if c.BackendTLSCAFile == "" && (c.BackendTLSCertFile != "" || c.BackendTLSServerName != "") {
		errs = append(errs, settingError(settingBackendCA, "is required with %s or %s: they only apply over TLS",
			config.EnvName(settingBackendCert), config.EnvName(settingBackendServerName)))
	}
	return errors.Join(errs...)
}

// parseRates reads a list of NAME=RATE or NAME=RATE/BURST. A burst left out is twice the rate,
// the ratio of the default limit.
func parseRates(setting, list string) (map[string]rateOf, error) {
	rates := map[string]rateOf{}
	var errs []error
	for entry := range strings.SplitSeq(list, ",") {
		e := strings.TrimSpace(entry)
		if e == "" {
			continue
		}
		name, value, ok := strings.Cut(e, "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" || strings.ContainsAny(name, " \t/") {
			errs = append(errs, settingError(setting, "%q is not NAME=RATE or NAME=RATE/BURST", e))
			continue
		}
		if _, dup := rates[name]; dup {
			errs = append(errs, settingError(setting, "%s is listed twice", name))
			continue
		}
		r, err := parseRate(strings.TrimSpace(value))
		if err != nil {
			errs = append(errs, settingError(setting, "%s: %v", name, err))
			continue
		}
		rates[name] = r
	}
	return rates, errors.Join(errs...)
}

func parseRate(v string) (rateOf, error) {
	perSecond, burstText, hasBurst := strings.Cut(v, "/")
	limit, err := strconv.Atoi(perSecond)
	if err != nil || limit < 1 || limit > maxRate {
		return rateOf{}, fmt.Errorf("rate %q is not a whole number of requests per second in 1..%d", perSecond, maxRate)
	}
	burst := min(2*limit, maxRate)
	if hasBurst {
		if burst, err = strconv.Atoi(burstText); err != nil || burst < 1 || burst > maxRate {
			return rateOf{}, fmt.Errorf("burst %q is not a whole number in 1..%d", burstText, maxRate)
		}
	}
	return rateOf{limit, burst}, nil
}

// parseOrigins splits the CORS allow-list and checks that every entry is an origin exactly as a
// browser sends it in the Origin header. An entry that could never match (a path, a default
// port) is an error rather than a silent refusal, and wildcards are refused outright: every page
// allowed to call the API with a user's token must be named.
func parseOrigins(list string) ([]string, error) {
	var origins []string
	var errs []error
	for entry := range strings.SplitSeq(list, ",") {
		o := strings.TrimSpace(entry)
		if o == "" {
			continue
		}
		if err := checkOrigin(o); err != nil {
			errs = append(errs, settingError(settingCORSOrigins, "%q %s", o, err))
			continue
		}
		origins = append(origins, o)
	}
	return origins, errors.Join(errs...)
}

func checkOrigin(o string) error {
	if strings.Contains(o, "*") {
		return errors.New("has a wildcard; list every allowed origin in full")
	}
	u, err := url.Parse(o)
	switch {
	case err != nil:
		return errors.New("is not an origin scheme://host[:port]")
	case u.Scheme != "http" && u.Scheme != "https":
		return errors.New("is not an origin scheme://host[:port] with scheme http or https")
	case u.Opaque != "" || u.Hostname() == "":
		return errors.New("has no host; want scheme://host[:port]")
	case u.User != nil:
		return errors.New("has user information; want scheme://host[:port]")
	case u.Path != "" || u.RawPath != "":
		return errors.New("has a path; an origin is scheme://host[:port] only, without even a trailing slash")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return errors.New("has a query or fragment; want scheme://host[:port]")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		switch {
		case err != nil || n < 1 || n > 65535:
			return errors.New("has an invalid port")
		case u.Scheme == "https" && n == 443, u.Scheme == "http" && n == 80:
			// Browsers leave the default port out of the Origin header, so this entry would
			// never match.
			return errors.New("names the scheme's default port; leave it out as browsers do")
		}
	}
	return nil
}

// checkRate validates the rate limit pair: a positive rate with no burst would refuse every
// request, which is surely not what an operator meant.
func checkRate(limit, burst int) error {
	var errs []error
	if limit < 0 || limit > maxRate {
		errs = append(errs, settingError(settingRateLimit, "%d is outside 0..%d (0 disables the limit)", limit, maxRate))
	}
	switch {
	case burst < 0 || burst > maxRate:
		errs = append(errs, settingError(settingRateBurst, "%d is outside 0..%d", burst, maxRate))
	case limit > 0 && burst < 1:
		errs = append(errs, settingError(settingRateBurst,
			"must be at least 1 while %s is set, or every request is refused; set %s=0 to disable the limit",
			config.EnvName(settingRateLimit), config.EnvName(settingRateLimit)))
	}
	return errors.Join(errs...)
}

// parseTrustedProxies reads the proxy list: CIDRs, or single addresses standing for themselves.
func parseTrustedProxies(list string) ([]netip.Prefix, error) {
	var prefixes []netip.Prefix
	var errs []error
	for entry := range strings.SplitSeq(list, ",") {
		e := strings.TrimSpace(entry)
		if e == "" {
			continue
		}
		if p, err := netip.ParsePrefix(e); err == nil {
			// 10.1.2.3/8 is read as the network it lies in, as the operator surely meant.
			prefixes = append(prefixes, netip.PrefixFrom(p.Addr().Unmap(), unmappedBits(p)).Masked())
			continue
		}
		if a, err := netip.ParseAddr(e); err == nil && a.Zone() == "" {
			a = a.Unmap()
			prefixes = append(prefixes, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		errs = append(errs, settingError(settingTrustedProxies, "%q is not an IP address or CIDR", e))
	}
	return prefixes, errors.Join(errs...)
}

// unmappedBits is p's length once an IPv4-mapped IPv6 prefix (::ffff:10.0.0.0/104) is written
// as the IPv4 prefix it stands for, so that it matches the unmapped client addresses.
func unmappedBits(p netip.Prefix) int {
	if p.Addr().Is4In6() {
		return max(p.Bits()-96, 0)
	}
	return p.Bits()
}
