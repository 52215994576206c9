package reports

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/nrm-albania/nrm/services/platform/apierr"
)

// The states of a report, named as the API's ReportState.
const (
	Draft      = "REPORT_STATE_DRAFT"
	Circulated = "REPORT_STATE_CIRCULATED"
	Returned   = "REPORT_STATE_RETURNED"
	Approved   = "REPORT_STATE_APPROVED"
	Submitted  = "REPORT_STATE_SUBMITTED"
)

// Report is the report of one period, an aggregate (aggregate.Spec{Name: "report"}). Its
// content is frozen per revision: drafting again makes the next revision, with figures computed
// anew, and only approvals of the current revision count.
type Report struct {
	ID       string    `bson:"_id"`
	Version  int64     `bson:"version"`
	Period   string    `bson:"period"`
	From     string    `bson:"from"`
	To       string    `bson:"to"`
	State    string    `bson:"state"`
	Revision int64     `bson:"revision"`
	Sections []Section `bson:"sections"`
	// Approvers are the institutions whose approval makes the revision final, and Rule how they
	// approve it: both fixed when the revision is circulated, from the rules of procedure in force
	// that day, so that rules adopted during an approval do not move its goal. None before.
	Approvers    []string      `bson:"approvers"`
	Rule         *ApprovalRule `bson:"approval_rule,omitempty"`
	Approvals    []Approval    `bson:"approvals"`
	Returns      []Return      `bson:"returns"`
	DraftedAt    time.Time     `bson:"drafted_at"`
	CirculatedAt time.Time     `bson:"circulated_at,omitempty"`
	Submission   *Submission   `bson:"submission,omitempty"`
	// PDF is the submitted document, frozen: its hash is in the audit trail.
	PDF       []byte    `bson:"pdf,omitempty"`
	CreatedAt time.Time `bson:"created_at"`
	UpdatedAt time.Time `bson:"updated_at"`
}

// AggregateID implements aggregate.State.
func (r Report) AggregateID() string { return r.ID }

// AggregateVersion implements aggregate.State.
func (r Report) AggregateVersion() int64 { return r.Version }

// AtVersion implements aggregate.State.
func (r Report) AtVersion(v int64, at time.Time) Report {
	r.Version, r.UpdatedAt = v, at
	return r
}

// Actor is who acts: an institution's code and the person (the token's subject) acting for it.
type Actor struct {
	Institution string `bson:"institution"`
	Subject     string `bson:"subject"`
}

// Approval is an institution's approval of one revision.
type Approval struct {
	Actor    `bson:",inline"`
	Revision int64     `bson:"revision"`
	At       time.Time `bson:"at"`
	// Tacit is an approval by silence (ApproveTacitly): no one acted, so Subject is empty.
	Tacit bool `bson:"tacit,omitempty"`
}

// Return is an institution's return of one revision, with what it asks to change.
type Return struct {
	Actor    `bson:",inline"`
	Revision int64     `bson:"revision"`
	Comment  string    `bson:"comment"`
	At       time.Time `bson:"at"`
}

// ApprovalRule is how a circulated revision is approved, by a version of the rules of procedure.
type ApprovalRule struct {
	RulesVersion int32 `bson:"rules_version"`
	// Days are the days the approvers have to answer, from the circulation.
	Days int32 `bson:"days"`
	// Tacit is whether an approver that has not answered in Days counts as approving.
	Tacit bool `bson:"tacit"`
}

// Due is the end of the approval period of a revision circulated at circulated.
func (a ApprovalRule) Due(circulated time.Time) time.Time {
	return circulated.AddDate(0, 0, int(a.Days))
}

// Submission is the sending of the final report to the Ministry's recipients.
type Submission struct {
	Actor      `bson:",inline"`
	Recipients []string  `bson:"recipients"`
	At         time.Time `bson:"at"`
	PDFSHA256  string    `bson:"pdf_sha256"`
}

// New is the first revision of the report of p.
func New(id string, p Period, sections []Section, at time.Time) Report {
	return Report{
		ID: id, Version: 1, Period: p.Key(), From: p.From, To: p.To, State: Draft, Revision: 1,
		Sections: sections, Approvals: []Approval{}, Returns: []Return{},
		DraftedAt: at, CreatedAt: at, UpdatedAt: at,
	}
}

// Final reports whether the report can no longer change: approved by all, or submitted.
func (r Report) Final() bool { return r.State == Approved || r.State == Submitted }

// Pending are the approvers that have not approved the current revision.
func (r Report) Pending() []string {
	var out []string
	for _, a := range r.Approvers {
		if !r.approvedBy(a) {
			out = append(out, a)
		}
	}
	return out
}

func (r Report) approvedBy(institution string) bool {
	return slices.ContainsFunc(r.Approvals, func(a Approval) bool { return a.Institution == institution && a.Revision == r.Revision })
}

// Redraft is the next revision, with new figures: back to a draft, its approvals to start again.
// A draft whose figures have not changed stays as it is (changed is false): a retried draft.
func (r Report) Redraft(sections []Section, at time.Time) (next Report, changed bool, err error) {
	if err := r.changeable("be drafted again"); err != nil {
		return r, false, err
	}
	if r.State == Draft && slices.EqualFunc(r.Sections, sections, equalSections) {
		return r, false, nil
	}
	r.State, r.Revision, r.Sections, r.Approvers, r.Rule = Draft, r.Revision+1, sections, nil, nil
	r.DraftedAt, r.CirculatedAt = at, time.Time{}
	return r, true, nil
}

