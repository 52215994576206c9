package config_test

import (
	"errors"
	"flag"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nrm-albania/nrm/services/platform/config"
)

func TestEnvName(t *testing.T) {
	tests := []struct{ flag, want string }{
		{"grpc-addr", "NRM_GRPC_ADDR"},
		{"log-level", "NRM_LOG_LEVEL"},
		{"x", "NRM_X"},
		{"grpc-max-recv-bytes", "NRM_GRPC_MAX_RECV_BYTES"},
	}
	for _, tt := range tests {
		if got := config.EnvName(tt.flag); got != tt.want {
			t.Errorf("EnvName(%q) = %q, want %q", tt.flag, got, tt.want)
		}
	}
}

// settings binds one setting of every kind under the flag names s, d, i and b.
type settings struct {
	s string
	d time.Duration
	i int
	b bool
}

func bindAll(set *config.Set) *settings {
	v := &settings{}
	set.String(&v.s, "s", "default", "a string")
	set.Duration(&v.d, "d", time.Second, "a duration")
	set.Int(&v.i, "i", 1, "an int")
	set.Bool(&v.b, "b", false, "a bool")
	return v
}

func TestDefaultsApplyWithoutEnvOrFlags(t *testing.T) {
	set := newSet(nil)
	v := bindAll(set)
	if err := set.Parse(nil); err != nil {
		t.Fatal(err)
	}
	want := settings{s: "default", d: time.Second, i: 1, b: false}
	if *v != want {
		t.Errorf("got %+v, want %+v", *v, want)
	}
}

func TestEnvProvidesTheDefault(t *testing.T) {
	set := newSet(map[string]string{"NRM_S": "from-env", "NRM_D": "2m", "NRM_I": "42", "NRM_B": "true"})
	v := bindAll(set)
	if err := set.Parse(nil); err != nil {
		t.Fatal(err)
	}
	want := settings{s: "from-env", d: 2 * time.Minute, i: 42, b: true}
	if *v != want {
		t.Errorf("got %+v, want %+v", *v, want)
	}
}

func TestFlagOverridesEnv(t *testing.T) {
	set := newSet(map[string]string{"NRM_S": "from-env", "NRM_D": "2m", "NRM_I": "42", "NRM_B": "true"})
	v := bindAll(set)
	if err := set.Parse([]string{"--s=from-flag", "--d=3s", "--i=7", "--b=false"}); err != nil {
		t.Fatal(err)
	}
	want := settings{s: "from-flag", d: 3 * time.Second, i: 7, b: false}
	if *v != want {
		t.Errorf("got %+v, want %+v", *v, want)
	}
}

func TestUsageNamesTheEnvironmentVariable(t *testing.T) {
	set := newSet(nil)
	var s string
	set.String(&s, "grpc-addr", "", "gRPC listen address")
	f := set.FlagSet().Lookup("grpc-addr")
	if f == nil {
		t.Fatal("flag grpc-addr not registered")
	}
	if !strings.Contains(f.Usage, "[NRM_GRPC_ADDR]") {
		t.Errorf("usage %q does not name NRM_GRPC_ADDR", f.Usage)
	}
}

func TestInvalidEnvValueIsAnErrorNamingTheSetting(t *testing.T) {
	tests := []struct {
		name, env, value, wantText string
	}{
		{"duration", "NRM_D", "five seconds", "not a duration"},
		{"duration without unit", "NRM_D", "5", "not a duration"},
		{"int", "NRM_I", "4x", "not an integer"},
		{"int overflow", "NRM_I", "99999999999999999999999", "not an integer"},
		{"bool", "NRM_B", "yes", "not true or false"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set := newSet(map[string]string{tt.env: tt.value})
			bindAll(set)
			err := set.Parse(nil)
			if err == nil {
				t.Fatalf("%s=%q accepted", tt.env, tt.value)
			}
			flagName := strings.ToLower(strings.TrimPrefix(tt.env, "NRM_"))
			for _, want := range []string{tt.env + " (--" + flagName + ")", tt.wantText, tt.value} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
		})
	}
}

