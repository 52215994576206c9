package admin_test

import (
	"net/http"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/nrm-albania/nrm/services/platform/admin"
)

func TestBuildInfoLabelsWhatBuiltTheBinary(t *testing.T) {
	built := &debug.BuildInfo{
		GoVersion: "go1.26.3",
		Path:      "github.com/nrm-albania/nrm/services/caseregistry/cmd/caseregistry",
		Main:      debug.Module{Path: "github.com/nrm-albania/nrm/services/caseregistry", Version: "v1.4.0"},
		Settings: []debug.BuildSetting{
			{Key: "-trimpath", Value: "true"},
			{Key: "vcs.revision", Value: "0f4fadd1"},
			{Key: "vcs.time", Value: "2026-12-04T17:00:00Z"},
			{Key: "vcs.modified", Value: "false"},
		},
	}
	noVCS := &debug.BuildInfo{GoVersion: "go1.26.3", Path: "command-line-arguments", Main: debug.Module{Version: "(devel)"}}
	tests := []struct {
		name string
		bi   *debug.BuildInfo
		ok   bool
		want string
	}{
		{"a release build", built, true, `nrm_build_info{go_version="go1.26.3",modified="false",` +
			`path="github.com/nrm-albania/nrm/services/caseregistry/cmd/caseregistry",revision="0f4fadd1",` +
			`revision_time="2026-12-04T17:00:00Z",version="v1.4.0"} 1`},
		{"a build without version control", noVCS, true, `nrm_build_info{go_version="go1.26.3",modified="unknown",` +
			`path="command-line-arguments",revision="unknown",revision_time="unknown",version="(devel)"} 1`},
		{"a binary without build information", nil, false, `nrm_build_info{go_version="unknown",modified="unknown",` +
			`path="unknown",revision="unknown",revision_time="unknown",version="unknown"} 1`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			reg.MustRegister(admin.BuildInfo(tt.bi, tt.ok))
			if got := metricLine(t, reg, "nrm_build_info"); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

// A component's registry has the runtime's collectors and the build of the running binary.
func TestNewRegistryHasTheRuntimeAndTheBuild(t *testing.T) {
	reg := admin.NewRegistry()
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		t.Fatal("the test binary has no build information")
	}
	if got := metricLine(t, reg, "nrm_build_info"); !strings.Contains(got, `go_version="`+bi.GoVersion+`"`) {
		t.Errorf("build info %q, want go_version %s", got, bi.GoVersion)
	}
	for _, name := range []string{"go_goroutines", "process_open_fds"} {
		if metricLine(t, reg, name) == "" {
			t.Errorf("no %s", name)
		}
	}
}

// metricLine is the first sample line of metric name on reg's /metrics.
func metricLine(t *testing.T, reg *prometheus.Registry, name string) string {
	t.Helper()
	rec := serve(t, admin.Handler(reg, nil, draining(false)), "GET", "/metrics")
	if rec.Code != http.StatusOK {
		t.Fatalf("/metrics: %d", rec.Code)
	}
	for line := range strings.Lines(rec.Body.String()) {
		if strings.HasPrefix(line, name+"{") || strings.HasPrefix(line, name+" ") {
			return strings.TrimSpace(line)
		}
	}
	return ""
}
