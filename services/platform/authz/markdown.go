package authz

import (
	"fmt"
	"slices"
	"strings"

	"github.com/nrm-albania/nrm/services/platform/auth"
)

// DocRoles is the column order of the role × method table in docs/security.md.
var DocRoles = []auth.Role{
	auth.RoleChair, auth.RoleSecretariat, auth.RoleMember, auth.RoleCaseworker,
	auth.RoleAnalyst, auth.RoleAuditor, auth.RoleOperator, auth.RoleService,
}

// Markdown renders Table as the role × method table of docs/security.md, methods sorted. A
// service (role service) acts only on behalf of a caller, whose roles decide; its column says so.
func Markdown() string {
	var b strings.Builder
	b.WriteString("| method |")
	for _, r := range DocRoles {
		fmt.Fprintf(&b, " %s |", r)
	}
	b.WriteString(" audit |\n|---|")
	for range DocRoles {
		b.WriteString(":-:|")
	}
	b.WriteString("---|\n")
	methods := make([]string, 0, len(Table))
	for m := range Table {
		methods = append(methods, m)
	}
	slices.Sort(methods)
	for _, m := range methods {
		rule := Table[m]
		fmt.Fprintf(&b, "| `%s` |", m)
		for _, r := range DocRoles {
			switch {
			case r == auth.RoleService:
				b.WriteString(" for caller |")
			case slices.Contains(rule.Roles, r):
				b.WriteString(" ✓ |")
			default:
				b.WriteString(" |")
			}
		}
		fmt.Fprintf(&b, " %s |\n", rule.describeAudit())
	}
	return b.String()
}

func (r Rule) describeAudit() string {
	s := map[Audit]string{NoAudit: "", AuditChange: "change", AuditRead: "read"}[r.Audit]
	if r.PurposeRequired {
		s += ", purpose required"
	}
	return s
}
