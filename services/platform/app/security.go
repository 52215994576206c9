package app

import (
	"context"
	"crypto/tls"
	"fmt"
	"strings"

	"github.com/nrm-albania/nrm/services/platform/auth"
	"github.com/nrm-albania/nrm/services/platform/authz"
	"github.com/nrm-albania/nrm/services/platform/config"
)

// security builds what the gRPC server needs to know who calls and what they may do: the guard
// (authentication, admission against the access directory, then the permission table) and,
// when configured, the TLS configuration that also verifies member institutions' client
// certificates.
func security(ctx context.Context, c Config, admit auth.Access) (authz.Guard, *tls.Config, error) {
	authn := auth.Authenticator{Access: admit}
	a := c.Auth
	if a.JWKS != "" {
		var algs []string
		for alg := range strings.SplitSeq(a.Algorithms, ",") {
			if alg = strings.TrimSpace(alg); alg != "" {
				algs = append(algs, alg)
			}
		}
		v, err := auth.NewJWTVerifier(ctx, auth.JWTConfig{JWKS: a.JWKS, Issuer: a.Issuer, Audience: a.Audience, Algorithms: algs})
		if err != nil {
			return authz.Guard{}, nil, fmt.Errorf("%s: %w", config.EnvName("auth-jwks"), err)
		}
		authn.JWT = v
	}
	if a.IdentitiesFile != "" {
		m, err := auth.LoadCertMapper(a.IdentitiesFile)
		if err != nil {
			return authz.Guard{}, nil, fmt.Errorf("%s: %w", config.EnvName("tls-identities-file"), err)
		}
		authn.Certs = m
	}
	var tc *tls.Config
	if a.CertFile != "" {
		var err error
		tc, err = auth.ServerTLS(auth.TLSConfig{CertFile: a.CertFile, KeyFile: a.KeyFile, ClientCAFile: a.ClientCAFile, IdentitiesFile: a.IdentitiesFile})
		if err != nil {
			return authz.Guard{}, nil, fmt.Errorf("%s: %w", config.EnvName("tls-cert-file"), err)
		}
	}
	purposes, err := authz.ParsePurposes(c.AuditPurposes)
	if err != nil {
		return authz.Guard{}, nil, fmt.Errorf("%s: %w", config.EnvName("audit-purposes"), err)
	}
	return authz.Guard{Authn: &authn, Table: authz.Table, Reflection: c.Reflection, Purposes: purposes}, tc, nil
}
