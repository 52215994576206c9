package members

import (
	"regexp"
	"testing"
)

var codePattern = regexp.MustCompile(`^[A-Z][A-Z0-9]*(-[A-Z0-9]+)*$`)

func TestDefaultMembersAreThePoint2Composition(t *testing.T) {
	ms := DefaultMembers()
	if len(ms) != 13 {
		t.Fatalf("%d default members, want the 13 of point 2", len(ms))
	}
	seen := map[string]bool{}
	var chairs []string
	for _, m := range ms {
		if !codePattern.MatchString(m.Code) || m.Name == "" {
			t.Errorf("member %+v: want an upper-case code and a name", m)
		}
		if seen[m.Code] {
			t.Errorf("member code %s appears twice", m.Code)
		}
		seen[m.Code] = true
		switch m.Role {
		case RoleChair:
			chairs = append(chairs, m.Code)
		case RoleMember:
		default:
			t.Errorf("member %s has role %q", m.Code, m.Role)
		}
	}
	if len(chairs) != 1 || chairs[0] != "MB-DPAM" {
		t.Errorf("chairs = %v, want exactly MB-DPAM", chairs)
	}
}

func TestDefaultInviteeKindsAreDistinctFromMembers(t *testing.T) {
	memberCodes := map[string]bool{}
	for _, m := range DefaultMembers() {
		memberCodes[m.Code] = true
	}
	seen := map[string]bool{}
	for _, k := range DefaultInviteeKinds() {
		if !codePattern.MatchString(k.Code) || k.Name == "" {
			t.Errorf("invitee kind %+v: want an upper-case code and a name", k)
		}
		if seen[k.Code] || memberCodes[k.Code] {
			t.Errorf("invitee kind code %s is not unique among members and invitee kinds", k.Code)
		}
		seen[k.Code] = true
	}
	if !seen["PROKURORIA"] {
		t.Error("the prosecution (PROKURORIA), which point 3 names, is not an invitee kind")
	}
}
