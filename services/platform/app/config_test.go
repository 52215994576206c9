package app_test

import (
	"io"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/nrm-albania/nrm/services/platform/app"
	"github.com/nrm-albania/nrm/services/platform/config"
)

func TestDefaultsWithAuthenticationValidate(t *testing.T) {
	cfg, err := bind(nil)
	if err != nil {
		t.Fatalf("defaults rejected: %v", err)
	}
	want := defaults()
	want.Auth = baseAuth
	if cfg != want {
		t.Errorf("Bind changed the defaults:\n got %+v\nwant %+v", cfg, want)
	}
}

func TestDefaultsWithoutAuthenticationAreRejected(t *testing.T) {
	_, err := bindRaw(nil)
	if n := countErrors(err); n != 1 {
		t.Fatalf("%d errors, want 1: %v", n, err)
	}
	for _, env := range []string{"NRM_AUTH_JWKS", "NRM_TLS_CLIENT_CA_FILE"} {
		if !strings.Contains(err.Error(), env) {
			t.Errorf("error does not name %s: %v", env, err)
		}
	}
}

func TestBindAuthentication(t *testing.T) {
	jwks := map[string]string{"NRM_AUTH_JWKS": "https://id.example/jwks", "NRM_AUTH_ISSUER": "https://id.example", "NRM_AUTH_AUDIENCE": "nrm"}
	mtls := map[string]string{
		"NRM_TLS_CERT_FILE": "server.pem", "NRM_TLS_KEY_FILE": "server.key",
		"NRM_TLS_CLIENT_CA_FILE": "members-ca.pem", "NRM_TLS_IDENTITIES_FILE": "identities.json",
	}
	tests := []struct {
		name     string
		env      map[string]string
		wantName []string // settings the error names; none: accepted
	}{
		{"bearer tokens", jwks, nil},
		{"mutual TLS", mtls, nil},
		{"both", merge(jwks, mtls), nil},
		{"bearer tokens over TLS", merge(jwks, map[string]string{"NRM_TLS_CERT_FILE": "s.pem", "NRM_TLS_KEY_FILE": "s.key"}), nil},
		{"JWKS without issuer", merge(jwks, map[string]string{"NRM_AUTH_ISSUER": ""}), []string{"NRM_AUTH_ISSUER", "NRM_AUTH_AUDIENCE"}},
		{"JWKS without audience", merge(jwks, map[string]string{"NRM_AUTH_AUDIENCE": ""}), []string{"NRM_AUTH_ISSUER", "NRM_AUTH_AUDIENCE"}},
		{"certificate without key", merge(jwks, map[string]string{"NRM_TLS_CERT_FILE": "s.pem"}), []string{"NRM_TLS_CERT_FILE", "NRM_TLS_KEY_FILE"}},
		{"key without certificate", merge(jwks, map[string]string{"NRM_TLS_KEY_FILE": "s.key"}), []string{"NRM_TLS_CERT_FILE", "NRM_TLS_KEY_FILE"}},
		{"client CA without identities", merge(mtls, map[string]string{"NRM_TLS_IDENTITIES_FILE": ""}), []string{"NRM_TLS_CLIENT_CA_FILE", "NRM_TLS_IDENTITIES_FILE"}},
		{"client CA without a server certificate", map[string]string{"NRM_TLS_CLIENT_CA_FILE": "ca.pem", "NRM_TLS_IDENTITIES_FILE": "i.json"}, []string{"NRM_TLS_CLIENT_CA_FILE", "NRM_TLS_CERT_FILE"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := bindRaw(tt.env)
			if tt.wantName == nil {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("accepted")
			}
			for _, name := range tt.wantName {
				if !strings.Contains(err.Error(), name) {
					t.Errorf("error does not name %s: %v", name, err)
				}
			}
		})
	}
}