// Circulate sends the draft to the approvers, the members under the rules of procedure in force
// (rules: its version, how they approve). Circulating it again changes nothing.
func (r Report) Circulate(rule ApprovalRule, approvers []string, at time.Time) (next Report, changed bool, err error) {
	if err := r.changeable("be circulated"); err != nil {
		return r, false, err
	}
	switch r.State {
	case Circulated:
		return r, false, nil
	case Returned:
		return r, false, r.refuse("RETURNED", "was returned: draft it again before circulating it")
	}
	if len(approvers) == 0 {
		return r, false, fmt.Errorf("circulate report %s: no approvers", r.Period)
	}
	r.State, r.CirculatedAt, r.Approvers, r.Rule = Circulated, at, slices.Clone(approvers), &rule
	return r, true, nil
}

// Approve records by's approval of the current revision (or of revision, when named); the
// report is approved, and final, when every approver has approved it. Approving again changes
// nothing, even once the report is final.
func (r Report) Approve(by Actor, revision int64, at time.Time) (next Report, changed bool, err error) {
	if r.approvedBy(by.Institution) && (revision == 0 || revision == r.Revision) {
		return r, false, nil
	}
	if err := r.answerable(by, revision, "be approved"); err != nil {
		return r, false, err
	}
	r.Approvals = append(slices.Clone(r.Approvals), Approval{Actor: by, Revision: r.Revision, At: at})
	if len(r.Pending()) == 0 {
		r.State = Approved
	}
	return r, true, nil
}

// ApproveTacitly records, once the current revision's approval period is over and where its
// rule allows it, a tacit approval for each approver that has not answered, up to most of them
// (a change's events are bounded): the report is approved, and final, when none is left. A
// report that is not circulated is left as it is, so a member that returned the revision, which
// puts it back to the secretariat, blocks it.
func (r Report) ApproveTacitly(at time.Time, most int) (next Report, changed bool) {
	pending := r.Pending()
	if r.State != Circulated || r.Rule == nil || !r.Rule.Tacit || at.Before(r.Rule.Due(r.CirculatedAt)) || len(pending) == 0 || most < 1 {
		return r, false
	}
	r.Approvals = slices.Clone(r.Approvals)
	for _, inst := range pending[:min(most, len(pending))] {
		r.Approvals = append(r.Approvals, Approval{Actor: Actor{Institution: inst}, Revision: r.Revision, At: at, Tacit: true})
	}
	if len(r.Pending()) == 0 {
		r.State = Approved
	}
	return r, true
}

// Return records by's return of the current revision with its comment.
func (r Report) Return(by Actor, comment string, at time.Time) (Report, error) {
	if err := r.answerable(by, 0, "be returned"); err != nil {
		return r, err
	}
	r.Returns = append(slices.Clone(r.Returns), Return{Actor: by, Revision: r.Revision, Comment: comment, At: at})
	r.State = Returned
	return r, nil
}

// Submit records the submission of the approved report with its frozen PDF.
func (r Report) Submit(s Submission, pdf []byte) (Report, error) {
	if r.State == Submitted {
		return r, r.refuse("REPORT_FINAL", "is final: it cannot be submitted again")
	}
	if r.State != Approved {
		return r, r.refuse("NOT_APPROVED", fmt.Sprintf("is not approved by every member yet (%d pending): it cannot be submitted", len(r.Pending())))
	}
	r.State, r.Submission, r.PDF = Submitted, &s, pdf
	return r, nil
}

// changeable refuses any change of a final report.
func (r Report) changeable(change string) error {
	if r.Final() {
		return r.refuse("REPORT_FINAL", "is final: it cannot "+change)
	}
	return nil
}

// answerable refuses an approval or return unless the named revision is circulated now and
// asks for by's answer: the approvers are known from the circulation on.
func (r Report) answerable(by Actor, revision int64, change string) error {
	if err := r.changeable(change); err != nil {
		return err
	}
	if r.State != Circulated {
		return r.refuse("NOT_CIRCULATED", "is not circulated: it cannot "+change)
	}
	if !slices.Contains(r.Approvers, by.Institution) {
		return apierr.PermissionDenied("NOT_AN_APPROVER", fmt.Sprintf("%s is not among the approvers of report %s", by.Institution, r.Period),
			map[string]string{"report_id": r.ID, "institution": by.Institution})
	}
	if revision != 0 && revision != r.Revision {
		return apierr.FailedPrecondition("REVISION_CHANGED",
			fmt.Sprintf("report %s is at revision %d, not %d: read it again", r.Period, r.Revision, revision),
			map[string]string{"report_id": r.ID, "revision": strconv.FormatInt(r.Revision, 10)})
	}
	return nil
}

func (r Report) refuse(reason, why string) error {
	return apierr.FailedPrecondition(reason, fmt.Sprintf("report %s is %s and %s", r.Period, r.State, why),
		map[string]string{"report_id": r.ID, "state": r.State})
}

func equalSections(a, b Section) bool {
	return a.Title == b.Title && slices.EqualFunc(a.Tables, b.Tables, func(x, y Table) bool {
		return x.Title == y.Title && x.Chart == y.Chart && slices.Equal(x.Columns, y.Columns) && slices.EqualFunc(x.Rows, y.Rows, slices.Equal)
	})
}
