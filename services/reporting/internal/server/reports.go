package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"google.golang.org/genproto/googleapis/api/httpbody"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/timestamppb"

	reportingv1 "github.com/nrm-albania/nrm/proto/nrm/reporting/v1"
	"github.com/nrm-albania/nrm/services/platform/aggregate"
	"github.com/nrm-albania/nrm/services/platform/apierr"
	"github.com/nrm-albania/nrm/services/platform/auth"
	"github.com/nrm-albania/nrm/services/platform/authz"
	"github.com/nrm-albania/nrm/services/platform/pagination"
	"github.com/nrm-albania/nrm/services/platform/workdays"
	"github.com/nrm-albania/nrm/services/reporting/internal/procedure"
	"github.com/nrm-albania/nrm/services/reporting/internal/reports"
)

// Reports serves nrm.reporting.v1.ReportService.
type Reports struct {
	reportingv1.UnimplementedReportServiceServer
	ReportDeps
}

// ReportDeps are what the reports work with.
type ReportDeps struct {
	Store *reports.Store
	// Builders build the report's sections, one each, in order; Sections names them for
	// ExportTables.
	Builders []reports.Builder
	Sections map[string]reports.Builder
	// Rules are the rules of procedure, as the secretariat adopted them: a report is circulated
	// to the members, for approval, under the version in force that day.
	Rules interface {
		On(ctx context.Context, day string) (procedure.Rules, error)
	}
	// Recipients are the offices the final report is submitted to.
	Recipients []string
	// Relay is woken after every commit, to publish its events at once.
	Relay interface{ Notify() }
	Log   *slog.Logger
	Now   func() time.Time
}

// NewReports returns the service.
func NewReports(d ReportDeps) *Reports {
	if d.Now == nil {
		d.Now = time.Now
	}
	return &Reports{ReportDeps: d}
}

// maxComment bounds a return's comment: what a member asks to change, not a document.
const maxComment = 4000

// stamp is the time of a change, as the store keeps it (milliseconds, UTC).
func (s *Reports) stamp() time.Time { return s.Now().UTC().Truncate(time.Millisecond) }

func caller(ctx context.Context) reports.Actor {
	p, _ := auth.FromContext(ctx)
	who := p.Effective()
	return reports.Actor{Institution: who.Institution, Subject: who.Subject}
}

// DraftReport drafts the report of a period: the first revision, or the next one of a report
// not yet final.
func (s *Reports) DraftReport(ctx context.Context, req *reportingv1.DraftReportRequest) (*reportingv1.DraftReportResponse, error) {
	p, err := period(req)
	if err != nil {
		return nil, err
	}
	r, _, err := s.draft(ctx, p, func(reports.Report) bool { return true })
	if err != nil {
		return nil, err
	}
	return &reportingv1.DraftReportResponse{Report: view(r)}, nil
}

// KeepDrafted drafts the report of p if there is none, and drafts it again while it is a draft
// whose figures have changed (the members' data arriving, corrections): the automatic draft,
// which follows the data until the secretariat circulates it, and then leaves it alone, as it
// leaves a returned or final report. It reports whether it made a revision.
func (s *Reports) KeepDrafted(ctx context.Context, p reports.Period) (bool, error) {
	isDraft := func(r reports.Report) bool { return r.State == reports.Draft }
	switch r, err := s.Store.Get(ctx, reports.ID(p)); {
	case err == nil && !isDraft(r):
		return false, nil // not worth composing the sections
	case err != nil && !errors.Is(err, aggregate.ErrNotFound):
		return false, err
	}
	_, changed, err := s.draft(ctx, p, isDraft)
	return changed, err
}

// draft composes the report of p and commits it: its first revision, or the next of a report
// that redraft accepts (a final one is refused whatever redraft says) unless the figures are
// those of its draft already. It reports whether it made a revision.
func (s *Reports) draft(ctx context.Context, p reports.Period, redraft func(reports.Report) bool) (reports.Report, bool, error) {
	sections, err := reports.Compose(ctx, s.Builders, p)
	if err != nil {
		return reports.Report{}, false, err
	}
	now := s.stamp()
	created, err := s.create(ctx, p, sections, now)
	if !errors.Is(err, aggregate.ErrExists) {
		return created, err == nil, err
	}
	changed := false
	r, err := s.execute(ctx, reports.ID(p), 0, func(r reports.Report) (reports.Report, []string, error) {
		if !redraft(r) {
			return r, nil, nil
		}
		next, ok, err := r.Redraft(sections, now)
		changed = ok
		return next, when(ok, "report.drafted"), err
	})
	return r, changed, err
}

