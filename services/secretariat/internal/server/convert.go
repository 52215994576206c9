package server

import (
	secretariatv1 "github.com/nrm-albania/nrm/proto/nrm/secretariat/v1"
	"github.com/nrm-albania/nrm/services/secretariat/internal/members"
)

func membersToProto(ms []members.Member) []*secretariatv1.Member {
	out := make([]*secretariatv1.Member, len(ms))
	for i, m := range ms {
		out[i] = &secretariatv1.Member{Code: m.Code, Name: m.Name, Role: roleToProto(m.Role), Chair: m.Role == members.RoleChair}
	}
	return out
}

// roleToProto maps a stored role; a word this version does not know is reported as unspecified
// rather than guessed.
func roleToProto(r members.Role) secretariatv1.MemberRole {
	switch r {
	case members.RoleChair:
		return secretariatv1.MemberRole_MEMBER_ROLE_CHAIR
	case members.RoleMember:
		return secretariatv1.MemberRole_MEMBER_ROLE_MEMBER
	}
	return secretariatv1.MemberRole_MEMBER_ROLE_UNSPECIFIED
}

func inviteeKindsToProto(ks []members.InviteeKind) []*secretariatv1.InviteeKind {
	out := make([]*secretariatv1.InviteeKind, len(ks))
	for i, k := range ks {
		out[i] = &secretariatv1.InviteeKind{Code: k.Code, Name: k.Name}
	}
	return out
}
