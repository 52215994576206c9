// Package meetings keeps the Authority's meetings (points 7 to 9): each an aggregate of the
// platform's store (services/platform/aggregate) holding its agenda, replies, attendance,
// decisions, action items and minutes, so that a change and its events commit together and its
// history is kept. The rules it applies come from the rules of procedure in force (package rules).
package meetings

import (
	"fmt"
	"slices"
	"time"

	secretariatv1 "github.com/nrm-albania/nrm/proto/nrm/secretariat/v1"
	"github.com/nrm-albania/nrm/services/platform/aggregate"
	"github.com/nrm-albania/nrm/services/platform/apierr"
	"github.com/nrm-albania/nrm/services/platform/workdays"
)

// Meeting is a meeting as stored; enumerations by their proto names. It holds no personal data
// of victims: agenda items and decisions name case codes and referral ids only.
type Meeting struct {
	ID             string    `bson:"_id"`
	Version        int64     `bson:"version"`
	Reference      string    `bson:"reference"`
	Kind           string    `bson:"kind"`
	State          string    `bson:"state"`
	StateReason    string    `bson:"state_reason,omitempty"`
	Start          time.Time `bson:"start"`
	End            time.Time `bson:"end"`
	Place          string    `bson:"place,omitempty"`
	OnlineLink     string    `bson:"online_link,omitempty"`
	Reason         string    `bson:"reason,omitempty"`
	CalledBy       []string  `bson:"called_by,omitempty"`
	Invitees       []string  `bson:"invitees,omitempty"`
	RulesVersion   int32     `bson:"rules_version"`
	Agenda         []Item    `bson:"agenda"`
	AgendaFrozenAt time.Time `bson:"agenda_frozen_at,omitzero"`
	// Dropped are the ids of items the stewards dropped, which the backlog does not propose again.
	Dropped []string `bson:"dropped,omitempty"`
	// Invitations counts the invitation notices sent: the first, then each update or addendum.
	Invitations   int          `bson:"invitations"`
	Replies       []Reply      `bson:"replies,omitempty"`
	Attendance    []Attendance `bson:"attendance,omitempty"`
	OpeningQuorum *Quorum      `bson:"opening_quorum,omitempty"`
	Decisions     []Decision   `bson:"decisions,omitempty"`
	Actions       []Action     `bson:"actions,omitempty"`
	Minutes       *Minutes     `bson:"minutes,omitempty"`
	CreatedAt     time.Time    `bson:"created_at"`
	UpdatedAt     time.Time    `bson:"updated_at"`
	// Idempotency is the key it was scheduled with, if any.
	IdempotencyKey string `bson:"idempotency_key,omitempty"`
}

// Item is an agenda item.
type Item struct {
	ID          string    `bson:"id"`
	Title       string    `bson:"title"`
	Source      string    `bson:"source"`
	CaseCodes   []string  `bson:"case_codes,omitempty"`
	ReferralIDs []string  `bson:"referral_ids,omitempty"`
	ReportIDs   []string  `bson:"report_ids,omitempty"`
	ActionID    string    `bson:"action_id,omitempty"`
	MeetingID   string    `bson:"meeting_id,omitempty"`
	BacklogKey  string    `bson:"backlog_key,omitempty"`
	Addendum    bool      `bson:"addendum,omitempty"`
	Since       time.Time `bson:"since,omitzero"`
}

// Reply is an institution's reply to the invitation.
type Reply struct {
	Institution string    `bson:"institution"`
	Reply       string    `bson:"reply"`
	Note        string    `bson:"note,omitempty"`
	At          time.Time `bson:"at"`
}

// Attendance is an institution's presence.
type Attendance struct {
	Institution string    `bson:"institution"`
	Presence    string    `bson:"presence"`
	ArrivedAt   time.Time `bson:"arrived_at,omitzero"`
	LeftAt      time.Time `bson:"left_at,omitzero"`
}

// Quorum is the quorum at a moment, as kept with the opening and each decision.
type Quorum struct {
	Reached      bool      `bson:"reached"`
	Present      int32     `bson:"present"`
	Required     int32     `bson:"required"`
	ChairPresent bool      `bson:"chair_present"`
	RulesVersion int32     `bson:"rules_version"`
	At           time.Time `bson:"at"`
}

// Decision is a decision on an agenda item.
type Decision struct {
	ID          string            `bson:"id"`
	ItemID      string            `bson:"item_id"`
	Text        string            `bson:"text"`
	Kind        string            `bson:"kind"`
	Consensus   bool              `bson:"consensus"`
	Votes       map[string]string `bson:"votes,omitempty"`
	Adopted     bool              `bson:"adopted"`
	CaseCodes   []string          `bson:"case_codes,omitempty"`
	ReferralIDs []string          `bson:"referral_ids,omitempty"`
	ReportIDs   []string          `bson:"report_ids,omitempty"`
	Quorum      Quorum            `bson:"quorum"`
	ActionIDs   []string          `bson:"action_ids,omitempty"`
	At          time.Time         `bson:"at"`
}

// Action is an action item a decision gave an institution.
type Action struct {
	ID         string    `bson:"id"`
	DecisionID string    `bson:"decision_id"`
	Owner      string    `bson:"owner"`
	Title      string    `bson:"title"`
	Due        string    `bson:"due"`
	Done       bool      `bson:"done,omitempty"`
	DoneAt     time.Time `bson:"done_at,omitzero"`
	DoneBy     string    `bson:"done_by,omitempty"`
	// Overdue is set once action.overdue has been published for it.
	Overdue bool `bson:"overdue,omitempty"`
}

