package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/nrm-albania/nrm/services/platform/auth"
)

// The mutual-TLS material of a trial deployment, in <out>/tls: a CA, a server certificate per
// service (named for its compose host, localhost and 127.0.0.1), and a client certificate of one
// member institution with the identities file that maps it (docs/security.md).
const (
	tlsDir          = "tls"
	caFile          = "ca.pem"
	identitiesFile  = "identities.json"
	exampleClient   = "asp-antitraf-case-system"
	exampleClientID = "spiffe://nrm.gov.al/asp-antitraf/case-system"
	caValidity      = 5 * 365 * 24 * time.Hour
	leafValidity    = 365 * 24 * time.Hour
)

// composeServices are the services of deploy/compose.yaml, by host name.
var composeServices = []string{"caseregistry", "referral", "secretariat", "reporting"}

// writeCertificates writes the material into dir/tls unless its CA is there already: a CA is
// kept, as the institutions given its client certificates trust it.
func writeCertificates(dir string, now time.Time) error {
	dir = filepath.Join(dir, tlsDir)
	if _, err := os.Stat(filepath.Join(dir, caFile)); err == nil {
		return nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	ca, err := newAuthority(now)
	if err != nil {
		return err
	}
	if err := writePEM(filepath.Join(dir, caFile), "CERTIFICATE", ca.cert.Raw, 0o644); err != nil {
		return err
	}
	if err := ca.writeKey(filepath.Join(dir, "ca-key.pem"), ca.key); err != nil {
		return err
	}
	for _, host := range composeServices {
		tmpl := &x509.Certificate{
			Subject:     pkix.Name{CommonName: host},
			DNSNames:    []string{host, "localhost"},
			IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		}
		if err := ca.issue(dir, host, tmpl, now); err != nil {
			return err
		}
	}
	id, _ := url.Parse(exampleClientID)
	client := &x509.Certificate{
		Subject:     pkix.Name{CommonName: exampleClient},
		URIs:        []*url.URL{id},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if err := ca.issue(dir, exampleClient, client, now); err != nil {
		return err
	}
	ids, err := json.MarshalIndent([]auth.Identity{{Match: exampleClientID, Institution: "ASP-ANTITRAF",
		Subject: exampleClient, Roles: []string{string(auth.RoleCaseworker), string(auth.RoleMember)}}}, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, identitiesFile), append(ids, '\n'), 0o644)
}

type authority struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newAuthority(now time.Time) (*authority, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		Subject:               pkix.Name{CommonName: "NRM trial deployment CA"},
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := sign(tmpl, tmpl, &key.PublicKey, key, now, caValidity)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &authority{cert: cert, key: key}, nil
}

// issue writes dir/<name>.pem and dir/<name>-key.pem, a certificate of tmpl signed by the CA.
func (a *authority) issue(dir, name string, tmpl *x509.Certificate, now time.Time) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	der, err := sign(tmpl, a.cert, &key.PublicKey, a.key, now, leafValidity)
	if err != nil {
		return fmt.Errorf("certificate %s: %w", name, err)
	}
	if err := writePEM(filepath.Join(dir, name+".pem"), "CERTIFICATE", der, 0o644); err != nil {
		return err
	}
	return a.writeKey(filepath.Join(dir, name+"-key.pem"), key)
}

func (a *authority) writeKey(path string, key *ecdsa.PrivateKey) error {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	return writePEM(path, "PRIVATE KEY", der, 0o600)
}

// sign makes tmpl a certificate valid from an hour before now (clocks differ) for validity.
func sign(tmpl, parent *x509.Certificate, pub *ecdsa.PublicKey, signer *ecdsa.PrivateKey, now time.Time, validity time.Duration) ([]byte, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return nil, err
	}
	tmpl.SerialNumber = serial
	tmpl.NotBefore, tmpl.NotAfter = now.Add(-time.Hour), now.Add(validity)
	return x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
}

func writePEM(path, typ string, der []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	err = pem.Encode(f, &pem.Block{Type: typ, Bytes: der})
	return errors.Join(err, f.Close())
}
