package embedded

import (
	"net/url"
	"testing"
)

func TestPlannerSettingsAreAddedUnlessSet(t *testing.T) {
	for _, tt := range []struct {
		name, in          string
		wantPlan, wantSeq string
	}{
		{"none set", "postgres://postgres@127.0.0.1:5432/nrm", "force_custom_plan", "off"},
		{"kept as given", "postgres://postgres@127.0.0.1:5432/nrm?enable_seqscan=on&plan_cache_mode=auto", "auto", "on"},
		{"other parameters kept", "postgres://postgres@127.0.0.1:5432/nrm?sslmode=disable", "force_custom_plan", "off"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out, err := plannerSettings(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			u, err := url.Parse(out)
			if err != nil {
				t.Fatal(err)
			}
			q := u.Query()
			if q.Get("jit") != "off" {
				t.Errorf("%s: jit %q, want off", out, q.Get("jit"))
			}
			if q.Get("plan_cache_mode") != tt.wantPlan || q.Get("enable_seqscan") != tt.wantSeq {
				t.Errorf("%s: plan_cache_mode %q, enable_seqscan %q; want %q, %q", out, q.Get("plan_cache_mode"), q.Get("enable_seqscan"), tt.wantPlan, tt.wantSeq)
			}
			if u.Host != "127.0.0.1:5432" || u.Path != "/nrm" || u.User.Username() != "postgres" {
				t.Errorf("%s: the connection itself changed", out)
			}
			if tt.name == "other parameters kept" && q.Get("sslmode") != "disable" {
				t.Errorf("%s: sslmode lost", out)
			}
		})
	}
	if _, err := plannerSettings("postgres://%zz"); err == nil {
		t.Error("a malformed URL was accepted")
	}
}