func TestBindReadsTheEnvironment(t *testing.T) {
	cfg, err := bind(map[string]string{
		"NRM_GRPC_ADDR":           "0.0.0.0:7101",
		"NRM_MONGO_URI":           "mongodb+srv://cluster.example.com/",
		"NRM_NATS_NAMESPACE":      "staging",
		"NRM_NATS_REPLICAS":       "3",
		"NRM_LOG_LEVEL":           "debug",
		"NRM_SHUTDOWN_TIMEOUT":    "30s",
		"NRM_GRPC_REFLECTION":     "true",
		"NRM_GRPC_MAX_RECV_BYTES": "1048576",
		"NRM_OTLP_ENDPOINT":       "collector:4317",
		"NRM_AUDIT_PURPOSES":      "referral,audit",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := defaults()
	want.GRPCAddr = "0.0.0.0:7101"
	want.MongoURI = "mongodb+srv://cluster.example.com/"
	want.NATSNamespace = "staging"
	want.NATSReplicas = 3
	want.LogLevel = "debug"
	want.ShutdownTimeout = 30 * time.Second
	want.Reflection = true
	want.Auth = baseAuth
	want.MaxRecvBytes = 1 << 20
	want.OTLPEndpoint = "collector:4317"
	want.AuditPurposes = "referral,audit"
	if cfg != want {
		t.Errorf("got  %+v\nwant %+v", cfg, want)
	}
}

func TestBindRejectsABadSettingNamingIt(t *testing.T) {
	tests := []struct {
		env, value string
	}{
		{"NRM_MONGO_URI", "http://127.0.0.1:27017/"},
		{"NRM_MONGO_URI", "127.0.0.1:27017"},
		{"NRM_MONGO_URI", "mongodb://"},
		{"NRM_MONGO_DATABASE", " "},
		{"NRM_GRPC_ADDR", "7001"},
		{"NRM_GRPC_ADDR", ""},
		{"NRM_ADMIN_ADDR", "localhost"},
		{"NRM_NATS_URL", "http://127.0.0.1:4222"},
		{"NRM_LOG_LEVEL", "trace"},
		{"NRM_LOG_LEVEL", "INFO"},
		{"NRM_NATS_NAMESPACE", "Staging"},
		{"NRM_NATS_NAMESPACE", "a.b"},
		{"NRM_NATS_NAMESPACE", "abcdefghijklmnopq"},
		{"NRM_NATS_REPLICAS", "0"},
		{"NRM_NATS_REPLICAS", "6"},
		{"NRM_NATS_REPLICAS", "three"},
		{"NRM_SHUTDOWN_TIMEOUT", "0s"},
		{"NRM_SHUTDOWN_TIMEOUT", "15"},
		{"NRM_GRPC_REFLECTION", "on"},
		{"NRM_GRPC_MAX_RECV_BYTES", "100"},
		{"NRM_GRPC_MAX_RECV_BYTES", "1000000000"},
		{"NRM_OTLP_ENDPOINT", "collector"},
		{"NRM_AUDIT_PURPOSES", ""},
		{"NRM_AUDIT_PURPOSES", "referral to a shelter"},
		{"NRM_AUDIT_PURPOSES", "referral,referral"},
	}
	for _, tt := range tests {
		t.Run(tt.env+"="+tt.value, func(t *testing.T) {
			_, err := bind(map[string]string{tt.env: tt.value})
			if err == nil {
				t.Fatalf("%s=%q accepted", tt.env, tt.value)
			}
			if !strings.Contains(err.Error(), tt.env+" (--") {
				t.Errorf("error does not name %s:\n%v", tt.env, err)
			}
			if n := countErrors(err); n != 1 {
				t.Errorf("%d errors, want only the one about %s:\n%v", n, tt.env, err)
			}
		})
	}
}

func TestBindReportsEveryBadSetting(t *testing.T) {
	_, err := bind(map[string]string{
		"NRM_MONGO_URI":      "http://x/",
		"NRM_GRPC_ADDR":      "7001",
		"NRM_LOG_LEVEL":      "trace",
		"NRM_NATS_NAMESPACE": "UPPER",
		"NRM_NATS_REPLICAS":  "9",
	})
	if n := countErrors(err); n != 5 {
		t.Fatalf("%d errors, want 5:\n%v", n, err)
	}
	for _, env := range []string{"NRM_MONGO_URI", "NRM_GRPC_ADDR", "NRM_LOG_LEVEL", "NRM_NATS_NAMESPACE", "NRM_NATS_REPLICAS"} {
		if !strings.Contains(err.Error(), env) {
			t.Errorf("error does not name %s", env)
		}
	}
}

func TestBindAcceptsAReplicaSetSeedList(t *testing.T) {
	_, err := bind(map[string]string{"NRM_MONGO_URI": "mongodb://db1:27017,db2:27017,db3:27017/?replicaSet=rs0"})
	if err != nil {
		t.Fatal(err)
	}
}

func TestBindAcceptsASeedListWithADefaultPort(t *testing.T) {
	_, err := bind(map[string]string{"NRM_MONGO_URI": "mongodb://db1:27017,db2/?replicaSet=rs0"})
	if err != nil {
		t.Fatal(err)
	}
}

func TestFlagsOverrideTheEnvironmentInBind(t *testing.T) {
	cfg := defaults()
	set := config.NewSet(cfg.Service, lookup(map[string]string{"NRM_LOG_LEVEL": "trace"}))
	set.FlagSet().SetOutput(io.Discard)
	cfg.Bind(set)
	if err := set.Parse([]string{"--log-level=warn", "--auth-jwks=/etc/nrm/jwks.json", "--auth-issuer=i", "--auth-audience=a"}); err != nil {
		t.Fatal(err)
	}
	if cfg.LogLevel != "warn" {
		t.Errorf("LogLevel %q, want the flag's warn", cfg.LogLevel)
	}
}

func defaults() app.Config { return app.Defaults("case", "127.0.0.1:7001", "127.0.0.1:9001") }

// bind binds the defaults to a Set reading env, over a valid bearer token configuration, and
// parses no arguments.
func bind(env map[string]string) (app.Config, error) {
	return bindRaw(merge(map[string]string{
		"NRM_AUTH_JWKS": baseAuth.JWKS, "NRM_AUTH_ISSUER": baseAuth.Issuer, "NRM_AUTH_AUDIENCE": baseAuth.Audience,
	}, env))
}

// baseAuth is the authentication every test configuration has unless it says otherwise.
var baseAuth = app.AuthConfig{JWKS: "/etc/nrm/jwks.json", Issuer: "https://id.example", Audience: "nrm"}

// bindRaw binds the defaults to a Set reading only env.
func bindRaw(env map[string]string) (app.Config, error) {
	cfg := defaults()
	set := config.NewSet(cfg.Service, lookup(env))
	set.FlagSet().SetOutput(io.Discard)
	cfg.Bind(set)
	return cfg, set.Parse(nil)
}

// merge returns the union of ms, later ones winning.
func merge(ms ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		maps.Copy(out, m)
	}
	return out
}

func lookup(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}
}

// countErrors counts the errors joined in err (0 for nil).
func countErrors(err error) int {
	if err == nil {
		return 0
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return len(j.Unwrap())
	}
	return 1
}