// create commits the first revision of the report of p; aggregate.ErrExists if there is one.
func (s *Reports) create(ctx context.Context, p reports.Period, sections []reports.Section, now time.Time) (reports.Report, error) {
	id, who := reports.ID(p), caller(ctx)
	r := reports.New(id, p, sections, now)
	events, err := aggregate.Envelop(ctx, id, 1, []aggregate.Event{event(r, "report.drafted", who)}, now)
	if err != nil {
		return r, err
	}
	created, err := s.Store.Create(ctx, r, aggregate.Change{Kind: "drafted"}.By(who.Institution, who.Subject, now), events)
	if err == nil {
		s.committed(ctx, created, "report.drafted")
		aggregate.SendETag(ctx, created.Version)
	}
	return created, err
}

// period is the period a draft asks for: a month, or from..to.
func period(req *reportingv1.DraftReportRequest) (reports.Period, error) {
	switch {
	case req.GetPeriod() != "" && (req.GetFrom() != "" || req.GetTo() != ""):
		return reports.Period{}, apierr.InvalidField("period", "give either a month (period) or from and to, not both")
	case req.GetPeriod() != "":
		p, err := reports.Month(req.GetPeriod())
		if err != nil {
			return p, apierr.InvalidField("period", "must be a month YYYY-MM: %v", err)
		}
		return p, nil
	case req.GetFrom() == "" && req.GetTo() == "":
		return reports.Period{}, apierr.InvalidField("period", "is required: a month YYYY-MM, or from and to dates")
	}
	return days(req.GetFrom(), req.GetTo())
}

// days is the period from..to, refused INVALID_ARGUMENT naming the field at fault.
func days(from, to string) (reports.Period, error) {
	p, err := reports.Days(from, to)
	if err != nil {
		field := "to"
		if !strings.HasPrefix(err.Error(), "to") {
			field = "from"
		}
		return p, apierr.InvalidField(field, "%v", err)
	}
	return p, nil
}

// GetReport returns one report.
func (s *Reports) GetReport(ctx context.Context, req *reportingv1.GetReportRequest) (*reportingv1.GetReportResponse, error) {
	r, err := s.load(ctx, req.GetId())
	if err != nil {
		return nil, err
	}
	aggregate.SendETag(ctx, r.Version)
	return &reportingv1.GetReportResponse{Report: view(r)}, nil
}

