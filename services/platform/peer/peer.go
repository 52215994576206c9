// Package peer dials another of the system's services as this service: over TLS when the peer
// serves it, with the service's own bearer token on every call (forwarding, when there is one,
// the caller it acts for: auth.ServiceCredentials). The referral service asks the case registry
// this way, the secretariat the reporting service.
package peer

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/nrm-albania/nrm/services/platform/auth"
)

// TLS is how to reach a peer that serves TLS (as every service does once mutual TLS is
// configured for institutions): the CA bundle of its certificate and, optionally, the name to
// expect in it. The zero value is plaintext, for development.
type TLS struct {
	CAFile, ServerName string
}

// Dial returns a connection to the peer (named what in errors) at addr that authenticates as the
// service with the bearer token token returns. With TLS set, the token is never sent over a
// connection without it.
func Dial(what, addr string, t TLS, token func(context.Context) (string, error)) (*grpc.ClientConn, error) {
	transport := insecure.NewCredentials()
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("the %s's CA: %w", what, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("the %s's CA: %s holds no PEM certificate", what, t.CAFile)
		}
		transport = credentials.NewTLS(&tls.Config{MinVersion: tls.VersionTLS13, RootCAs: pool, ServerName: t.ServerName})
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(transport),
		grpc.WithPerRPCCredentials(auth.ServiceCredentials(token, t.CAFile != "")))
	if err != nil {
		return nil, fmt.Errorf("%s client for %s: %w", what, addr, err)
	}
	return conn, nil
}

// TokenFile returns the service's bearer token read from path at each call, so that a token the
// identity provider renews in place is picked up without a restart.
func TokenFile(path string) func(context.Context) (string, error) {
	return func(context.Context) (string, error) {
		b, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("read the service token: %w", err)
		}
		return strings.TrimSpace(string(b)), nil
	}
}
