package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nrm-albania/nrm/services/platform/testenv"
)

// launcher is a running `nrm run` process.
type launcher struct {
	cmd     *exec.Cmd
	gateway string
}

// launch starts the launcher binary on dataDir with free ports and waits for its banner.
func launch(t *testing.T, bin, dataDir string) *launcher {
	t.Helper()
	cmd := exec.Command(bin, "run", "--data-dir", dataDir, "--ephemeral-ports", "--log-file", filepath.Join(dataDir, "nrm.log"),
		"--embedded-mongo-addr", "127.0.0.1:0", "--embedded-nats-addr", "127.0.0.1:0")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	found := make(chan string, 1)
	ended := make(chan string, 1)
	go func() {
		rest := regexp.MustCompile(`REST API:\s+(http://\S+)/v1/`)
		var said strings.Builder
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			said.WriteString(sc.Text() + "\n")
			if m := rest.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
		ended <- said.String()
	}()
	select {
	case url := <-found:
		return &launcher{cmd: cmd, gateway: url}
	case said := <-ended:
		t.Fatalf("the launcher ended before serving:\n%s", said)
	case <-time.After(60 * time.Second):
		t.Fatal("the launcher printed no banner within 60s")
	}
	return nil
}

func devToken(t *testing.T, dataDir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dataDir, "dev-tokens.env"))
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), name+"="); ok {
			return v
		}
	}
	t.Fatalf("no %s in dev-tokens.env", name)
	return ""
}

func rest(t *testing.T, method, url, token string, body []byte, key string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// A SIGKILL of the whole system loses nothing it acknowledged: after a restart on the same data,
// every registered case is there, and the events that had not gone out yet are published then,
// so the statistics count each case once.
func TestKillLosesNothingAcknowledged(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the launcher twice")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "nrm")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	data := filepath.Join(dir, "data")
	example, err := os.ReadFile("../../../docs/examples/register-case.json")
	if err != nil {
		t.Fatal(err)
	}
	// Five registrations of one person would be refused as duplicates: register the profile only.
	var m map[string]any
	if err := json.Unmarshal(example, &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "identity")
	body, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}

	l := launch(t, bin, data)
	token := devToken(t, data, "NRM_TOKEN_CASEWORKER_POLICE")
	const n = 5
	ids := make([]string, n)
	for i := range n {
		code, created := rest(t, "POST", l.gateway+"/v1/cases", token, body, fmt.Sprintf("kill-%d", i))
		if code != http.StatusOK {
			t.Fatalf("registration %d: %d %v", i, code, created)
		}
		ids[i] = created["case"].(map[string]any)["id"].(string)
	}
	if err := l.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = l.cmd.Wait()

	l = launch(t, bin, data)
	token = devToken(t, data, "NRM_TOKEN_CASEWORKER_POLICE")
	for _, id := range ids {
		if code, got := rest(t, "GET", l.gateway+"/v1/cases/"+id, token, nil, ""); code != http.StatusOK {
			t.Errorf("case %s after the kill: %d %v", id, code, got)
		}
	}
	analyst := devToken(t, data, "NRM_TOKEN_ANALYST")
	testenv.Eventually(t, 60*time.Second, "statistics count every acknowledged case once", func() bool {
		_, stats := rest(t, "GET", l.gateway+"/v1/statistics/cases", analyst, nil, "")
		return stats["total"] == fmt.Sprint(n)
	})
}
