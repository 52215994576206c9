package admin

import (
	"runtime/debug"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// NewRegistry returns a component's metrics registry, with the Go runtime's and the process's
// collectors and nrm_build_info.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		BuildInfo(debug.ReadBuildInfo()))
	return reg
}

// unknown is a build label that the binary does not record: a build outside a git work tree, or
// with -buildvcs=false, has no revision.
const unknown = "unknown"

// BuildInfo is the gauge nrm_build_info, always 1, whose labels say what the binary was built
// from, as the Go toolchain recorded it (pass debug.ReadBuildInfo()): the main package (path), the
// main module's version (version, "(devel)" for a build from a work tree), the git commit
// (revision, revision_time, modified when the tree had uncommitted changes) and the Go version.
// Joined on these labels, any other metric tells which build produced it.
func BuildInfo(bi *debug.BuildInfo, ok bool) prometheus.Collector {
	labels := prometheus.Labels{"path": unknown, "version": unknown, "revision": unknown,
		"revision_time": unknown, "modified": unknown, "go_version": unknown}
	if ok {
		labels["go_version"] = bi.GoVersion
		if bi.Path != "" {
			labels["path"] = bi.Path
		}
		if bi.Main.Version != "" {
			labels["version"] = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				labels["revision"] = s.Value
			case "vcs.time":
				labels["revision_time"] = s.Value
			case "vcs.modified":
				labels["modified"] = s.Value
			}
		}
	}
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "nrm_build_info",
		Help:        "Always 1; the labels say what the binary was built from.",
		ConstLabels: labels,
	})
	g.Set(1)
	return g
}
