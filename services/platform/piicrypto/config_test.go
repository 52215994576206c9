package piicrypto_test

import (
	"bytes"
	"flag"
	"fmt"
	"strings"
	"testing"

	"github.com/nrm-albania/nrm/services/platform/config"
	"github.com/nrm-albania/nrm/services/platform/piicrypto"
)

func newConfig(env map[string]string) (*config.Set, *piicrypto.Config) {
	set := config.NewSet("caseregistry", func(name string) (string, bool) {
		v, ok := env[name]
		return v, ok
	})
	var c piicrypto.Config
	c.Bind(set)
	return set, &c
}

func TestConfigFromEnvironment(t *testing.T) {
	set, c := newConfig(map[string]string{
		"NRM_PII_MASTER_KEYS": keySpec("k2", "k1"),
		"NRM_PII_INDEX_KEY":   b64(testKey("index")),
	})
	if err := set.Parse(nil); err != nil {
		t.Fatal(err)
	}
	if c.MasterKeys() == nil || c.MasterKeys().Primary() != "k2" || c.IndexKey() == nil {
		t.Fatalf("keys not loaded: %v", c)
	}
	assertNoKey(t, "Config", fmt.Sprintf("%v %+v %#v %s %p", c, *c, c, c, *c), testKey("k1"), testKey("k2"), testKey("index"))
	// The settings' text is gone once parsed.
	for _, name := range []string{piicrypto.MasterKeysSetting, piicrypto.IndexKeySetting} {
		if v := set.FlagSet().Lookup(name).Value.String(); v != "" {
			t.Errorf("flag %s still holds its value", name)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	k1, ik := testKey("k1"), testKey("index")
	tests := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"nothing set", nil, []string{"NRM_PII_MASTER_KEYS (--pii-master-keys): piicrypto: no master key", "NRM_PII_INDEX_KEY (--pii-index-key): piicrypto: no index key"}},
		{"bad master key", map[string]string{"NRM_PII_MASTER_KEYS": "k1:" + b64(k1[:16]), "NRM_PII_INDEX_KEY": b64(ik)},
			[]string{`NRM_PII_MASTER_KEYS (--pii-master-keys): piicrypto: master key 1 (id "k1"): the key is 16 bytes`}},
		{"index key reuses a master key", map[string]string{"NRM_PII_MASTER_KEYS": keySpec("k1"), "NRM_PII_INDEX_KEY": b64(k1)},
			[]string{`NRM_PII_INDEX_KEY (--pii-index-key): piicrypto: the index key is the master key "k1"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set, c := newConfig(tt.env)
			err := set.Parse(nil)
			if err == nil {
				t.Fatal("no error")
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
			assertNoKey(t, "error", err.Error(), k1, ik)
			if c.MasterKeys() != nil || c.IndexKey() != nil {
				t.Error("keys loaded despite the error")
			}
		})
	}
}

// A usage message, printed for -h or any mistyped flag, shows the settings but not the keys
// that the environment gave them.
func TestConfigUsageHidesKeys(t *testing.T) {
	set, _ := newConfig(map[string]string{
		"NRM_PII_MASTER_KEYS": keySpec("k2", "k1"),
		"NRM_PII_INDEX_KEY":   b64(testKey("index")),
	})
	var out bytes.Buffer
	set.FlagSet().SetOutput(&out)
	if err := set.Parse([]string{"-h"}); err != flag.ErrHelp {
		t.Fatalf("Parse(-h): %v", err)
	}
	usage := out.String()
	if !strings.Contains(usage, "pii-master-keys") || !strings.Contains(usage, "NRM_PII_INDEX_KEY") {
		t.Errorf("usage does not list the settings:\n%s", usage)
	}
	assertNoKey(t, "usage", usage, testKey("k1"), testKey("k2"), testKey("index"))
}
