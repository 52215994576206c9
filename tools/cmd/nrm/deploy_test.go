package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"

	auditv1 "github.com/nrm-albania/nrm/proto/nrm/audit/v1"
	"github.com/nrm-albania/nrm/services/platform/app"
	"github.com/nrm-albania/nrm/services/platform/auth"
	"github.com/nrm-albania/nrm/services/platform/piicrypto"
	"github.com/nrm-albania/nrm/services/platform/testenv"
)

// The compose file is valid, and with what `nrm deploy-secrets` writes every service gets what it
// needs to start: a key set that accepts the written tokens under the configured issuer and
// audience, and for the case registry its identity keys. `make check` runs this test.
func TestComposeFileStartsWithTheDeploySecrets(t *testing.T) {
	deploy := copyDeploy(t)
	var out bytes.Buffer
	if err := deploySecretsCommand([]string{"--out", filepath.Join(deploy, "secrets")}, &out, time.Now); err != nil {
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
	// The gateway verifies tokens too (its rate limits are keyed by the verified caller).
	for _, name := range []string{"caseregistry", "referral", "secretariat", "reporting", "gateway"} {
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
		ca, err := os.ReadFile(filepath.Join(dir, tlsDir, caFile))
		if err != nil {
			t.Fatal(err)
		}
		return string(key), string(pii) + string(ca)
	}
	if err := deploySecretsCommand([]string{"--out", dir}, &bytes.Buffer{}, time.Now); err != nil {
		t.Fatal(err)
	}
	key1, pii1 := read()
	if err := deploySecretsCommand([]string{"--out", dir}, &bytes.Buffer{}, time.Now); err != nil {
		t.Fatal(err)
	}
	if key2, pii2 := read(); key1 != key2 || pii1 != pii2 {
		t.Error("a second run replaced keys")
	}
}

// A service given the written certificates serves mutual TLS: the institution's client
// certificate is recognised as that institution with its roles, and a call without one is not.
func TestDeploySecretsCertificatesServeMutualTLS(t *testing.T) {
	dir := t.TempDir()
	if err := deploySecretsCommand([]string{"--out", dir}, &bytes.Buffer{}, time.Now); err != nil {
		t.Fatal(err)
	}
	certs := filepath.Join(dir, tlsDir)
	bus := testenv.NewBus(t)
	testenv.PublishAccess(t, bus, "ASP-ANTITRAF")
	cfg := app.Defaults("caseregistry", "127.0.0.1:0", "127.0.0.1:0")
	cfg.MongoURI, cfg.MongoDatabase = testenv.MongoURI(t), testenv.Name("t_")
	cfg.NATSURL, cfg.NATSNamespace, cfg.ShutdownTimeout = bus.URL, string(bus.NS), 5*time.Second
	cfg.Auth = app.AuthConfig{CertFile: filepath.Join(certs, "caseregistry.pem"), KeyFile: filepath.Join(certs, "caseregistry-key.pem"),
		ClientCAFile: filepath.Join(certs, caFile), IdentitiesFile: filepath.Join(certs, identitiesFile)}
	ctx, stop := context.WithCancel(context.Background())
	listening, done := make(chan [2]string, 1), make(chan error, 1)
	go func() {
		done <- app.Run(ctx, cfg, func(context.Context, *app.Runtime) ([]app.Worker, error) { return nil, nil },
			app.Options{LogOutput: io.Discard, Listening: func(g, a net.Addr) { listening <- [2]string{g.String(), a.String()} }})
	}()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("the service stopped with %v", err)
		}
	})
	var addr string
	select {
	case addrs := <-listening:
		addr = addrs[0]
		testenv.WaitForAccess(t, addrs[1])
	case err := <-done:
		t.Fatalf("the service did not start with the written certificates: %v", err)
	}

	roots := x509.NewCertPool()
	pemCA, err := os.ReadFile(filepath.Join(certs, caFile))
	if err != nil || !roots.AppendCertsFromPEM(pemCA) {
		t.Fatalf("ca.pem: %v", err)
	}
	client, err := tls.LoadX509KeyPair(filepath.Join(certs, exampleClient+".pem"), filepath.Join(certs, exampleClient+"-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		certs []tls.Certificate
		want  codes.Code
	}{
		// A caseworker may not read the audit trail: refused as the institution it is.
		{"the institution's certificate", []tls.Certificate{client}, codes.PermissionDenied},
		{"no certificate", nil, codes.Unauthenticated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			creds := credentials.NewTLS(&tls.Config{MinVersion: tls.VersionTLS13, RootCAs: roots, ServerName: "caseregistry", Certificates: tt.certs})
			conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(creds))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			_, err = auditv1.NewAuditServiceClient(conn).ListAuditRecords(ctx, &auditv1.ListAuditRecordsRequest{})
			if got := status.Code(err); got != tt.want {
				t.Errorf("ListAuditRecords: %v, want %s", err, tt.want)
			}
		})
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
			if err := deploySecretsCommand(args, &out, time.Now); err == nil {
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