func TestInvalidFlagValueIsAnError(t *testing.T) {
	set := newSet(nil)
	bindAll(set)
	if err := set.Parse([]string{"--d=soon"}); err == nil {
		t.Fatal("--d=soon accepted")
	}
}

func TestUnknownFlagIsAnError(t *testing.T) {
	set := newSet(nil)
	bindAll(set)
	if err := set.Parse([]string{"--nope=1"}); err == nil {
		t.Fatal("unknown flag accepted")
	}
}

func TestHelpFlagReturnsErrHelp(t *testing.T) {
	set := newSet(nil)
	bindAll(set)
	if err := set.Parse([]string{"-h"}); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("Parse(-h) = %v, want flag.ErrHelp", err)
	}
}

func TestRequireAddr(t *testing.T) {
	tests := []struct {
		value string
		ok    bool
	}{
		{"127.0.0.1:8080", true},
		{":8080", true},
		{"[::1]:443", true},
		{"localhost:0", true},
		{"localhost", false},
		{"", false},
		{"a:b:c", false},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			set := newSet(nil)
			v := tt.value
			set.RequireAddr("grpc-addr", &v)
			assertNamed(t, set.Parse(nil), tt.ok, "NRM_GRPC_ADDR (--grpc-addr)", tt.value)
		})
	}
}

func TestRequireURL(t *testing.T) {
	tests := []struct {
		value string
		ok    bool
		text  string
	}{
		{"mongodb://127.0.0.1:27017/", true, ""},
		{"mongodb+srv://cluster.example.com/", true, ""},
		{"mongodb://user:pass@db:27017/?replicaSet=rs0", true, ""},
		{"http://127.0.0.1:27017/", false, `scheme "http" is not one of mongodb, mongodb+srv`},
		{"127.0.0.1:27017", false, "is not a URL with a host"},
		{"mongodb://", false, "is not a URL with a host"},
		{"", false, "is not a URL with a host"},
		{"mongodb://host:port:x/", false, "is not a URL with a host"},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			set := newSet(nil)
			v := tt.value
			set.RequireURL("mongo-uri", &v, "mongodb", "mongodb+srv")
			err := set.Parse(nil)
			assertNamed(t, err, tt.ok, "NRM_MONGO_URI (--mongo-uri)", tt.text)
		})
	}
}

func TestRequireOneOf(t *testing.T) {
	tests := []struct {
		value string
		ok    bool
	}{
		{"debug", true},
		{"error", true},
		{"DEBUG", false},
		{"verbose", false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			set := newSet(nil)
			v := tt.value
			set.RequireOneOf("log-level", &v, "debug", "info", "warn", "error")
			assertNamed(t, set.Parse(nil), tt.ok, "NRM_LOG_LEVEL (--log-level)", "debug, info, warn, error")
		})
	}
}

func TestRequirePositive(t *testing.T) {
	tests := []struct {
		value time.Duration
		ok    bool
	}{
		{time.Nanosecond, true},
		{15 * time.Second, true},
		{0, false},
		{-time.Second, false},
	}
	for _, tt := range tests {
		t.Run(tt.value.String(), func(t *testing.T) {
			set := newSet(nil)
			v := tt.value
			set.RequirePositive("shutdown-timeout", &v)
			assertNamed(t, set.Parse(nil), tt.ok, "NRM_SHUTDOWN_TIMEOUT (--shutdown-timeout)", "greater than zero")
		})
	}
}

func TestRequireNonEmpty(t *testing.T) {
	tests := []struct {
		value string
		ok    bool
	}{
		{"nrm_case", true},
		{"", false},
		{"  \t", false},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			set := newSet(nil)
			v := tt.value
			set.RequireNonEmpty("mongo-database", &v)
			assertNamed(t, set.Parse(nil), tt.ok, "NRM_MONGO_DATABASE (--mongo-database)", "must be set")
		})
	}
}

