package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/nrm-albania/nrm/services/platform/auth"
	"github.com/nrm-albania/nrm/services/platform/config"
	"github.com/nrm-albania/nrm/tools/stack"
)

// deploySecretsCommand writes what deploy/compose.yaml needs and must not be committed: the key
// set the services verify tokens with (and the key that signs them, with tokens for each role),
// the case registry's identity keys, and the certificates of mutual TLS. Keys already there are
// kept, so running it again changes none: identities sealed under the old ones stay readable.
func deploySecretsCommand(args []string, out io.Writer, now func() time.Time) error {
	var dir string
	set := config.NewSet("nrm deploy-secrets", nil)
	set.String(&dir, "out", "deploy/secrets", "the directory to write (git-ignored)")
	set.RequireNonEmpty("out", &dir)
	if err := set.Parse(args); err != nil {
		return err
	}
	issuer, err := auth.LoadOrCreateDevIssuer(dir)
	if err != nil {
		return err
	}
	if _, err := issuer.DevTokens(dir); err != nil {
		return err
	}
	// The containers run as an unprivileged user of their own: the key set, which is public, must
	// be readable by it. The signing key and the tokens stay the operator's (0600).
	if err := os.Chmod(filepath.Join(dir, auth.DevJWKSFile), 0o644); err != nil {
		return err
	}
	if _, _, err := stack.PIIKeys(dir); err != nil {
		return err
	}
	// The referral service's own token: alone it may call nothing (no method admits the service
	// role without a caller on whose behalf it acts), so the container's user may read it.
	token, err := stack.ServiceToken(issuer, dir, "referral")
	if err != nil {
		return err
	}
	if err := os.Chmod(token, 0o644); err != nil {
		return err
	}
	if err := writeCertificates(dir, now()); err != nil {
		return err
	}
	for _, f := range []struct{ name, what string }{
		{auth.DevJWKSFile, "key set the services verify tokens with (issuer " + auth.DevIssuerName + ", audience " + auth.DevAudience + ")"},
		{auth.DevKeyFile, "the key that signs the tokens: keep it secret"},
		{auth.DevTokensFile, "a token per role, valid 30 days (`source` it); run again for fresh ones"},
		{stack.PIIKeysFile, "the keys of identities and referrals' text: losing them loses every identity"},
		{filepath.Base(token), "the referral service's token for asking the case registry on its callers' behalf (valid 30 days)"},
		{filepath.Join(tlsDir, caFile), "the CA of mutual TLS (its key: ca-key.pem), with a certificate per service and " +
			exampleClient + ".pem for the institution that " + identitiesFile + " maps"},
	} {
		fmt.Fprintf(out, "%s\t%s\n", filepath.Join(dir, f.name), f.what)
	}
	return nil
}
