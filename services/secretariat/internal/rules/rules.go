// Package rules keeps the Authority's rules of procedure (point 14) as data: versions, each
// adopted by a decision and in force from a date. Quorum, notice periods, who may call an
// extraordinary meeting, how minutes and reports are approved: every rule the meetings and
// reports apply is read from the version in force, never from code.
package rules

import (
	"fmt"
	"time"

	secretariatv1 "github.com/nrm-albania/nrm/proto/nrm/secretariat/v1"
	"github.com/nrm-albania/nrm/services/platform/apierr"
	"github.com/nrm-albania/nrm/services/platform/workdays"
)

// Rules is one version of the rules of procedure, as stored.
type Rules struct {
	Version int32 `bson:"version"`
	// EffectiveFrom is "YYYY-MM-DD" in Tirana.
	EffectiveFrom              string    `bson:"effective_from"`
	AdoptedBy                  string    `bson:"adopted_by"`
	QuorumMembers              int32     `bson:"quorum_members"`
	QuorumRequiresChair        bool      `bson:"quorum_requires_chair"`
	RegularNoticeWorkingDays   int32     `bson:"regular_notice_working_days"`
	ExtraordinaryNoticeHours   int32     `bson:"extraordinary_notice_hours"`
	MembersToCallExtraordinary int32     `bson:"members_to_call_extraordinary"`
	MinutesApproval            string    `bson:"minutes_approval"`
	MinutesCirculationDays     int32     `bson:"minutes_circulation_days"`
	TacitReportApproval        bool      `bson:"tacit_report_approval"`
	ReportApprovalDays         int32     `bson:"report_approval_days"`
	MeetingReminderDay         int32     `bson:"meeting_reminder_day"`
	AdoptedAt                  time.Time `bson:"adopted_at"`
}

// Members is the number of member institutions (point 2).
const Members = 13

// Defaults are the rules a new installation starts with, until the Authority adopts its own:
// a majority of the 13 members with the chair present, five working days' notice of a regular
// meeting and a day's of an extraordinary one, which the chair or five members may call, minutes
// approved at the next meeting, and reports approved explicitly by every member.
func Defaults() Rules {
	return Rules{
		Version: 1, EffectiveFrom: "2023-01-01", AdoptedBy: "defaults of Joint Instruction no. 132/2023",
		QuorumMembers: Members/2 + 1, QuorumRequiresChair: true,
		RegularNoticeWorkingDays: 5, ExtraordinaryNoticeHours: 24, MembersToCallExtraordinary: 5,
		MinutesApproval: secretariatv1.MinutesApproval_MINUTES_APPROVAL_NEXT_MEETING.String(), MinutesCirculationDays: 5,
		ReportApprovalDays: 10, MeetingReminderDay: 10,
	}
}

// Validate checks a version's settings, naming the fields at fault (prefix: where they are in
// the request).
func (r Rules) Validate(prefix string) error {
	var v apierr.Violations
	if _, err := time.Parse(time.DateOnly, r.EffectiveFrom); err != nil {
		v.Add(prefix+"effective_from", "must be a date YYYY-MM-DD")
	}
	if r.AdoptedBy == "" || len(r.AdoptedBy) > 200 {
		v.Add(prefix+"adopted_by", "must name the adopting decision, 1 to 200 characters")
	}
	between := func(field string, n, lo, hi int32) {
		if n < lo || n > hi {
			v.Add(prefix+field, "must be %d to %d", lo, hi)
		}
	}
	between("quorum_members", r.QuorumMembers, 1, Members)
	between("regular_notice_working_days", r.RegularNoticeWorkingDays, 0, 30)
	between("extraordinary_notice_hours", r.ExtraordinaryNoticeHours, 0, 240)
	between("members_to_call_extraordinary", r.MembersToCallExtraordinary, 0, Members)
	between("minutes_circulation_days", r.MinutesCirculationDays, 1, 60)
	between("report_approval_days", r.ReportApprovalDays, 1, 60)
	between("meeting_reminder_day", r.MeetingReminderDay, 1, 28)
	if r.MinutesApproval != secretariatv1.MinutesApproval_MINUTES_APPROVAL_NEXT_MEETING.String() &&
		r.MinutesApproval != secretariatv1.MinutesApproval_MINUTES_APPROVAL_CIRCULATION.String() {
		v.Add(prefix+"minutes_approval", "must be MINUTES_APPROVAL_NEXT_MEETING or MINUTES_APPROVAL_CIRCULATION")
	}
	return v.Err()
}

// Quorum is whether the members present make a quorum under r.
type Quorum struct {
	Reached       bool
	Present       int32
	Required      int32
	ChairPresent  bool
	RulesVersion  int32
	MissingReason string
}

