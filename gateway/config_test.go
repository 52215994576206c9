package gateway_test

import (
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/nrm-albania/nrm/gateway"
	"github.com/nrm-albania/nrm/services/platform/auth/authtest"
	"github.com/nrm-albania/nrm/services/platform/config"
)

// tokenEnv is the token settings every valid configuration has.
var tokenEnv = map[string]string{
	"NRM_AUTH_JWKS": "/etc/nrm/jwks.json", "NRM_AUTH_ISSUER": "https://idp.nrm.gov.al", "NRM_AUTH_AUDIENCE": "nrm",
}

func withTokens(c *gateway.Config) {
	c.AuthJWKS, c.AuthIssuer, c.AuthAudience = "/etc/nrm/jwks.json", "https://idp.nrm.gov.al", "nrm"
}

func TestConfig(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		want    func(*gateway.Config) // changes from Defaults; nil when parsing must fail
		wantErr []string              // settings the error must name
	}{
		{name: "defaults", want: func(*gateway.Config) {}},
		{
			name: "environment",
			env: map[string]string{
				"NRM_HTTP_ADDR": ":80", "NRM_ADMIN_ADDR": ":9000",
				"NRM_CASEREGISTRY_ADDR": "caseregistry:9101", "NRM_REFERRAL_ADDR": "referral:9102",
				"NRM_SECRETARIAT_ADDR": "secretariat:9103", "NRM_REPORTING_ADDR": "reporting:9104",
				"NRM_MAX_BODY_BYTES": "2097152", "NRM_REQUEST_TIMEOUT": "10s", "NRM_LOG_LEVEL": "debug",
				"NRM_OTLP_ENDPOINT": "otel-collector:4317", "NRM_SHUTDOWN_TIMEOUT": "20s",
				"NRM_CORS_ALLOWED_ORIGINS": "https://portal.nrm.gov.al, http://localhost:5173",
				"NRM_RATE_LIMIT":           "5", "NRM_RATE_BURST": "10",
				"NRM_TRUSTED_PROXIES":         "10.0.0.0/8, 192.0.2.7, 2001:db8::/32",
				"NRM_AUTH_ALGORITHMS":         "ES256",
				"NRM_RATE_LIMIT_INSTITUTIONS": "MB-DPAM=50, KKSAT=10/15", "NRM_RATE_LIMIT_SUBJECTS": "portal-svc=200",
				"NRM_BACKEND_TLS_CA_FILE": "/etc/nrm/services-ca.pem", "NRM_BACKEND_TLS_CERT_FILE": "/etc/nrm/gw.pem",
				"NRM_BACKEND_TLS_KEY_FILE": "/etc/nrm/gw-key.pem", "NRM_BACKEND_TLS_SERVER_NAME": "services.nrm.internal",
			},
			want: func(c *gateway.Config) {
				c.Addr, c.AdminAddr = ":80", ":9000"
				c.CaseRegistryAddr, c.ReferralAddr = "caseregistry:9101", "referral:9102"
				c.SecretariatAddr, c.ReportingAddr = "secretariat:9103", "reporting:9104"
				c.MaxBodyBytes, c.RequestTimeout, c.LogLevel = 2<<20, 10*time.Second, "debug"
				c.OTLPEndpoint, c.ShutdownTimeout = "otel-collector:4317", 20*time.Second
				c.CORSAllowedOrigins = "https://portal.nrm.gov.al, http://localhost:5173"
				c.RateLimit, c.RateBurst = 5, 10
				c.TrustedProxies = "10.0.0.0/8, 192.0.2.7, 2001:db8::/32"
				c.AuthAlgorithms = "ES256"
				c.RateLimitInstitutions, c.RateLimitSubjects = "MB-DPAM=50, KKSAT=10/15", "portal-svc=200"
				c.BackendTLSCAFile, c.BackendTLSCertFile = "/etc/nrm/services-ca.pem", "/etc/nrm/gw.pem"
				c.BackendTLSKeyFile, c.BackendTLSServerName = "/etc/nrm/gw-key.pem", "services.nrm.internal"
			},
		},
		{
			name: "TLS to the services without a client certificate",
			env:  map[string]string{"NRM_BACKEND_TLS_CA_FILE": "/etc/nrm/services-ca.pem"},
			want: func(c *gateway.Config) { c.BackendTLSCAFile = "/etc/nrm/services-ca.pem" },
		},
		{
			name: "rate limit disabled",
			env:  map[string]string{"NRM_RATE_LIMIT": "0", "NRM_RATE_BURST": "0"},
			want: func(c *gateway.Config) { c.RateLimit, c.RateBurst = 0, 0 },
		},
		{
			name: "origins with an IPv6 host and a port, trailing comma",
			env:  map[string]string{"NRM_CORS_ALLOWED_ORIGINS": "https://[2001:db8::1]:8443,"},
			want: func(c *gateway.Config) { c.CORSAllowedOrigins = "https://[2001:db8::1]:8443," },
		},
		{
			name: "flags win over the environment",
			env:  map[string]string{"NRM_HTTP_ADDR": ":80", "NRM_REQUEST_TIMEOUT": "10s"},
			args: []string{"--http-addr", ":8443", "--request-timeout", "5s"},
			want: func(c *gateway.Config) { c.Addr, c.RequestTimeout = ":8443", 5*time.Second },
		},
		{name: "address without a port", env: map[string]string{"NRM_REFERRAL_ADDR": "referral"}, wantErr: []string{"NRM_REFERRAL_ADDR"}},
		{name: "body limit not a number", env: map[string]string{"NRM_MAX_BODY_BYTES": "1MiB"}, wantErr: []string{"NRM_MAX_BODY_BYTES"}},
		{name: "body limit too small", args: []string{"--max-body-bytes", "10"}, wantErr: []string{"NRM_MAX_BODY_BYTES"}},
		{name: "body limit too large", args: []string{"--max-body-bytes", "1073741824"}, wantErr: []string{"NRM_MAX_BODY_BYTES"}},
		{name: "zero request timeout", env: map[string]string{"NRM_REQUEST_TIMEOUT": "0s"}, wantErr: []string{"NRM_REQUEST_TIMEOUT"}},
		{name: "bad log level", env: map[string]string{"NRM_LOG_LEVEL": "loud"}, wantErr: []string{"NRM_LOG_LEVEL"}},
		{name: "bad OTLP endpoint", env: map[string]string{"NRM_OTLP_ENDPOINT": "otel-collector"}, wantErr: []string{"NRM_OTLP_ENDPOINT"}},
		{name: "origin wildcard", env: map[string]string{"NRM_CORS_ALLOWED_ORIGINS": "*"}, wantErr: []string{"NRM_CORS_ALLOWED_ORIGINS", "wildcard"}},
		{name: "origin subdomain wildcard", env: map[string]string{"NRM_CORS_ALLOWED_ORIGINS": "https://*.nrm.gov.al"}, wantErr: []string{"NRM_CORS_ALLOWED_ORIGINS", "wildcard"}},
		{name: "origin with a path", env: map[string]string{"NRM_CORS_ALLOWED_ORIGINS": "https://portal.nrm.gov.al/app"}, wantErr: []string{"NRM_CORS_ALLOWED_ORIGINS", "path"}},
		{name: "origin with a trailing slash", env: map[string]string{"NRM_CORS_ALLOWED_ORIGINS": "https://portal.nrm.gov.al/"}, wantErr: []string{"NRM_CORS_ALLOWED_ORIGINS", "path"}},
		{name: "origin without a scheme", env: map[string]string{"NRM_CORS_ALLOWED_ORIGINS": "portal.nrm.gov.al"}, wantErr: []string{"NRM_CORS_ALLOWED_ORIGINS"}},
		{name: "origin host:port without a scheme", env: map[string]string{"NRM_CORS_ALLOWED_ORIGINS": "localhost:5173"}, wantErr: []string{"NRM_CORS_ALLOWED_ORIGINS", "scheme"}},
		{name: "origin with another scheme", env: map[string]string{"NRM_CORS_ALLOWED_ORIGINS": "ftp://portal.nrm.gov.al"}, wantErr: []string{"NRM_CORS_ALLOWED_ORIGINS", "scheme"}},
		{name: "origin with a query", env: map[string]string{"NRM_CORS_ALLOWED_ORIGINS": "https://portal.nrm.gov.al?x=1"}, wantErr: []string{"NRM_CORS_ALLOWED_ORIGINS", "query"}},
		{name: "origin with user information", env: map[string]string{"NRM_CORS_ALLOWED_ORIGINS": "https://admin@portal.nrm.gov.al"}, wantErr: []string{"NRM_CORS_ALLOWED_ORIGINS", "user"}},
		{name: "origin with the default port", env: map[string]string{"NRM_CORS_ALLOWED_ORIGINS": "https://portal.nrm.gov.al:443"}, wantErr: []string{"NRM_CORS_ALLOWED_ORIGINS", "default port"}},
		{name: "origin with a bad port", env: map[string]string{"NRM_CORS_ALLOWED_ORIGINS": "https://portal.nrm.gov.al:99999"}, wantErr: []string{"NRM_CORS_ALLOWED_ORIGINS", "port"}},
		{name: "origin without a host", env: map[string]string{"NRM_CORS_ALLOWED_ORIGINS": "https://:8443"}, wantErr: []string{"NRM_CORS_ALLOWED_ORIGINS", "host"}},
		{name: "one bad origin among good ones", env: map[string]string{"NRM_CORS_ALLOWED_ORIGINS": "https://a.example, https://b.example/x"}, wantErr: []string{"NRM_CORS_ALLOWED_ORIGINS", "https://b.example/x"}},
		{name: "negative rate limit", env: map[string]string{"NRM_RATE_LIMIT": "-1"}, wantErr: []string{"NRM_RATE_LIMIT"}},
		{name: "rate limit not a number", env: map[string]string{"NRM_RATE_LIMIT": "fast"}, wantErr: []string{"NRM_RATE_LIMIT"}},
		{name: "rate limit too large", args: []string{"--rate-limit", "1000000"}, wantErr: []string{"NRM_RATE_LIMIT"}},
		{name: "burst of zero with a limit", env: map[string]string{"NRM_RATE_BURST": "0"}, wantErr: []string{"NRM_RATE_BURST", "NRM_RATE_LIMIT=0"}},
		{name: "negative burst", env: map[string]string{"NRM_RATE_BURST": "-5"}, wantErr: []string{"NRM_RATE_BURST"}},
		{name: "trusted proxy not an address", env: map[string]string{"NRM_TRUSTED_PROXIES": "10.0.0.0/8, ingress"}, wantErr: []string{"NRM_TRUSTED_PROXIES", "ingress"}},
		{name: "trusted proxy bad prefix length", env: map[string]string{"NRM_TRUSTED_PROXIES": "10.0.0.0/33"}, wantErr: []string{"NRM_TRUSTED_PROXIES"}},
		{name: "no key set", env: map[string]string{"NRM_AUTH_JWKS": ""}, wantErr: []string{"NRM_AUTH_JWKS", "required"}},
		{name: "no issuer", env: map[string]string{"NRM_AUTH_ISSUER": " "}, wantErr: []string{"NRM_AUTH_ISSUER"}},
		{name: "no audience", env: map[string]string{"NRM_AUTH_AUDIENCE": ""}, wantErr: []string{"NRM_AUTH_AUDIENCE"}},
		{name: "institution limit without a rate", env: map[string]string{"NRM_RATE_LIMIT_INSTITUTIONS": "KKSAT"}, wantErr: []string{"NRM_RATE_LIMIT_INSTITUTIONS", `"KKSAT"`}},
		{name: "institution limit without a name", env: map[string]string{"NRM_RATE_LIMIT_INSTITUTIONS": "=5"}, wantErr: []string{"NRM_RATE_LIMIT_INSTITUTIONS"}},
		{name: "institution limit of zero", env: map[string]string{"NRM_RATE_LIMIT_INSTITUTIONS": "KKSAT=0"}, wantErr: []string{"NRM_RATE_LIMIT_INSTITUTIONS", "KKSAT", "rate"}},
		{name: "institution limit not a number", env: map[string]string{"NRM_RATE_LIMIT_INSTITUTIONS": "KKSAT=lots"}, wantErr: []string{"NRM_RATE_LIMIT_INSTITUTIONS", "KKSAT"}},
		{name: "institution limit too large", env: map[string]string{"NRM_RATE_LIMIT_INSTITUTIONS": "KKSAT=1000000"}, wantErr: []string{"NRM_RATE_LIMIT_INSTITUTIONS", "KKSAT"}},
		{name: "institution burst of zero", env: map[string]string{"NRM_RATE_LIMIT_INSTITUTIONS": "KKSAT=5/0"}, wantErr: []string{"NRM_RATE_LIMIT_INSTITUTIONS", "burst"}},
		{name: "institution listed twice", env: map[string]string{"NRM_RATE_LIMIT_INSTITUTIONS": "KKSAT=5, KKSAT=6"}, wantErr: []string{"NRM_RATE_LIMIT_INSTITUTIONS", "twice"}},
		{name: "subject limit malformed", env: map[string]string{"NRM_RATE_LIMIT_SUBJECTS": "portal svc=5"}, wantErr: []string{"NRM_RATE_LIMIT_SUBJECTS"}},
		{
			name:    "own limits while the limit is off",
			env:     map[string]string{"NRM_RATE_LIMIT": "0", "NRM_RATE_BURST": "0", "NRM_RATE_LIMIT_SUBJECTS": "portal-svc=5"},
			wantErr: []string{"NRM_RATE_LIMIT", "NRM_RATE_LIMIT_SUBJECTS"},
		},
		{name: "client certificate without its key", env: map[string]string{"NRM_BACKEND_TLS_CA_FILE": "/ca.pem", "NRM_BACKEND_TLS_CERT_FILE": "/gw.pem"}, wantErr: []string{"NRM_BACKEND_TLS_CERT_FILE", "NRM_BACKEND_TLS_KEY_FILE"}},
		{name: "client certificate without TLS", env: map[string]string{"NRM_BACKEND_TLS_CERT_FILE": "/gw.pem", "NRM_BACKEND_TLS_KEY_FILE": "/gw-key.pem"}, wantErr: []string{"NRM_BACKEND_TLS_CA_FILE"}},
		{name: "server name without TLS", env: map[string]string{"NRM_BACKEND_TLS_SERVER_NAME": "services"}, wantErr: []string{"NRM_BACKEND_TLS_CA_FILE"}},
		{
			name: "every problem at once",
			env: map[string]string{"NRM_HTTP_ADDR": "nope", "NRM_SHUTDOWN_TIMEOUT": "-1s",
				"NRM_CORS_ALLOWED_ORIGINS": "*", "NRM_RATE_BURST": "0", "NRM_TRUSTED_PROXIES": "x"},
			wantErr: []string{"NRM_HTTP_ADDR", "NRM_SHUTDOWN_TIMEOUT", "NRM_CORS_ALLOWED_ORIGINS", "NRM_RATE_BURST", "NRM_TRUSTED_PROXIES"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := gateway.Defaults()
			set := config.NewSet("gateway", func(k string) (string, bool) {
				if v, ok := tt.env[k]; ok {
					return v, ok
				}
				v, ok := tokenEnv[k]
				return v, ok
			})
			cfg.Bind(set)
			set.FlagSet().SetOutput(new(strings.Builder))
			err := set.Parse(tt.args)
			if tt.want == nil {
				if err == nil {
					t.Fatalf("no error, want one naming %v", tt.wantErr)
				}
				for _, name := range tt.wantErr {
					if !strings.Contains(err.Error(), name) {
						t.Errorf("error %q does not name %s", err, name)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := gateway.Defaults()
			withTokens(&want)
			tt.want(&want)
			if cfg != want {
				t.Errorf("config\n got %+v\nwant %+v", cfg, want)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	got := gateway.Defaults()
	want := gateway.Config{
		Addr: "127.0.0.1:8080", AdminAddr: "127.0.0.1:9200",
		CaseRegistryAddr: "127.0.0.1:9101", ReferralAddr: "127.0.0.1:9102",
		SecretariatAddr: "127.0.0.1:9103", ReportingAddr: "127.0.0.1:9104",
		MaxBodyBytes: 1 << 20, RequestTimeout: 30 * time.Second, LogLevel: "info",
		ShutdownTimeout: 15 * time.Second,
		// No browser origin is allowed until one is configured; the limit is on by default.
		CORSAllowedOrigins: "", RateLimit: 20, RateBurst: 40, TrustedProxies: "",
	}
	if got != want {
		t.Errorf("Defaults()\n got %+v\nwant %+v", got, want)
	}
}

// An embedder fills Config without Bind's checks; Run must refuse the same bad settings, naming
// them, before it listens.
func TestRunRefusesBadEdgeSettings(t *testing.T) {
	tests := []struct {
		name    string
		adjust  func(*gateway.Config)
		wantErr []string
	}{
		{"wildcard origin", func(c *gateway.Config) { c.CORSAllowedOrigins = "*" }, []string{"NRM_CORS_ALLOWED_ORIGINS"}},
		{"origin with a path", func(c *gateway.Config) { c.CORSAllowedOrigins = "https://portal.example/app" }, []string{"NRM_CORS_ALLOWED_ORIGINS"}},
		{"burst of zero", func(c *gateway.Config) { c.RateLimit, c.RateBurst = 5, 0 }, []string{"NRM_RATE_BURST"}},
		{"bad proxy", func(c *gateway.Config) { c.TrustedProxies = "proxy.internal" }, []string{"NRM_TRUSTED_PROXIES"}},
		{"no token settings", func(c *gateway.Config) { c.AuthJWKS, c.AuthIssuer, c.AuthAudience = "", "", "" }, []string{"NRM_AUTH_JWKS", "NRM_AUTH_ISSUER", "NRM_AUTH_AUDIENCE"}},
		{"a key set that is not there", func(c *gateway.Config) { c.AuthJWKS = "/nonexistent/jwks.json" }, []string{"NRM_AUTH_JWKS"}},
		{"bad institution limit", func(c *gateway.Config) { c.RateLimitInstitutions = "KKSAT" }, []string{"NRM_RATE_LIMIT_INSTITUTIONS"}},
		{"a backend CA that is not there", func(c *gateway.Config) { c.BackendTLSCAFile = "/nonexistent/ca.pem" }, []string{"NRM_BACKEND_TLS_CA_FILE"}},
		{"client key without its certificate", func(c *gateway.Config) {
			c.BackendTLSCAFile, c.BackendTLSKeyFile = "/nonexistent/ca.pem", "/nonexistent/key.pem"
		}, []string{"NRM_BACKEND_TLS_CERT_FILE"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := gateway.Defaults()
			cfg.Addr, cfg.AdminAddr = "127.0.0.1:0", "127.0.0.1:0"
			jc := authtest.NewIssuer(t).JWTConfig()
			cfg.AuthJWKS, cfg.AuthIssuer, cfg.AuthAudience = jc.JWKS, jc.Issuer, jc.Audience
			tt.adjust(&cfg)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err := gateway.Run(ctx, cfg, gateway.Options{
				LogOutput: io.Discard,
				Listening: func(net.Addr, net.Addr) { t.Error("the gateway started with a bad setting") },
			})
			if err == nil {
				t.Fatal("Run returned no error")
			}
			for _, name := range tt.wantErr {
				if !strings.Contains(err.Error(), name) {
					t.Errorf("error %q does not name %s", err, name)
				}
			}
		})
	}
}
