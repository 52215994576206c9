// Package members keeps the Authority's composition (points 2 and 3 of the Joint Instruction):
// the member institutions and the kinds of institution invited per case. The composition can
// change by decision, so it is data in the service's database, seeded with the instruction's
// defaults when an installation starts for the first time.
//
// Member documents are never deleted: an institution that leaves the Authority is to be marked
// as such, because past meetings, attendance and reported data still refer to it. That rule is
// also what makes seeding safe on every start: inserting by code can never bring back a member
// that a decision removed, nor overwrite one that a decision changed.
package members

// Collections of the composition; a document's _id is its code.
const (
	MembersCollection      = "members"
	InviteeKindsCollection = "invitee_kinds"
)

// Role is a member's role in the Authority, stored as a word rather than the API's enum number
// so that the stored data does not depend on the wire format.
type Role string

// Roles of a member.
const (
	RoleChair  Role = "chair"
	RoleMember Role = "member"
)

// Member is a member institution of the Authority (point 2).
type Member struct {
	Code string `bson:"_id"`
	// Name is the institution's name in English.
	Name string `bson:"name"`
	Role Role   `bson:"role"`
}

// InviteeKind is a kind of institution invited to meetings when the cases on the agenda need it
// (point 3).
type InviteeKind struct {
	Code string `bson:"_id"`
	// Name is the kind's name in English.
	Name string `bson:"name"`
}
