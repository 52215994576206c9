package auth

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"time"
	"unicode"
	"unicode/utf8"
)

// Role is what a principal may do; the permission table maps roles to methods.
type Role string

// The roles of the system (see docs/security.md for what each may call).
const (
	RoleChair       Role = "chair"
	RoleSecretariat Role = "secretariat"
	RoleMember      Role = "member"
	RoleCaseworker  Role = "caseworker"
	RoleAnalyst     Role = "analyst"
	RoleAuditor     Role = "auditor"
	RoleOperator    Role = "operator"
	RoleService     Role = "service"
)

var allRoles = []Role{RoleChair, RoleSecretariat, RoleMember, RoleCaseworker, RoleAnalyst, RoleAuditor, RoleOperator, RoleService}

// AllRoles lists every role in a stable order (a copy: the permission table and its tests
// walk it, and nobody may extend the list at run time).
func AllRoles() []Role { return slices.Clone(allRoles) }

// ParseRole returns the role named s. Matching is exact (lower case): a token or identities
// file that spells a role differently is a configuration error, not something to guess at.
func ParseRole(s string) (Role, bool) {
	r := Role(s)
	if slices.Contains(allRoles, r) {
		return r, true
	}
	return "", false
}

// Authentication methods recorded in Principal.Method.
const (
	MethodJWT  = "jwt"
	MethodMTLS = "mtls"
)

// Principal is an authenticated caller.
type Principal struct {
	Institution string // e.g. "ASP-ANTITRAF", "MB-SEKRETARIATI"
	Subject     string // person or system id (JWT sub, or mapped certificate identity)
	Roles       []Role
	Method      string     // MethodJWT or MethodMTLS
	OnBehalfOf  *Principal // the original caller when a service calls another service for someone
	// Credential is what the caller presented, as far as revocation needs it.
	Credential Credential
}

// Credential identifies the token or certificate a principal was established from, so that it
// can be revoked before it expires (see Access).
type Credential struct {
	// TokenID is the token's jti; empty for a certificate or a token without one.
	TokenID string
	// IssuedAt is the token's iat or the certificate's NotBefore; zero when the token has no
	// iat. Revoking a subject refuses every credential issued at or before the revocation,
	// and one whose issue time is unknown.
	IssuedAt time.Time
}

// Has reports whether p itself holds role r. It does not look at OnBehalfOf: ask Effective()
// for the rights that apply to a call.
func (p *Principal) Has(r Role) bool {
	return p != nil && slices.Contains(p.Roles, r)
}

// Effective is the principal whose rights apply: OnBehalfOf when set (the caller being a
// service), else p.
func (p *Principal) Effective() *Principal {
	if p != nil && p.OnBehalfOf != nil {
		return p.OnBehalfOf
	}
	return p
}

type principalKey struct{}

// NewContext returns ctx carrying p.
func NewContext(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the principal in ctx, if any.
func FromContext(ctx context.Context) (*Principal, bool) {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p, p != nil
}

// institutionPattern is the shape of an institution code; it keeps codes safe to put in logs,
// metric labels and audit records without escaping.
var institutionPattern = regexp.MustCompile(`^[A-Z][A-Z0-9]*(-[A-Z0-9]+)*$`)

const (
	maxInstitutionLen = 32
	maxSubjectLen     = 256
)

// CheckInstitution validates an institution code, as credentials and the directory carry it.
func CheckInstitution(s string) error {
	if len(s) > maxInstitutionLen || !institutionPattern.MatchString(s) {
		return fmt.Errorf("institution must match %s and be at most %d characters", institutionPattern, maxInstitutionLen)
	}
	return nil
}

// CheckSubject validates a subject. Subjects go into audit records and logs, so control
// characters (log forging) and invalid UTF-8 are refused rather than escaped downstream.
func CheckSubject(s string) error {
	if s == "" {
		return fmt.Errorf("subject is empty")
	}
	if len(s) > maxSubjectLen {
		return fmt.Errorf("subject is longer than %d bytes", maxSubjectLen)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("subject is not valid UTF-8")
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return fmt.Errorf("subject contains a control character")
		}
	}
	return nil
}

// parseRoles turns role names into roles: at least one, every one known, duplicates dropped
// (order kept) so that a role list is short and comparable.
func parseRoles(names []string) ([]Role, error) {
	if len(names) == 0 {
		return nil, fmt.Errorf("no roles")
	}
	roles := make([]Role, 0, len(names))
	for _, n := range names {
		r, ok := ParseRole(n)
		if !ok {
			// The name is not echoed: it comes from a credential.
			return nil, fmt.Errorf("unknown role")
		}
		if !slices.Contains(roles, r) {
			roles = append(roles, r)
		}
	}
	return roles, nil
}

// newPrincipal validates the parts of a principal and assembles it.
func newPrincipal(institution, subject string, roleNames []string, method string) (*Principal, error) {
	if err := CheckInstitution(institution); err != nil {
		return nil, err
	}
	if err := CheckSubject(subject); err != nil {
		return nil, err
	}
	roles, err := parseRoles(roleNames)
	if err != nil {
		return nil, err
	}
	return &Principal{Institution: institution, Subject: subject, Roles: roles, Method: method}, nil
}

func roleNames(roles []Role) []string {
	out := make([]string, len(roles))
	for i, r := range roles {
		out[i] = string(r)
	}
	return out
}
