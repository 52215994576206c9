package main

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"

	"github.com/nrm-albania/nrm/services/platform/auth"
	"github.com/nrm-albania/nrm/services/platform/piicrypto"
)

// The compose file is valid, and with what `nrm deploy-secrets` writes every service gets what it
// needs to start: a key set that accepts the written tokens under the configured issuer and
// audience, and for the case registry its identity keys. `make check` runs this test.
func TestComposeFileStartsWithTheDeploySecrets(t *testing.T) {
	deploy := copyDeploy(t)
	var out bytes.Buffer
	if err := deploySecretsCommand([]string{"--out", filepath.Join(deploy, "secrets")}, &out); err != nil {
		t.Fatal(err)
	}
	p := loadCompose(t, deploy)

	if got, want := slices.Sorted(slices.Values(p.ServiceNames())), []string{"caseregistry", "gateway", "mongodb",
		"mongodb-init", "nats", "referral", "reporting", "secretariat"}; !slices.Equal(got, want) {
		t.Errorf("services %v, want %v", got, want)
	}
	for _, s := range p.Services {
		for _, v := range s.Volumes {
			if v.Type == types.VolumeTypeBind {
				if _, err := os.Stat(v.Source); err != nil {
					t.Errorf("%s mounts %s, which does not exist: %v", s.Name, v.Source, err)
				}
			}
		}
	}
	tokens := envFile(t, filepath.Join(deploy, "secrets", auth.DevTokensFile))
	for _, name := range []string{"caseregistry", "referral", "secretariat", "reporting"} {
		s := p.Services[name]
		env := func(k string) string {
			if v := s.Environment[k]; v != nil {
				return *v
			}
			return ""
		}
		jwks := hostPath(t, s, env("NRM_AUTH_JWKS"))
		if info, err := os.Stat(jwks); err != nil || info.Mode().Perm()&0o004 == 0 {
			t.Errorf("%s: key set %s must be readable by the container's user: %v %v", name, jwks, info.Mode(), err)
		}
		v, err := auth.NewJWTVerifier(context.Background(), auth.JWTConfig{JWKS: jwks, Issuer: env("NRM_AUTH_ISSUER"),
			Audience: env("NRM_AUTH_AUDIENCE"), Algorithms: strings.Split(env("NRM_AUTH_ALGORITHMS"), ",")})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		p, err := v.Verify(context.Background(), tokens["NRM_TOKEN_SECRETARIAT"])
		if err != nil || p.Institution != "MB-SEKRETARIATI" {
			t.Errorf("%s does not accept the written secretariat token: %v, %v", name, p, err)
		}
	}
	cr := p.Services["caseregistry"].Environment
	if cr["NRM_PII_MASTER_KEYS"] == nil || cr["NRM_PII_INDEX_KEY"] == nil {
		t.Fatalf("the case registry gets no identity keys: %v", cr)
	}
	mk, err := piicrypto.ParseMasterKeys(*cr["NRM_PII_MASTER_KEYS"])
	if err != nil {
		t.Fatal(err)
	}
	ik, err := piicrypto.ParseIndexKey(*cr["NRM_PII_INDEX_KEY"])
	if err != nil {
		t.Fatal(err)
	}
	if err := piicrypto.CheckSeparate(mk, ik); err != nil {
		t.Error(err)
	}
	if !strings.Contains(out.String(), auth.DevTokensFile) {
		t.Errorf("the command does not say what it wrote:\n%s", out.String())
	}
}

// Running it again keeps every key: identities sealed under the first ones stay readable, and
// tokens signed before still verify.
func TestDeploySecretsKeepsItsKeys(t *testing.T) {
	dir := t.TempDir()
	read := func() (string, string) {
		key, err := os.ReadFile(filepath.Join(dir, auth.DevKeyFile))
		if err != nil {
			t.Fatal(err)
		}
		pii, err := os.ReadFile(filepath.Join(dir, "dev-pii-keys.env"))
		if err != nil {
			t.Fatal(err)
		}
		return string(key), string(pii)
	}
	if err := deploySecretsCommand([]string{"--out", dir}, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	key1, pii1 := read()
	if err := deploySecretsCommand([]string{"--out", dir}, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if key2, pii2 := read(); key1 != key2 || pii1 != pii2 {
		t.Error("a second run replaced keys")
	}
}

func TestDeploySecretsRefusesBadInput(t *testing.T) {
	file := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for name, args := range map[string][]string{
		"no directory":             {"--out", ""},
		"a file":                   {"--out", file},
		"a flag without its value": {"--out"},
	} {
		t.Run(name, func(t *testing.T) {
			var out bytes.Buffer
			if err := deploySecretsCommand(args, &out); err == nil {
				t.Fatal("accepted")
			}
			if out.Len() != 0 {
				t.Errorf("printed %q", out.String())
			}
		})
	}
}

// copyDeploy copies deploy/, without secrets, to a directory of the test's own.
func copyDeploy(t *testing.T) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "deploy")
	src := "../../../deploy"
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if rel == "secrets" {
			return filepath.SkipDir
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o700)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// loadCompose loads dir/compose.yaml as `docker compose config` does, with an empty environment.
func loadCompose(t *testing.T, dir string) *types.Project {
	t.Helper()
	opts, err := cli.NewProjectOptions([]string{filepath.Join(dir, "compose.yaml")},
		cli.WithName("nrm"), cli.WithWorkingDirectory(dir))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	p, err := opts.LoadProject(ctx)
	if err != nil {
		t.Fatalf("deploy/compose.yaml: %v", err)
	}
	return p
}

// hostPath is the file on the host that service s sees at container path.
func hostPath(t *testing.T, s types.ServiceConfig, container string) string {
	t.Helper()
	for _, v := range s.Volumes {
		if v.Type == types.VolumeTypeBind && v.Target == container {
			return v.Source
		}
	}
	t.Fatalf("%s: nothing mounted at %q", s.Name, container)
	return ""
}

func envFile(t *testing.T, path string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for line := range strings.Lines(string(b)) {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), "="); ok && !strings.HasPrefix(k, "#") {
			out[k] = v
		}
	}
	return out
}
