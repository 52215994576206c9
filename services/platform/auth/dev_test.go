package auth_test

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nrm-albania/nrm/services/platform/auth"
)

func TestDevIssuer(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	d, err := auth.LoadOrCreateDevIssuer(dir)
	if err != nil {
		t.Fatal(err)
	}
	toks, err := d.DevTokens(dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg := d.JWTConfig()
	if cfg.Issuer != "nrm-dev" || cfg.Audience != "nrm" {
		t.Errorf("config %+v, want issuer nrm-dev audience nrm", cfg)
	}
	v, err := auth.NewJWTVerifier(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}

	want := []struct {
		name, institution string
		roles             []auth.Role
	}{
		{"NRM_TOKEN_SECRETARIAT", "MB-SEKRETARIATI", []auth.Role{auth.RoleSecretariat}},
		{"NRM_TOKEN_CHAIR", "MB-DPAM", []auth.Role{auth.RoleChair, auth.RoleMember}},
		{"NRM_TOKEN_CASEWORKER_POLICE", "ASP-ANTITRAF", []auth.Role{auth.RoleCaseworker, auth.RoleMember}},
		{"NRM_TOKEN_CASEWORKER_SHELTER", "KKSAT", []auth.Role{auth.RoleCaseworker, auth.RoleMember}},
		{"NRM_TOKEN_ANALYST", "MB-DPAM", []auth.Role{auth.RoleAnalyst}},
		{"NRM_TOKEN_AUDITOR", "MB-DPAM", []auth.Role{auth.RoleAuditor}},
		{"NRM_TOKEN_MEMBER_MB_DPAM", "MB-DPAM", []auth.Role{auth.RoleMember}},
		{"NRM_TOKEN_MEMBER_ASP_ANTITRAF", "ASP-ANTITRAF", []auth.Role{auth.RoleMember}},
		{"NRM_TOKEN_MEMBER_ASP_KUFIRI", "ASP-KUFIRI", []auth.Role{auth.RoleMember}},
		{"NRM_TOKEN_MEMBER_ASP_DHF_MINORE", "ASP-DHF-MINORE", []auth.Role{auth.RoleMember}},
		{"NRM_TOKEN_MEMBER_ASP_KIBERNETIK", "ASP-KIBERNETIK", []auth.Role{auth.RoleMember}},
		{"NRM_TOKEN_MEMBER_MEPJ_KONSULLORE", "MEPJ-KONSULLORE", []auth.Role{auth.RoleMember}},
		{"NRM_TOKEN_MEMBER_MSHMS", "MSHMS", []auth.Role{auth.RoleMember}},
		{"NRM_TOKEN_MEMBER_ASHDMF", "ASHDMF", []auth.Role{auth.RoleMember}},
		{"NRM_TOKEN_MEMBER_SHSSH", "SHSSH", []auth.Role{auth.RoleMember}},
		{"NRM_TOKEN_MEMBER_MAS", "MAS", []auth.Role{auth.RoleMember}},
		{"NRM_TOKEN_MEMBER_AKPA", "AKPA", []auth.Role{auth.RoleMember}},
		{"NRM_TOKEN_MEMBER_ISHPSHSH", "ISHPSHSH", []auth.Role{auth.RoleMember}},
		{"NRM_TOKEN_MEMBER_KKSAT", "KKSAT", []auth.Role{auth.RoleMember}},
	}
	if len(toks) != len(want) {
		t.Fatalf("%d tokens, want %d", len(toks), len(want))
	}
	env, err := os.ReadFile(filepath.Join(dir, "dev-tokens.env"))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(string(env)), "\n") {
		if !strings.HasPrefix(l, "#") {
			lines = append(lines, l)
		}
	}
	if len(lines) != len(want) {
		t.Fatalf("dev-tokens.env has %d token lines, want %d:\n%s", len(lines), len(want), env)
	}
	for i, w := range want {
		if toks[i].Name != w.name {
			t.Errorf("token %d is %s, want %s", i, toks[i].Name, w.name)
		}
		if lines[i] != w.name+"="+toks[i].Token {
			t.Errorf("dev-tokens.env line %d is not %s=<token>", i, w.name)
		}
		p, err := v.Verify(context.Background(), toks[i].Token)
		if err != nil {
			t.Errorf("%s does not verify: %v", w.name, err)
			continue
		}
		if p.Institution != w.institution || !reflect.DeepEqual(p.Roles, w.roles) {
			t.Errorf("%s: principal %+v, want %s %v", w.name, p, w.institution, w.roles)
		}
	}

	for _, name := range []string{"dev-signing-key.pem", "dev-jwks.json", "dev-tokens.env"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %s, want 0600", name, fi.Mode().Perm())
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 3 {
		t.Errorf("dir holds %d entries, want 3 (temporary files left behind?)", len(entries))
	}

	// A restart reuses the key: tokens printed earlier still work.
	d2, err := auth.LoadOrCreateDevIssuer(dir)
	if err != nil {
		t.Fatal(err)
	}
	v2, err := auth.NewJWTVerifier(context.Background(), d2.JWTConfig())
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range toks {
		if _, err := v2.Verify(context.Background(), tok.Token); err != nil {
			t.Errorf("%s after a restart: %v", tok.Name, err)
		}
	}
}

func TestDevIssuerStartedConcurrently(t *testing.T) {
	// `make run` starts every service at once on the same data dir.
	dir := t.TempDir()
	issuers := make([]*auth.DevIssuer, 8)
	var wg sync.WaitGroup
	for i := range issuers {
		wg.Go(func() {
			d, err := auth.LoadOrCreateDevIssuer(dir)
			if err != nil {
				t.Error(err)
				return
			}
			issuers[i] = d
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	v, err := auth.NewJWTVerifier(context.Background(), issuers[0].JWTConfig())
	if err != nil {
		t.Fatal(err)
	}
	for i, d := range issuers {
		tok, err := d.Mint(auth.Principal{Institution: "KKSAT", Subject: "s", Roles: []auth.Role{auth.RoleMember}}, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := v.Verify(context.Background(), tok); err != nil {
			t.Errorf("issuer %d minted with another key: %v", i, err)
		}
	}
}

func TestDevIssuerRefuses(t *testing.T) {
	t.Run("a key readable by others", func(t *testing.T) {
		dir := t.TempDir()
		if _, err := auth.LoadOrCreateDevIssuer(dir); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(filepath.Join(dir, "dev-signing-key.pem"), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := auth.LoadOrCreateDevIssuer(dir); err == nil || !strings.Contains(err.Error(), "chmod 600") {
			t.Errorf("error %v, want a refusal naming chmod 600", err)
		}
	})
	t.Run("a key file that is not a key", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "dev-signing-key.pem"), []byte("junk"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := auth.LoadOrCreateDevIssuer(dir); err == nil {
			t.Error("junk key accepted")
		}
	})
	d, err := auth.LoadOrCreateDevIssuer(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for name, p := range map[string]auth.Principal{
		"bad institution": {Institution: "kksat", Subject: "s", Roles: []auth.Role{auth.RoleMember}},
		"no subject":      {Institution: "KKSAT", Roles: []auth.Role{auth.RoleMember}},
		"no roles":        {Institution: "KKSAT", Subject: "s"},
		"unknown role":    {Institution: "KKSAT", Subject: "s", Roles: []auth.Role{"root"}},
	} {
		t.Run("mint with "+name, func(t *testing.T) {
			if _, err := d.Mint(p, time.Hour); err == nil {
				t.Error("minted")
			}
		})
	}
	t.Run("mint with no lifetime", func(t *testing.T) {
		if _, err := d.Mint(auth.Principal{Institution: "KKSAT", Subject: "s", Roles: []auth.Role{auth.RoleMember}}, 0); err == nil {
			t.Error("minted")
		}
	})
}
