// Package access decides whether an authenticated caller may come in at all: the institution its
// credential names must be one the Authority knows (a member, the secretariat, an invitee, a
// provider, or the system's own services) and still active, and the credential must not have
// been revoked. A valid signature proves only who issued a credential.
//
// The secretariat keeps the directory of institutions and the revocations in its database and
// publishes them to a JetStream key-value bucket (NRM_ACCESS); every service follows the bucket
// with a watcher and answers from memory, so a deactivation or a revocation takes effect in every
// service as soon as the bus delivers it, without a restart, and costs no lookup per call.
package access

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/nrm-albania/nrm/services/platform/apierr"
	"github.com/nrm-albania/nrm/services/platform/auth"
)

// Kind is what an institution is to the Authority.
type Kind string

// The kinds of institution the directory knows.
const (
	KindMember      Kind = "member"      // one of the 13 members (the chair included)
	KindSecretariat Kind = "secretariat" // the Authority's secretariat
	KindInvitee     Kind = "invitee"     // invited to meetings: a prosecution office, an NRM member
	KindProvider    Kind = "provider"    // provides assistance: a shelter, a child-protection unit
	KindService     Kind = "service"     // the system's own services, calling each other
)

// Kinds lists every kind in a stable order.
func Kinds() []Kind {
	return []Kind{KindMember, KindSecretariat, KindInvitee, KindProvider, KindService}
}

// Institution is an entry of the directory.
type Institution struct {
	Code   string `json:"code"`
	Kind   Kind   `json:"kind"`
	Active bool   `json:"active"`
}

// DefaultMaxStaleness bounds how long a service trusts its copy of the directory without the
// bus confirming it: past it, calls are refused (Unavailable) rather than admitted on what may
// be an outdated directory. It is the longest a deactivation or revocation can take to apply
// while the bus is unreachable.
const DefaultMaxStaleness = 2 * time.Minute

// Directory is a service's copy of the bucket. It is safe for concurrent use; the zero value is
// not: use NewDirectory.
type Directory struct {
	now      func() time.Time
	maxStale time.Duration

	mu           sync.RWMutex
	institutions map[string]Institution
	tokens       map[string]time.Time // TokenKey -> when the revoked token expires
	subjects     map[string]time.Time // SubjectKey -> credentials issued at or before are revoked
	caughtUp     bool                 // the watcher has delivered the bucket's contents
	seeded       bool                 // the secretariat has published the directory once
	confirmed    time.Time            // when the bus last confirmed the copy is current
}

// NewDirectory returns an empty directory that admits nobody until it has followed the bucket
// (Follow). maxStale 0 means DefaultMaxStaleness; now nil means time.Now.
func NewDirectory(maxStale time.Duration, now func() time.Time) *Directory {
	if maxStale <= 0 {
		maxStale = DefaultMaxStaleness
	}
	if now == nil {
		now = time.Now
	}
	return &Directory{now: now, maxStale: maxStale,
		institutions: map[string]Institution{}, tokens: map[string]time.Time{}, subjects: map[string]time.Time{}}
}

// Reasons of the refusals, in google.rpc.ErrorInfo.
const (
	ReasonLoading             = "ACCESS_DIRECTORY_LOADING"
	ReasonStale               = "ACCESS_DIRECTORY_STALE"
	ReasonInstitutionUnknown  = "INSTITUTION_UNKNOWN"
	ReasonInstitutionInactive = "INSTITUTION_INACTIVE"
	ReasonRevoked             = "CREDENTIALS_REVOKED"
)

// Admit implements auth.Access.
func (d *Directory) Admit(p *auth.Principal) error {
	if err := d.Ready(); err != nil {
		return refusal(codes.Unavailable, reasonOf(err), err.Error()+"; retry shortly", nil)
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	inst, ok := d.institutions[p.Institution]
	switch {
	case !ok:
		return refusal(codes.PermissionDenied, ReasonInstitutionUnknown,
			"institution "+p.Institution+" is not known to the Authority; the secretariat registers institutions",
			map[string]string{"institution": p.Institution})
	case !inst.Active:
		return refusal(codes.PermissionDenied, ReasonInstitutionInactive,
			"institution "+p.Institution+" is deactivated", map[string]string{"institution": p.Institution})
	}
	c := p.Credential
	if c.TokenID != "" {
		if _, revoked := d.tokens[TokenKey(c.TokenID)]; revoked {
			return refusal(codes.Unauthenticated, ReasonRevoked, "the credential has been revoked", nil)
		}
	}
	if before, revoked := d.subjects[SubjectKey(p.Institution, p.Subject)]; revoked && (c.IssuedAt.IsZero() || !c.IssuedAt.After(before)) {
		return refusal(codes.Unauthenticated, ReasonRevoked, "the credential has been revoked; ask for a new one", nil)
	}
	return nil
}

var (
	errLoading = errors.New("the access directory is not loaded yet")
	errStale   = errors.New("the access directory has not been confirmed by the bus recently")
)

func reasonOf(err error) string {
	if errors.Is(err, errStale) {
		return ReasonStale
	}
	return ReasonLoading
}

// Ready reports whether the directory can answer: loaded, seeded by the secretariat, and
// confirmed by the bus within the staleness bound. It is the service's readiness check.
func (d *Directory) Ready() error {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if !d.caughtUp || !d.seeded {
		return errLoading
	}
	if age := d.now().Sub(d.confirmed); age > d.maxStale {
		return fmt.Errorf("%w (last %s ago, at most %s)", errStale, age.Round(time.Second), d.maxStale)
	}
	return nil
}

// Institution returns the directory's entry for code.
func (d *Directory) Institution(code string) (Institution, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	inst, ok := d.institutions[code]
	return inst, ok
}

// Institutions returns a copy of every entry.
func (d *Directory) Institutions() map[string]Institution {
	d.mu.RLock()
	defer d.mu.RUnlock()
	out := make(map[string]Institution, len(d.institutions))
	for k, v := range d.institutions {
		out[k] = v
	}
	return out
}

// confirm records that the bus has just vouched for the copy.
func (d *Directory) confirm() {
	d.mu.Lock()
	d.confirmed = d.now()
	d.mu.Unlock()
}

// TokenKey is the key under which a token's revocation is kept: a hash of its jti, since key
// names are restricted and a jti is whatever the issuer chose.
func TokenKey(tokenID string) string { return keyToken + digest(tokenID) }

// SubjectKey is the key under which a subject's revocation is kept.
func SubjectKey(institution, subject string) string {
	return keySubject + digest(institution+"\x00"+subject)
}

// InstitutionKey is the key of an institution's entry; codes are already valid key names.
func InstitutionKey(code string) string { return keyInstitution + code }

func digest(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func refusal(c codes.Code, reason, msg string, md map[string]string) error {
	return apierr.WithInfo(c, reason, msg, md)
}