// Minutes are the minutes: the secretariat's notes beside the meeting's record.
type Minutes struct {
	Notes             string    `bson:"notes"`
	Revision          int32     `bson:"revision"`
	DraftedAt         time.Time `bson:"drafted_at"`
	CirculatedAt      time.Time `bson:"circulated_at,omitzero"`
	ApprovedAt        time.Time `bson:"approved_at,omitzero"`
	ApprovedAtMeeting string    `bson:"approved_at_meeting,omitempty"`
	PDFSHA256         string    `bson:"pdf_sha256,omitempty"`
	// PDF is the frozen document, kept with the approved minutes.
	PDF []byte `bson:"pdf,omitempty"`
}

// AggregateID, AggregateVersion and AtVersion make a meeting an aggregate.
func (m Meeting) AggregateID() string     { return m.ID }
func (m Meeting) AggregateVersion() int64 { return m.Version }
func (m Meeting) AtVersion(v int64, at time.Time) Meeting {
	m.Version, m.UpdatedAt = v, at
	return m
}

// Change is one entry of its history.
type Change = aggregate.Change

func name(s secretariatv1.MeetingState) string { return s.String() }

var tirana = workdays.Tirana

// The states, by their proto names.
var (
	Scheduled         = name(secretariatv1.MeetingState_MEETING_STATE_SCHEDULED)
	InvitationsSent   = name(secretariatv1.MeetingState_MEETING_STATE_INVITATIONS_SENT)
	InSession         = name(secretariatv1.MeetingState_MEETING_STATE_IN_SESSION)
	Held              = name(secretariatv1.MeetingState_MEETING_STATE_HELD)
	MinutesDrafted    = name(secretariatv1.MeetingState_MEETING_STATE_MINUTES_DRAFTED)
	MinutesCirculated = name(secretariatv1.MeetingState_MEETING_STATE_MINUTES_CIRCULATED)
	MinutesApproved   = name(secretariatv1.MeetingState_MEETING_STATE_MINUTES_APPROVED)
	Cancelled         = name(secretariatv1.MeetingState_MEETING_STATE_CANCELLED)

	Regular       = secretariatv1.MeetingKind_MEETING_KIND_REGULAR.String()
	Extraordinary = secretariatv1.MeetingKind_MEETING_KIND_EXTRAORDINARY.String()
)

// Was reports whether the meeting has been held (whatever became of its minutes since).
func (m Meeting) Was() bool {
	return slices.Contains([]string{Held, MinutesDrafted, MinutesCirculated, MinutesApproved}, m.State)
}

// Require refuses a change the meeting's state does not allow, naming what it is.
func (m Meeting) Require(change string, states ...string) error {
	if slices.Contains(states, m.State) {
		return nil
	}
	reason := "INVALID_STATE"
	if m.State == MinutesApproved {
		reason = "MINUTES_APPROVED" // the approved minutes are frozen: a reason of its own
	}
	return apierr.FailedPrecondition(reason, fmt.Sprintf("meeting %s is %s: it cannot %s", m.Reference, m.State, change),
		map[string]string{"meeting_id": m.ID, "state": m.State})
}

// Present are the institutions present at t: arrived (by representative or substitute) and not
// yet left.
func (m Meeting) Present(t time.Time) []string {
	var out []string
	for _, a := range m.Attendance {
		if a.Presence == secretariatv1.Presence_PRESENCE_ABSENT.String() {
			continue
		}
		if !a.ArrivedAt.IsZero() && a.ArrivedAt.After(t) || !a.LeftAt.IsZero() && !a.LeftAt.After(t) {
			continue
		}
		out = append(out, a.Institution)
	}
	return out
}

// Item returns the agenda item with the id.
func (m Meeting) Item(id string) (Item, bool) {
	i := slices.IndexFunc(m.Agenda, func(it Item) bool { return it.ID == id })
	if i < 0 {
		return Item{}, false
	}
	return m.Agenda[i], true
}

// SetAttendance records an institution's attendance, replacing what was recorded.
func (m *Meeting) SetAttendance(a Attendance) {
	i := slices.IndexFunc(m.Attendance, func(x Attendance) bool { return x.Institution == a.Institution })
	if i < 0 {
		m.Attendance = append(m.Attendance, a)
		return
	}
	m.Attendance[i] = a
}

// SetReply records an institution's reply, replacing its earlier one.
func (m *Meeting) SetReply(r Reply) {
	i := slices.IndexFunc(m.Replies, func(x Reply) bool { return x.Institution == r.Institution })
	if i < 0 {
		m.Replies = append(m.Replies, r)
		return
	}
	m.Replies[i] = r
}

// RegularOf returns the first of ms that is a regular meeting of month ("YYYY-MM") that keep
// accepts: the meetings listed under a month include those postponed out of it.
func RegularOf(ms []Meeting, month string, keep func(Meeting) bool) (Meeting, bool) {
	for _, m := range ms {
		if m.Kind == Regular && Month(m.Start, tirana) == month && keep(m) {
			return m, true
		}
	}
	return Meeting{}, false
}

// Month is the meeting's month in Tirana, "YYYY-MM".
func Month(t time.Time, loc *time.Location) string { return t.In(loc).Format("2006-01") }