// ListReports returns a page of reports, the most recently drafted first.
func (s *Reports) ListReports(ctx context.Context, req *reportingv1.ListReportsRequest) (*reportingv1.ListReportsResponse, error) {
	size, after, err := pagination.Parse(req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	all, err := s.Store.All(ctx)
	if err != nil {
		return nil, err
	}
	if after != "" {
		all = all[slices.IndexFunc(all, func(r reports.Report) bool { return r.ID == after })+1:]
	}
	resp := &reportingv1.ListReportsResponse{}
	if len(all) > size {
		all = all[:size]
		resp.NextPageToken = pagination.Token(all[size-1].ID)
	}
	for _, r := range all {
		resp.Reports = append(resp.Reports, view(r))
	}
	return resp, nil
}

// CirculateReport sends the draft to the members for approval, under the rules of procedure in
// force today.
func (s *Reports) CirculateReport(ctx context.Context, req *reportingv1.CirculateReportRequest) (*reportingv1.CirculateReportResponse, error) {
	now := s.stamp()
	day := now.In(workdays.Tirana).Format(time.DateOnly)
	rules, err := s.Rules.On(ctx, day)
	if errors.Is(err, procedure.ErrUnknown) {
		return nil, apierr.WithInfo(codes.Unavailable, "RULES_OF_PROCEDURE_UNKNOWN",
			"the rules of procedure, which say who approves a report and how, have not reached the reporting service from the secretariat yet: "+
				"the secretariat publishes them (rules.adopted) once it has started; try again shortly", nil)
	}
	if err != nil {
		return nil, err
	}
	rule := reports.ApprovalRule{RulesVersion: rules.Version, Days: rules.ApprovalDays, Tacit: rules.Tacit}
	r, err := s.execute(ctx, req.GetId(), req.GetExpectedVersion(), func(r reports.Report) (reports.Report, []string, error) {
		next, changed, err := r.Circulate(rule, rules.Members, now)
		return next, when(changed, "report.circulated"), err
	})
	if err != nil {
		return nil, err
	}
	return &reportingv1.CirculateReportResponse{Report: view(r)}, nil
}

// ApproveReport records the caller's institution's approval.
func (s *Reports) ApproveReport(ctx context.Context, req *reportingv1.ApproveReportRequest) (*reportingv1.ApproveReportResponse, error) {
	who, err := answering(ctx, req.GetInstitution())
	if err != nil {
		return nil, err
	}
	now := s.stamp()
	r, err := s.execute(ctx, req.GetId(), req.GetExpectedVersion(), func(r reports.Report) (reports.Report, []string, error) {
		next, changed, err := r.Approve(who, req.GetRevision(), now)
		events := when(changed, "report.approved")
		if changed && next.State == reports.Approved {
			events = append(events, "report.final")
		}
		return next, events, err
	})
	if err != nil {
		return nil, err
	}
	return &reportingv1.ApproveReportResponse{Report: view(r)}, nil
}

// ReturnReport records the caller's institution's return, with its comment.
func (s *Reports) ReturnReport(ctx context.Context, req *reportingv1.ReturnReportRequest) (*reportingv1.ReturnReportResponse, error) {
	who, err := answering(ctx, req.GetInstitution())
	if err != nil {
		return nil, err
	}
	comment := strings.TrimSpace(req.GetComment())
	switch {
	case comment == "":
		return nil, apierr.InvalidField("comment", "is required: say what to change")
	case utf8.RuneCountInString(comment) > maxComment:
		return nil, apierr.InvalidField("comment", "must be at most %d characters", maxComment)
	}
	now := s.stamp()
	r, err := s.execute(ctx, req.GetId(), req.GetExpectedVersion(), func(r reports.Report) (reports.Report, []string, error) {
		next, err := r.Return(who, comment, now)
		return next, []string{"report.returned"}, err
	})
	if err != nil {
		return nil, err
	}
	return &reportingv1.ReturnReportResponse{Report: view(r)}, nil
}

// answering is the institution an approval or return is for: the caller's own. A member acts for
// its own institution only, whatever it names.
func answering(ctx context.Context, named string) (reports.Actor, error) {
	who := caller(ctx)
	if named != "" && named != who.Institution {
		return who, apierr.PermissionDenied("NOT_YOUR_INSTITUTION", who.Institution+" may answer for itself only, not for "+named,
			map[string]string{"institution": named})
	}
	return who, nil
}

// SubmitReport submits the approved report: the PDF is rendered and frozen, and its hash goes to
// the audit trail.
func (s *Reports) SubmitReport(ctx context.Context, req *reportingv1.SubmitReportRequest) (*reportingv1.SubmitReportResponse, error) {
	who, now := caller(ctx), s.stamp()
	var digest string
	r, err := s.execute(ctx, req.GetId(), req.GetExpectedVersion(), func(r reports.Report) (reports.Report, []string, error) {
		sub := reports.Submission{Actor: who, Recipients: s.Recipients, At: now}
		// Rendered as submitted (state and submission), then recorded with its hash: the hash
		// is of the bytes the record renders to.
		next, err := r.Submit(sub, nil)
		if err != nil {
			return r, nil, err
		}
		pdf, err := reports.PDF(next)
		if err != nil {
			return r, nil, err
		}
		sum := sha256.Sum256(pdf)
		digest = hex.EncodeToString(sum[:])
		next.Submission.PDFSHA256, next.PDF = digest, pdf
		return next, []string{"report.submitted"}, nil
	})
	if err != nil {
		return nil, err
	}
	authz.NoteObjects(ctx, "sha256:"+digest)
	return &reportingv1.SubmitReportResponse{Report: view(r)}, nil
}

// ExportReport returns the report as a PDF, XLSX or CSV file.
func (s *Reports) ExportReport(ctx context.Context, req *reportingv1.ExportReportRequest) (*httpbody.HttpBody, error) {
	r, err := s.load(ctx, req.GetId())
	if err != nil {
		return nil, err
	}
	switch req.GetFormat() {
	case "pdf", "":
		pdf := r.PDF
		if pdf == nil {
			if pdf, err = reports.PDF(r); err != nil {
				return nil, err
			}
		}
		return &httpbody.HttpBody{ContentType: "application/pdf", Data: pdf}, nil
	case "xlsx":
		b, err := reports.XLSX(r.Sections)
		if err != nil {
			return nil, err
		}
		return &httpbody.HttpBody{ContentType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", Data: b}, nil
	case "csv":
		b, err := reports.CSV(r.Sections)
		if err != nil {
			return nil, err
		}
		return &httpbody.HttpBody{ContentType: "text/csv; charset=utf-8", Data: b}, nil
	}
	return nil, apierr.InvalidField("format", "must be pdf, xlsx or csv; got %q", req.GetFormat())
}

func (s *Reports) load(ctx context.Context, id string) (reports.Report, error) {
	if _, err := uuid.Parse(id); err != nil {
		return reports.Report{}, apierr.InvalidField("id", "must be a report id (a UUID)")
	}
	r, err := s.Store.Get(ctx, id)
	if errors.Is(err, aggregate.ErrNotFound) {
		return r, apierr.NotFound("report", id)
	}
	return r, err
}

// change decides a change of a report: the next state and the types of its events (none: the
// report stays as it is).
type change func(reports.Report) (reports.Report, []string, error)

func (s *Reports) execute(ctx context.Context, id string, field int64, decide change) (reports.Report, error) {
	if _, err := uuid.Parse(id); err != nil {
		return reports.Report{}, apierr.InvalidField("id", "must be a report id (a UUID)")
	}
	expected, err := aggregate.ExpectedVersion(ctx, "expected_version", field)
	if err != nil {
		return reports.Report{}, err
	}
	var kinds []string
	r, committed, err := s.Store.Execute(ctx, aggregate.Command[reports.Report, aggregate.Change]{
		ID: id, Expected: expected, At: s.Now(),
		Decide: func(r reports.Report) (aggregate.Outcome[reports.Report, aggregate.Change], error) {
			next, k, err := decide(r)
			if err != nil || len(k) == 0 {
				return aggregate.Outcome[reports.Report, aggregate.Change]{Noop: true}, err
			}
			kinds = k
			next.Version++ // the version Execute gives it, for the events
			by := caller(ctx)
			var events []aggregate.Event
			for _, kind := range k {
				if kind != "report.approved" {
					events = append(events, event(next, kind, by))
					continue
				}
				// One event per approval made, each naming its institution: the tacit
				// approvals are several at once, made by the service for others.
				for _, a := range next.Approvals[len(r.Approvals):] {
					e := event(next, kind, a.Actor)
					e.Payload.(*reportingv1.ReportChanged).Tacit = a.Tacit
					events = append(events, e)
				}
			}
			return aggregate.Outcome[reports.Report, aggregate.Change]{Next: next,
				Change: aggregate.Change{Kind: strings.TrimPrefix(k[0], "report.")}, Events: events}, nil
		},
	})
	if err != nil {
		return r, err
	}
	if committed {
		s.committed(ctx, r, kinds...)
	}
	aggregate.SendETag(ctx, r.Version)
	return r, nil
}

func (s *Reports) committed(ctx context.Context, r reports.Report, kinds ...string) {
	s.Relay.Notify()
	s.Log.InfoContext(ctx, strings.Join(kinds, ", "), "report_id", r.ID, "period", r.Period, "version", r.Version,
		"revision", r.Revision, "state", r.State)
}

// when is the event kind if a change was made, none otherwise.
func when(changed bool, kind string) []string {
	if !changed {
		return nil
	}
	return []string{kind}
}

// event is a report's event: ids, codes and numbers only. An approval or a return names the
// institution that made it.
func event(r reports.Report, kind string, by reports.Actor) aggregate.Event {
	e := &reportingv1.ReportChanged{ReportId: r.ID, Version: r.Version, Period: r.Period,
		State: reportingv1.ReportState(reportingv1.ReportState_value[r.State]), Revision: r.Revision}
	if kind == "report.approved" || kind == "report.returned" {
		e.Institution = by.Institution
	}
	return aggregate.Event{Type: kind, Payload: e}
}

func view(r reports.Report) *reportingv1.Report {
	v := &reportingv1.Report{
		Id: r.ID, Version: r.Version, Period: r.Period, From: r.From, To: r.To,
		State: reportingv1.ReportState(reportingv1.ReportState_value[r.State]), Revision: r.Revision,
		Approvers: r.Approvers, PendingApprovers: r.Pending(),
		DraftTime: timestamppb.New(r.DraftedAt), CreateTime: timestamppb.New(r.CreatedAt), UpdateTime: timestamppb.New(r.UpdatedAt),
	}
	if !r.CirculatedAt.IsZero() {
		v.CirculateTime = timestamppb.New(r.CirculatedAt)
	}
	if a := r.Rule; a != nil {
		v.ApprovalRule = &reportingv1.ApprovalRule{RulesVersion: a.RulesVersion, ApprovalDays: a.Days, Tacit: a.Tacit,
			DueTime: timestamppb.New(a.Due(r.CirculatedAt))}
	}
	for _, s := range r.Sections {
		ps := &reportingv1.Section{Title: s.Title}
		for _, t := range s.Tables {
			pt := &reportingv1.Table{Title: t.Title, Columns: t.Columns}
			for _, row := range t.Rows {
				pt.Rows = append(pt.Rows, &reportingv1.Row{Cells: row})
			}
			ps.Tables = append(ps.Tables, pt)
		}
		v.Sections = append(v.Sections, ps)
	}
	for _, a := range r.Approvals {
		v.Approvals = append(v.Approvals, &reportingv1.Approval{Institution: a.Institution, Subject: a.Subject, Revision: a.Revision,
			ApproveTime: timestamppb.New(a.At), Tacit: a.Tacit})
	}
	for _, x := range r.Returns {
		v.Returns = append(v.Returns, &reportingv1.Return{Institution: x.Institution, Subject: x.Subject, Revision: x.Revision, Comment: x.Comment, ReturnTime: timestamppb.New(x.At)})
	}
	if sub := r.Submission; sub != nil {
		v.Submission = &reportingv1.ReportSubmission{Recipients: sub.Recipients, SubmitTime: timestamppb.New(sub.At),
			Institution: sub.Institution, Subject: sub.Subject, PdfSha256: sub.PDFSHA256}
	}
	return v
}

// ExportTables writes one section's tables over any period as a CSV or XLSX file.
func (s *Reports) ExportTables(ctx context.Context, req *reportingv1.ExportTablesRequest) (*httpbody.HttpBody, error) {
	b, ok := s.Sections[req.GetSection()]
	if !ok {
		names := slices.Sorted(maps.Keys(s.Sections))
		return nil, apierr.InvalidField("section", "must be one of %s; got %q", strings.Join(names, ", "), req.GetSection())
	}
	p, err := days(req.GetFrom(), req.GetTo())
	if err != nil {
		return nil, err
	}
	sec, err := b.Build(ctx, p)
	if err != nil {
		return nil, err
	}
	switch req.GetFormat() {
	case "csv":
		data, err := reports.CSV([]reports.Section{sec})
		if err != nil {
			return nil, err
		}
		return &httpbody.HttpBody{ContentType: "text/csv; charset=utf-8", Data: data}, nil
	case "xlsx":
		data, err := reports.XLSX([]reports.Section{sec})
		if err != nil {
			return nil, err
		}
		return &httpbody.HttpBody{ContentType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", Data: data}, nil
	}
	return nil, apierr.InvalidField("format", "must be csv or xlsx; got %q", req.GetFormat())
}