// QuorumOf counts the members present (member codes; the chair's among them when chair is).
func (r Rules) QuorumOf(present int, chair bool) Quorum {
	q := Quorum{Present: int32(present), Required: r.QuorumMembers, ChairPresent: chair, RulesVersion: r.Version}
	switch {
	case q.Present < q.Required:
		q.MissingReason = fmt.Sprintf("%d of the %d members are present; the rules of procedure (version %d) require %d", q.Present, Members, r.Version, q.Required)
	case r.QuorumRequiresChair && !chair:
		q.MissingReason = fmt.Sprintf("the chair or its substitute must be present (rules of procedure, version %d)", r.Version)
	default:
		q.Reached = true
	}
	return q
}

// Notice checks that a meeting starting at start, scheduled at now, gives the notice the rules
// require: regular meetings in working days, extraordinary ones in hours.
func (r Rules) Notice(cal workdays.Calendar, extraordinary bool, now, start time.Time) error {
	if extraordinary {
		if start.Sub(now) < time.Duration(r.ExtraordinaryNoticeHours)*time.Hour {
			return apierr.FailedPrecondition("NOTICE_PERIOD",
				fmt.Sprintf("an extraordinary meeting needs %d hours' notice (rules of procedure, version %d)", r.ExtraordinaryNoticeHours, r.Version),
				map[string]string{"notice_hours": fmt.Sprint(r.ExtraordinaryNoticeHours), "rules_version": fmt.Sprint(r.Version)})
		}
		return nil
	}
	if days := cal.Between(now, start); days < int(r.RegularNoticeWorkingDays) {
		return apierr.FailedPrecondition("NOTICE_PERIOD",
			fmt.Sprintf("a regular meeting needs %d working days' notice, this one gives %d (rules of procedure, version %d); an extraordinary meeting may be called sooner",
				r.RegularNoticeWorkingDays, days, r.Version),
			map[string]string{"notice_working_days": fmt.Sprint(r.RegularNoticeWorkingDays), "given_working_days": fmt.Sprint(days), "rules_version": fmt.Sprint(r.Version)})
	}
	return nil
}

// MayCall checks who calls an extraordinary meeting: the chair, or enough members with a reason.
func (r Rules) MayCall(byChair bool, members int, reason string) error {
	if reason == "" {
		return apierr.InvalidField("reason", "is required for an extraordinary meeting")
	}
	if byChair {
		return nil
	}
	if r.MembersToCallExtraordinary == 0 || members < int(r.MembersToCallExtraordinary) {
		return apierr.FailedPrecondition("NOT_ENOUGH_CALLERS",
			fmt.Sprintf("an extraordinary meeting is called by the chair or by %d members (rules of procedure, version %d); %d called it",
				r.MembersToCallExtraordinary, r.Version, members),
			map[string]string{"members_to_call": fmt.Sprint(r.MembersToCallExtraordinary), "rules_version": fmt.Sprint(r.Version)})
	}
	return nil
}

// Proto is r as the API shows it.
func (r Rules) Proto() *secretariatv1.RulesOfProcedure {
	return &secretariatv1.RulesOfProcedure{
		Version: r.Version, EffectiveFrom: r.EffectiveFrom, AdoptedBy: r.AdoptedBy,
		QuorumMembers: r.QuorumMembers, QuorumRequiresChair: r.QuorumRequiresChair,
		RegularNoticeWorkingDays: r.RegularNoticeWorkingDays, ExtraordinaryNoticeHours: r.ExtraordinaryNoticeHours,
		MembersToCallExtraordinary: r.MembersToCallExtraordinary,
		MinutesApproval:            secretariatv1.MinutesApproval(secretariatv1.MinutesApproval_value[r.MinutesApproval]),
		MinutesCirculationDays:     r.MinutesCirculationDays, TacitReportApproval: r.TacitReportApproval,
		ReportApprovalDays: r.ReportApprovalDays, MeetingReminderDay: r.MeetingReminderDay,
	}
}

// FromProto is the API's rules as stored; the version is the store's to assign.
func FromProto(p *secretariatv1.RulesOfProcedure) Rules {
	return Rules{
		EffectiveFrom: p.GetEffectiveFrom(), AdoptedBy: p.GetAdoptedBy(),
		QuorumMembers: p.GetQuorumMembers(), QuorumRequiresChair: p.GetQuorumRequiresChair(),
		RegularNoticeWorkingDays: p.GetRegularNoticeWorkingDays(), ExtraordinaryNoticeHours: p.GetExtraordinaryNoticeHours(),
		MembersToCallExtraordinary: p.GetMembersToCallExtraordinary(), MinutesApproval: p.GetMinutesApproval().String(),
		MinutesCirculationDays: p.GetMinutesCirculationDays(), TacitReportApproval: p.GetTacitReportApproval(),
		ReportApprovalDays: p.GetReportApprovalDays(), MeetingReminderDay: p.GetMeetingReminderDay(),
	}
}