func TestChecksSeeTheParsedValue(t *testing.T) {
	// A check closes over the bound variable, so it sees the flag, not the default.
	set := newSet(nil)
	var level string
	set.String(&level, "log-level", "info", "")
	set.RequireOneOf("log-level", &level, "debug", "info")
	if err := set.Parse([]string{"--log-level=loud"}); err == nil || !strings.Contains(err.Error(), `"loud"`) {
		t.Fatalf("Parse = %v, want an error about \"loud\"", err)
	}
}

func TestCheckRange(t *testing.T) {
	tests := []struct {
		value int
		ok    bool
	}{
		{1, true},
		{3, true},
		{5, true},
		{0, false},
		{6, false},
		{-1, false},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.value), func(t *testing.T) {
			err := config.CheckRange("nats-replicas", tt.value, 1, 5)
			assertNamed(t, err, tt.ok, "NRM_NATS_REPLICAS (--nats-replicas)", "outside 1..5")
		})
	}
}

func TestCheckPattern(t *testing.T) {
	const pattern = `^[a-z0-9]{0,16}$`
	tests := []struct {
		value string
		ok    bool
	}{
		{"", true},
		{"staging1", true},
		{"Staging", false},
		{"has.dot", false},
		{"has-dash", false},
		{"abcdefghijklmnopq", false}, // 17 characters
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			err := config.CheckPattern("nats-namespace", tt.value, pattern)
			assertNamed(t, err, tt.ok, "NRM_NATS_NAMESPACE (--nats-namespace)", pattern)
		})
	}
}

func TestCheckAddr(t *testing.T) {
	if err := config.CheckAddr("otlp-endpoint", "collector:4317"); err != nil {
		t.Errorf("collector:4317 rejected: %v", err)
	}
	assertNamed(t, config.CheckAddr("otlp-endpoint", "collector"), false, "NRM_OTLP_ENDPOINT (--otlp-endpoint)", `"collector"`)
}

func TestParseReportsEveryProblemAtOnce(t *testing.T) {
	set := newSet(map[string]string{"NRM_D": "never", "NRM_I": "many"})
	v := bindAll(set)
	addr, level := "nowhere", "loud"
	set.RequireAddr("grpc-addr", &addr)
	set.RequireOneOf("log-level", &level, "info")
	set.Check(func() error { return config.CheckRange("i", v.i, 1, 5) }) // the default 1 is in range
	err := set.Parse(nil)
	if err == nil {
		t.Fatal("no error")
	}
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok {
		t.Fatalf("error %T is not a joined error", err)
	}
	if n := len(joined.Unwrap()); n != 4 {
		t.Errorf("%d errors, want 4: %v", n, err)
	}
	for _, want := range []string{"NRM_D (--d)", "NRM_I (--i)", "NRM_GRPC_ADDR (--grpc-addr)", "NRM_LOG_LEVEL (--log-level)"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %s:\n%v", want, err)
		}
	}
}

func TestNilLookupReadsTheProcessEnvironment(t *testing.T) {
	t.Setenv("NRM_CONFIG_TEST_VALUE", "from-process")
	set := config.NewSet("test", nil)
	set.FlagSet().SetOutput(io.Discard)
	var s string
	set.String(&s, "config-test-value", "default", "")
	if err := set.Parse(nil); err != nil {
		t.Fatal(err)
	}
	if s != "from-process" {
		t.Errorf("got %q, want the process environment's value", s)
	}
}

// newSet returns a Set reading env instead of the process environment, with usage output
// discarded.
func newSet(env map[string]string) *config.Set {
	set := config.NewSet("test", func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	})
	set.FlagSet().SetOutput(io.Discard)
	return set
}

// assertNamed checks that err is nil when ok, and otherwise names the setting and contains text.
func assertNamed(t *testing.T, err error, ok bool, setting, text string) {
	t.Helper()
	if ok {
		if err != nil {
			t.Errorf("unexpected error: %v", err)
		}
		return
	}
	if err == nil {
		t.Fatal("accepted, want an error")
	}
	if !strings.Contains(err.Error(), setting) {
		t.Errorf("error %q does not name %s", err, setting)
	}
	if !strings.Contains(err.Error(), text) {
		t.Errorf("error %q does not contain %q", err, text)
	}
}
