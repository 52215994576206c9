package domain

import (
	"slices"
	"strings"
	"time"

	caseregistryv1 "github.com/nrm-albania/nrm/proto/nrm/caseregistry/v1"
	"github.com/nrm-albania/nrm/services/platform/apierr"
)

// Limits of the lifecycle commands.
const (
	MaxBasisRunes = 2000
	MaxNoteRunes  = 1000
)

// Names of the states and values the lifecycle rules turn on, as stored.
var (
	stateOpen      = caseregistryv1.CaseState_CASE_STATE_OPEN.String()
	stateClosed    = caseregistryv1.CaseState_CASE_STATE_CLOSED.String()
	stateReopened  = caseregistryv1.CaseState_CASE_STATE_REOPENED.String()
	statusPV       = caseregistryv1.TraffickingStatus_TRAFFICKING_STATUS_POTENTIAL_VICTIM.String()
	statusVictim   = caseregistryv1.TraffickingStatus_TRAFFICKING_STATUS_VICTIM.String()
	statusNotV     = caseregistryv1.TraffickingStatus_TRAFFICKING_STATUS_NOT_A_VICTIM.String()
	closeDuplicate = caseregistryv1.ClosureReason_CLOSURE_REASON_DUPLICATE.String()
	closeNotV      = caseregistryv1.ClosureReason_CLOSURE_REASON_NOT_A_VICTIM.String()
)

// The lifecycle commands check the request first (InvalidArgument, every problem with its field
// path) and then whether the case's state allows the command (FailedPrecondition with one of
// these reasons), so that a caller fixes its input before it is told about the state.
const (
	ReasonCaseMerged            = "CASE_MERGED"
	ReasonCaseClosed            = "CASE_CLOSED"
	ReasonCaseNotClosed         = "CASE_NOT_CLOSED"
	ReasonCaseAlreadyClosed     = "CASE_ALREADY_CLOSED"
	ReasonStatusUnchanged       = "STATUS_UNCHANGED"
	ReasonStatusHeadingsMissing = "STATUS_HEADINGS_MISSING"
	ReasonClosureNeedsStatus    = "CLOSURE_NEEDS_STATUS"
	ReasonUseMerge              = "USE_MERGE"
	ReasonConsentNotGiven       = "CONSENT_NOT_GIVEN"
)

// CheckChangeable refuses any change to a merged case: it lives on in its survivor, and a change
// to it would be lost from view.
func CheckChangeable(c Case) error {
	if c.MergedInto != "" {
		return mergedErr(c.ID, c.MergedInto)
	}
	return nil
}

func mergedErr(id, into string) error {
	return apierr.FailedPrecondition(ReasonCaseMerged, "the case was merged into another case and accepts no change; change the surviving case",
		map[string]string{"case_id": id, "merged_into": into})
}

// DecideStatus records a decision on the trafficking status. Decisions are appended, never
// replaced, so that the record shows every revision. Potential victim can only be decided as a
// revision; a decision that the person is a victim needs the headings that statistics on victims
// are broken down by (HTCDS), so that formal status does not hide what is unknown.
func DecideStatus(c Case, req *caseregistryv1.DecideStatusRequest, today, by string, now time.Time) (Case, StatusDecision, error) {
	var v apierr.Violations
	prior := c.Trafficking.StatusDecisions
	d := StatusDecision{
		Status:       requiredEnum(&v, "status", req.GetStatus()),
		DecidingBody: requiredEnum(&v, "deciding_body", req.GetDecidingBody()),
		Basis:        strings.TrimSpace(req.GetBasis()),
		RecordedBy:   by,
		RecordedAt:   now,
		Revision:     len(prior) > 0,
	}
	if d.Status == statusPV && len(prior) == 0 {
		v.Add("status", "TRAFFICKING_STATUS_POTENTIAL_VICTIM can only revise an earlier decision")
	}
	if date := req.GetDecisionDate(); checkEventDate(&v, "decision_date", date, c.Identification.Date, today) {
		if len(prior) > 0 && date < prior[len(prior)-1].Date {
			v.Add("decision_date", "%s is before the previous decision of %s", date, prior[len(prior)-1].Date)
		} else {
			d.Date = date
		}
	}
	if d.Basis == "" {
		v.Add("basis", "is required: the grounds of the decision, without personal data")
	} else {
		checkText(&v, "basis", d.Basis, MaxBasisRunes, true)
	}
	if err := v.Err(); err != nil {
		return Case{}, StatusDecision{}, err
	}
	if err := CheckChangeable(c); err != nil {
		return Case{}, StatusDecision{}, err
	}
	if c.State == stateClosed {
		return Case{}, StatusDecision{}, apierr.FailedPrecondition(ReasonCaseClosed,
			"the case is closed: reopen it before deciding the status", map[string]string{"state": c.State})
	}
	if d.Status == c.Trafficking.Status {
		return Case{}, StatusDecision{}, apierr.FailedPrecondition(ReasonStatusUnchanged,
			"the trafficking status is already "+d.Status, map[string]string{"status": d.Status})
	}
	if d.Status == statusVictim {
		if missing := victimHeadingsMissing(c); len(missing) > 0 {
			return Case{}, StatusDecision{}, apierr.FailedPrecondition(ReasonStatusHeadingsMissing,
				"a decision that the person is a victim needs "+strings.Join(missing, ", ")+" recorded first",
				map[string]string{"missing": strings.Join(missing, ",")})
		}
	}
	c.Trafficking.Status = d.Status
	c.Trafficking.StatusDecisions = append(slices.Clip(prior), d)
	return c, d, nil
}

