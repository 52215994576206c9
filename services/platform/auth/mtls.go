package auth

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
)

// TLSConfig locates the files of a service's TLS setup.
type TLSConfig struct {
	// CertFile and KeyFile are the server's certificate (chain) and private key, PEM.
	CertFile, KeyFile string
	// ClientCAFile, when set, is the PEM bundle of CAs whose client certificates are trusted.
	ClientCAFile string
	// IdentitiesFile maps client certificates to principals (see LoadCertMapper); it needs
	// ClientCAFile.
	IdentitiesFile string
}

// ServerTLS returns a *tls.Config for a gRPC server: TLS 1.3 minimum, the server certificate,
// and when ClientCAFile is set ClientAuth = tls.VerifyClientCertIfGiven with that pool (so
// token callers can still connect over TLS). A certificate from another CA fails the handshake.
func ServerTLS(c TLSConfig) (*tls.Config, error) {
	if c.CertFile == "" || c.KeyFile == "" {
		return nil, errors.New("auth: TLS needs both a certificate file and a key file")
	}
	if c.IdentitiesFile != "" && c.ClientCAFile == "" {
		return nil, errors.New("auth: a client identities file is set but no client CA file: no client certificate could be verified")
	}
	cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("auth: TLS certificate %s / key %s: %w", c.CertFile, c.KeyFile, err)
	}
	cfg := &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{cert},
		ClientAuth:   tls.NoClientCert,
	}
	if c.ClientCAFile != "" {
		pem, err := os.ReadFile(c.ClientCAFile)
		if err != nil {
			return nil, fmt.Errorf("auth: client CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("auth: client CA file %s holds no PEM certificate", c.ClientCAFile)
		}
		cfg.ClientCAs = pool
		cfg.ClientAuth = tls.VerifyClientCertIfGiven
	}
	return cfg, nil
}

// Identity is one entry of the identities file: a certificate identifier and the principal
// it stands for.
type Identity struct {
	// Match is compared exactly with the certificate's URI SANs, then its DNS SANs, then its
	// subject common name.
	Match       string   `json:"match"`
	Institution string   `json:"institution"`
	Subject     string   `json:"subject"`
	Roles       []string `json:"roles"`
}

// CertMapper maps verified client certificates to principals. It is immutable and safe for
// concurrent use.
type CertMapper struct {
	byMatch map[string]*Principal
}

// maxIdentitiesBytes bounds the identities file.
const maxIdentitiesBytes = 1 << 20

// LoadCertMapper reads the identities file: a JSON array of Identity. Every entry is checked
// (institution code, subject, known roles, unique match) and unknown fields are refused, so
// that a typo is a start-up error and not a silently different principal.
func LoadCertMapper(path string) (*CertMapper, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("auth: identities file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxIdentitiesBytes+1))
	if err != nil {
		return nil, fmt.Errorf("auth: identities file %s: %w", path, err)
	}
	if len(data) > maxIdentitiesBytes {
		return nil, fmt.Errorf("auth: identities file %s is larger than %d bytes", path, maxIdentitiesBytes)
	}
	ids, err := decodeIdentities(data)
	if err != nil {
		return nil, fmt.Errorf("auth: identities file %s: %w", path, err)
	}
	m, err := NewCertMapper(ids)
	if err != nil {
		return nil, fmt.Errorf("auth: identities file %s: %w", path, err)
	}
	return m, nil
}

func decodeIdentities(data []byte) ([]Identity, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var ids []Identity
	if err := dec.Decode(&ids); err != nil {
		return nil, fmt.Errorf("not a JSON array of identities: %w", err)
	}
	if dec.More() {
		return nil, errors.New("trailing data after the JSON array")
	}
	return ids, nil
}

// NewCertMapper builds a mapper from identities already in memory.
func NewCertMapper(ids []Identity) (*CertMapper, error) {
	if len(ids) == 0 {
		return nil, errors.New("no identities")
	}
	m := &CertMapper{byMatch: make(map[string]*Principal, len(ids))}
	for i, id := range ids {
		if id.Match == "" {
			return nil, fmt.Errorf("identity #%d: match is empty", i)
		}
		if _, dup := m.byMatch[id.Match]; dup {
			return nil, fmt.Errorf("identity #%d: match %q appears twice", i, id.Match)
		}
		p, err := newPrincipal(id.Institution, id.Subject, id.Roles, MethodMTLS)
		if err != nil {
			return nil, fmt.Errorf("identity #%d (%q): %w", i, id.Match, err)
		}
		m.byMatch[id.Match] = p
	}
	return m, nil
}

// ErrUnknownCertificate is returned for a verified certificate that no identity matches.
var ErrUnknownCertificate = errors.New("client certificate not mapped to an identity")

// Principal maps a verified client certificate (the leaf) to its principal. URI SANs are
// matched first, then DNS SANs, then the subject CN; the first class with a match decides.
// Two different identities matching within that class is an error rather than a guess.
func (m *CertMapper) Principal(cert *x509.Certificate) (*Principal, error) {
	if cert == nil {
		return nil, errors.New("auth: no certificate")
	}
	uris := make([]string, len(cert.URIs))
	for i, u := range cert.URIs {
		uris[i] = u.String()
	}
	var cn []string
	if cert.Subject.CommonName != "" {
		cn = []string{cert.Subject.CommonName}
	}
	for _, class := range [][]string{uris, cert.DNSNames, cn} {
		var found *Principal
		for _, id := range class {
			p, ok := m.byMatch[id]
			if !ok || p == found {
				continue
			}
			if found != nil {
				return nil, errors.New("auth: client certificate matches more than one identity")
			}
			found = p
		}
		if found != nil {
			p := clonePrincipal(found)
			p.Credential = Credential{IssuedAt: cert.NotBefore}
			return p, nil
		}
	}
	return nil, ErrUnknownCertificate
}

// clonePrincipal copies p, so that a caller changing its principal cannot change the mapping.
func clonePrincipal(p *Principal) *Principal {
	c := *p
	c.Roles = append([]Role(nil), p.Roles...)
	return &c
}
