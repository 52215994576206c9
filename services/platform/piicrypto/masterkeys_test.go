package piicrypto_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/nrm-albania/nrm/services/platform/piicrypto"
)

func TestParseMasterKeys(t *testing.T) {
	k1, k2 := testKey("k1"), testKey("k2")
	tests := []struct {
		name    string
		spec    string
		primary string
		ids     []string
	}{
		{"one key", "k1:" + b64(k1), "k1", []string{"k1"}},
		{"first is primary", "k2:" + b64(k2) + ",k1:" + b64(k1), "k2", []string{"k2", "k1"}},
		{"order kept", "k1:" + b64(k1) + ",k2:" + b64(k2), "k1", []string{"k1", "k2"}},
		{"spaces and newlines", "\n  k2 : " + b64(k2) + " ,\n\tk1:" + b64(k1) + "\n", "k2", []string{"k2", "k1"}},
		{"unpadded", "k1:" + base64.RawStdEncoding.EncodeToString(k1), "k1", []string{"k1"}},
		{"url alphabet", "k1:" + base64.URLEncoding.EncodeToString(k1), "k1", []string{"k1"}},
		{"url alphabet unpadded", "k1:" + base64.RawURLEncoding.EncodeToString(k1), "k1", []string{"k1"}},
		{"id characters", "2025-01_master.A:" + b64(k1), "2025-01_master.A", []string{"2025-01_master.A"}},
		{"id of 32 characters", strings.Repeat("a", 32) + ":" + b64(k1), strings.Repeat("a", 32), []string{strings.Repeat("a", 32)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mk, err := piicrypto.ParseMasterKeys(tt.spec)
			if err != nil {
				t.Fatal(err)
			}
			if mk.Primary() != tt.primary || !slices.Equal(mk.IDs(), tt.ids) {
				t.Errorf("primary %q ids %q, want %q %q", mk.Primary(), mk.IDs(), tt.primary, tt.ids)
			}
			for _, id := range tt.ids {
				if !mk.Has(id) {
					t.Errorf("Has(%q) = false", id)
				}
			}
			if mk.Has("nope") {
				t.Error(`Has("nope") = true`)
			}
		})
	}
}

func TestParseMasterKeysErrors(t *testing.T) {
	k1, k2 := testKey("k1"), testKey("k2")
	short, long := testKey("short")[:16], append(testKey("long"), 1)
	tests := []struct {
		name string
		spec string
		want string // in the error message
	}{
		{"empty", "", "no master key configured"},
		{"blank", "  \n ", "no master key configured"},
		{"bare key without id", b64(k1), "master key 1: want id:base64-key"},
		{"empty entry", "k1:" + b64(k1) + ",", "master key 2: empty entry"},
		{"empty id", ":" + b64(k1), "master key 1: the id must be"},
		{"id with space", "my key:" + b64(k1), "master key 1: the id must be"},
		{"id too long", strings.Repeat("a", 33) + ":" + b64(k1), "master key 1: the id must be"},
		{"key and id swapped", b64(k1) + ":k1", "master key 1: the id must be"},
		{"unpadded key and id swapped", base64.RawStdEncoding.EncodeToString(k1) + ":k1", "master key 1: the id must be"},
		{"empty key", "k1:", `master key 1 (id "k1"): the key is empty`},
		{"bad base64", "k1:" + b64(k1)[:20] + "!!" + b64(k1)[22:], `master key 1 (id "k1"): the key is not valid base64`},
		{"16 bytes", "k1:" + b64(short), "the key is 16 bytes, want 32"},
		{"31 bytes", "k1:" + b64(k1[:31]), "the key is 31 bytes, want 32"},
		{"33 bytes", "k1:" + b64(long), "the key is 33 bytes, want 32"},
		{"duplicate id", "k1:" + b64(k1) + ",k1:" + b64(k2), `master key 2 (id "k1"): duplicate id`},
		{"same key twice", "k1:" + b64(k1) + ",k2:" + b64(k1), `master key 2 (id "k2"): same key as id "k1"`},
		{"extra colon", "k1:" + b64(k1) + ":x", "not valid base64"},
		{"second entry bad", "k2:" + b64(k2) + ",k1:" + b64(short), `master key 2 (id "k1"): the key is 16 bytes`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mk, err := piicrypto.ParseMasterKeys(tt.spec)
			if err == nil {
				t.Fatalf("no error, got %v", mk)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
			assertNoKey(t, "error", err.Error(), k1, k2, short, long)
		})
	}
}

// Every problem of the setting is reported at once, as the platform's config does.
func TestParseMasterKeysReportsEveryProblem(t *testing.T) {
	_, err := piicrypto.ParseMasterKeys("k1:AAAA,bad id:" + b64(testKey("x")) + ",k3:" + b64(testKey("k3")))
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"master key 1 (id \"k1\")", "master key 2:"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

// Formatting keys in any way, as a log line or an error wrapper might, shows no key material.
func TestKeysAreRedacted(t *testing.T) {
	k1, k2, ik := testKey("k1"), testKey("k2"), testKey("index")
	mk := mustMasterKeys(t, "k2", "k1")
	idx := mustIndexKey(t, "index")
	dk, _ := mustDataKey(t, mk, "case-1")
	// The data key's bytes are not reachable from outside; seal something under it and check
	// below that no formatting reveals more than the redacted text.
	verbs := []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T", "%10.3v", "%p"}
	values := map[string]any{
		"*MasterKeys": mk, "MasterKeys": *mk, "*IndexKey": idx, "IndexKey": *idx,
		"DataKey": dk, "*DataKey": &dk,
		"struct": struct {
			Keys  *piicrypto.MasterKeys
			Index piicrypto.IndexKey
			Data  piicrypto.DataKey
		}{mk, *idx, dk},
		"slice": []any{mk, idx, dk},
		"map":   map[string]any{"mk": *mk, "ik": idx},
	}
	for name, v := range values {
		for _, verb := range verbs {
			got := fmt.Sprintf(verb, v)
			assertNoKey(t, name+" "+verb, got, k1, k2, ik)
		}
		got := fmt.Sprintf("%v %+v %#v %s", v, v, v, v)
		assertNoKey(t, name, got, k1, k2, ik)

		var buf bytes.Buffer
		slog.New(slog.NewJSONHandler(&buf, nil)).Info("keys", "v", v)
		slog.New(slog.NewTextHandler(&buf, nil)).Info("keys", "v", v)
		assertNoKey(t, name+" slog", buf.String(), k1, k2, ik)

		if j, err := json.Marshal(v); err == nil {
			assertNoKey(t, name+" json", string(j), k1, k2, ik)
		}
	}
	if s := fmt.Sprint(mk); !strings.Contains(s, `"k2"`) || !strings.Contains(s, "REDACTED") {
		t.Errorf("MasterKeys prints %q; want the ids and REDACTED", s)
	}
}
