package stack

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// PIIKeysFile keeps the development identity keys, so that identities registered under `make run`
// stay readable across restarts. Its lines NRM_PII_MASTER_KEYS=… and NRM_PII_INDEX_KEY=… make it
// an environment file, which `nrm deploy-secrets` gives deploy/compose.yaml.
const PIIKeysFile = "dev-pii-keys.env"

// PIIKeys returns the development master key and index key in dir, creating them on first use.
// They are random per data directory and never valid anywhere else.
func PIIKeys(dir string) (masterKeys, indexKey string, err error) {
	path := filepath.Join(dir, PIIKeysFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		k := func() string {
			raw := make([]byte, 32)
			_, _ = rand.Read(raw)
			return base64.StdEncoding.EncodeToString(raw)
		}
		masterKeys, indexKey = "dev1:"+k(), k()
		content := fmt.Sprintf("# Development identity keys of `make run`. Never use them elsewhere.\nNRM_PII_MASTER_KEYS=%s\nNRM_PII_INDEX_KEY=%s\n", masterKeys, indexKey)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return "", "", err
		}
		return masterKeys, indexKey, os.WriteFile(path, []byte(content), 0o600)
	}
	if err != nil {
		return "", "", err
	}
	for line := range strings.Lines(string(b)) {
		line = strings.TrimSpace(line)
		if v, ok := strings.CutPrefix(line, "NRM_PII_MASTER_KEYS="); ok {
			masterKeys = v
		}
		if v, ok := strings.CutPrefix(line, "NRM_PII_INDEX_KEY="); ok {
			indexKey = v
		}
	}
	if masterKeys == "" || indexKey == "" {
		return "", "", fmt.Errorf("%s lacks a key; delete it to make new ones (identities sealed with the old ones become unreadable)", path)
	}
	return masterKeys, indexKey, nil
}