// CheckStatusHeadings refuses a change that would leave a case whose status is victim without a
// heading that the decision needed (an update clearing trafficking.scope, say), with a violation
// per field.
func CheckStatusHeadings(c Case) error {
	if c.Trafficking.Status != caseregistryv1.TraffickingStatus_TRAFFICKING_STATUS_VICTIM.String() {
		return nil
	}
	var v apierr.Violations
	for _, field := range victimHeadingsMissing(c) {
		v.Add(field, "must stay known while the trafficking status is TRAFFICKING_STATUS_VICTIM")
	}
	return v.Err()
}

// victimHeadingsMissing lists the field paths that must be known before a victim decision.
func victimHeadingsMissing(c Case) []string {
	var missing []string
	types := c.Trafficking.ExploitationTypes
	if len(types) == 0 || (len(types) == 1 && types[0] == caseregistryv1.ExploitationType_EXPLOITATION_TYPE_UNKNOWN.String()) {
		missing = append(missing, "trafficking.exploitation_types")
	}
	if s := c.Trafficking.Scope; s == "" || s == caseregistryv1.TraffickingScope_TRAFFICKING_SCOPE_UNKNOWN.String() {
		missing = append(missing, "trafficking.scope")
	}
	if c.Identification.Channel == "" {
		missing = append(missing, "identification.channel")
	}
	return missing
}

// Close closes an open or reopened case with a reason. A duplicate is closed by MergeCases only,
// which links it to its survivor; "not a victim" only once that was decided, so that the reason
// cannot contradict the status.
func Close(c Case, req *caseregistryv1.CloseCaseRequest, today string) (Case, error) {
	var v apierr.Violations
	reason := requiredEnum(&v, "reason", req.GetReason())
	date := req.GetDate()
	if date == "" {
		date = today
	} else {
		checkEventDate(&v, "date", date, c.Identification.Date, today)
	}
	note := checkNote(&v, req.GetNote())
	if err := v.Err(); err != nil {
		return Case{}, err
	}
	if err := CheckChangeable(c); err != nil {
		return Case{}, err
	}
	if reason == closeDuplicate {
		return Case{}, apierr.FailedPrecondition(ReasonUseMerge,
			"a duplicate is closed by merging it into the surviving case (MergeCases)", nil)
	}
	if c.State != stateOpen && c.State != stateReopened {
		return Case{}, apierr.FailedPrecondition(ReasonCaseAlreadyClosed, "the case is already closed",
			map[string]string{"state": c.State})
	}
	if reason == closeNotV && c.Trafficking.Status != statusNotV {
		return Case{}, apierr.FailedPrecondition(ReasonClosureNeedsStatus,
			"closing as not a victim needs the status TRAFFICKING_STATUS_NOT_A_VICTIM decided first (DecideStatus)",
			map[string]string{"status": c.Trafficking.Status})
	}
	c.State = stateClosed
	c.Closure = &Closure{Reason: reason, Date: date, Note: note}
	return c, nil
}

// Reopen reopens a closed case, e.g. when the person is trafficked again. The closure it had is
// dropped from the case; the history keeps it.
func Reopen(c Case, req *caseregistryv1.ReopenCaseRequest) (Case, error) {
	var v apierr.Violations
	requiredEnum(&v, "reason", req.GetReason())
	checkNote(&v, req.GetNote())
	if err := v.Err(); err != nil {
		return Case{}, err
	}
	if err := CheckChangeable(c); err != nil {
		return Case{}, err
	}
	if c.State != stateClosed {
		return Case{}, apierr.FailedPrecondition(ReasonCaseNotClosed, "only a closed case can be reopened",
			map[string]string{"state": c.State})
	}
	c.State = stateReopened
	c.Closure = nil
	return c, nil
}

// checkNote checks an optional explanation and returns it trimmed.
func checkNote(v *apierr.Violations, note string) string {
	note = strings.TrimSpace(note)
	if note != "" {
		checkText(v, "note", note, MaxNoteRunes, true)
	}
	return note
}

// checkEventDate checks the date of something that happened to the case: a calendar date, not in
// the future, and not before the person was identified. It reports whether the date is valid.
func checkEventDate(v *apierr.Violations, field, date, identified, today string) bool {
	if err := CheckDate(date, today); err != nil {
		v.Add(field, "%s", err)
		return false
	}
	if date < identified {
		v.Add(field, "%s is before the identification date %s", date, identified)
		return false
	}
	return true
}
