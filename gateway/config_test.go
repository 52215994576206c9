package gateway_test

import (
	"strings"
	"testing"
	"time"

	"github.com/nrm-albania/nrm/gateway"
	"github.com/nrm-albania/nrm/services/platform/config"
)

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
			},
			want: func(c *gateway.Config) {
				c.Addr, c.AdminAddr = ":80", ":9000"
				c.CaseRegistryAddr, c.ReferralAddr = "caseregistry:9101", "referral:9102"
				c.SecretariatAddr, c.ReportingAddr = "secretariat:9103", "reporting:9104"
				c.MaxBodyBytes, c.RequestTimeout, c.LogLevel = 2<<20, 10*time.Second, "debug"
				c.OTLPEndpoint, c.ShutdownTimeout = "otel-collector:4317", 20*time.Second
			},
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
		{
			name:    "every problem at once",
			env:     map[string]string{"NRM_HTTP_ADDR": "nope", "NRM_SHUTDOWN_TIMEOUT": "-1s"},
			wantErr: []string{"NRM_HTTP_ADDR", "NRM_SHUTDOWN_TIMEOUT"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := gateway.Defaults()
			set := config.NewSet("gateway", func(k string) (string, bool) {
				v, ok := tt.env[k]
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
	}
	if got != want {
		t.Errorf("Defaults()\n got %+v\nwant %+v", got, want)
	}
}
