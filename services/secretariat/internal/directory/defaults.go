package directory

import (
	"github.com/nrm-albania/nrm/services/platform/access"
	"github.com/nrm-albania/nrm/services/secretariat/internal/members"
)

// Codes of the institutions that are not members but are known from the start.
const (
	// SecretariatCode is the Authority's secretariat, the Ministry of Interior's
	// anti-trafficking sector (point 8 of the Joint Instruction).
	SecretariatCode = "MB-SEKRETARIATI"
	// ServicesCode is the system's own services when they call each other as themselves.
	ServicesCode = "NRM"
)

// DefaultInstitutions are the institutions a fresh installation knows: the 13 members, the
// secretariat and the system's services. Invitees and providers are registered as they come.
func DefaultInstitutions() []Institution {
	ms := members.DefaultMembers()
	out := make([]Institution, 0, len(ms)+2)
	for _, m := range ms {
		out = append(out, Institution{Code: m.Code, Name: m.Name, Kind: access.KindMember})
	}
	return append(out,
		Institution{Code: SecretariatCode, Name: "Secretariat of the Responsible Authority (Ministry of Interior, anti-trafficking sector)", Kind: access.KindSecretariat},
		Institution{Code: ServicesCode, Name: "The NRM information system's own services", Kind: access.KindService},
	)
}
