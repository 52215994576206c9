// Package dataserver implements nrm.reporting.v1.DataSetService: the members' forms, their
// monthly submissions and who has reported.
package dataserver

import (
	"context"
	"errors"
	"strings"

	"google.golang.org/protobuf/types/known/timestamppb"

	reportingv1 "github.com/nrm-albania/nrm/proto/nrm/reporting/v1"
	"github.com/nrm-albania/nrm/services/platform/aggregate"
	"github.com/nrm-albania/nrm/services/platform/apierr"
	"github.com/nrm-albania/nrm/services/platform/auth"
	"github.com/nrm-albania/nrm/services/reporting/internal/datasets"
	"github.com/nrm-albania/nrm/services/reporting/internal/projection"
)

// Registry reads the case statistics of a period, the registry's own counts that submissions
// are cross-checked against; projection.Projection is one.
type Registry interface {
	Statistics(ctx context.Context, from, to string) (projection.Statistics, error)
}

// Notifier wakes the outbox relay after a commit, so that its events go out now rather than at
// the relay's next scan.
type Notifier interface{ Notify() }

// Server serves the data sets.
type Server struct {
	reportingv1.UnimplementedDataSetServiceServer
	store    *datasets.Store
	registry Registry
	relay    Notifier
}

// New returns the service over store, cross-checking against registry.
func New(store *datasets.Store, registry Registry, relay Notifier) *Server {
	return &Server{store: store, registry: registry, relay: relay}
}

// ListDataSets lists every member's form.
func (s *Server) ListDataSets(ctx context.Context, _ *reportingv1.ListDataSetsRequest) (*reportingv1.ListDataSetsResponse, error) {
	all, err := s.store.List(ctx)
	if err != nil {
		return nil, err
	}
	resp := &reportingv1.ListDataSetsResponse{DataSets: []*reportingv1.DataSet{}}
	for _, d := range all {
		resp.DataSets = append(resp.DataSets, d.Proto())
	}
	return resp, nil
}

// GetDataSet returns one member's form.
func (s *Server) GetDataSet(ctx context.Context, req *reportingv1.GetDataSetRequest) (*reportingv1.GetDataSetResponse, error) {
	d, err := s.dataSet(ctx, req.GetMember())
	if err != nil {
		return nil, err
	}
	aggregate.SendETag(ctx, d.Version)
	return &reportingv1.GetDataSetResponse{DataSet: d.Proto()}, nil
}

// UpdateDataSet replaces a member's form.
func (s *Server) UpdateDataSet(ctx context.Context, req *reportingv1.UpdateDataSetRequest) (*reportingv1.UpdateDataSetResponse, error) {
	elements := datasets.ElementsFromProto(req.GetElements())
	if err := datasets.ValidateElements("elements", elements); err != nil {
		return nil, err
	}
	expected, err := aggregate.ExpectedVersion(ctx, "version", req.GetVersion())
	if err != nil {
		return nil, err
	}
	d, err := s.store.Update(ctx, req.GetMember(), expected, elements)
	if err != nil {
		return nil, err
	}
	aggregate.SendETag(ctx, d.Version)
	return &reportingv1.UpdateDataSetResponse{DataSet: d.Proto()}, nil
}

// SubmitData records a member's figures for a month.
func (s *Server) SubmitData(ctx context.Context, req *reportingv1.SubmitDataRequest) (*reportingv1.SubmitDataResponse, error) {
	if err := mayReportFor(ctx, req.GetMember()); err != nil {
		return nil, err
	}
	p, err := datasets.ParsePeriod("period", req.GetPeriod())
	if err != nil {
		return nil, err
	}
	form, err := s.dataSet(ctx, req.GetMember())
	if err != nil {
		return nil, err
	}
	figures, err := s.figures(ctx, form, p)
	if err != nil {
		return nil, err
	}
	values := datasets.ValuesFromProto(req.GetValues())
	warnings, err := datasets.Check(form, values, figures)
	if err != nil {
		return nil, err
	}
	sub, committed, err := s.store.Submit(ctx, form, p, values, warnings)
	if err != nil {
		return nil, err
	}
	if committed {
		s.relay.Notify()
	}
	aggregate.SendETag(ctx, sub.Version)
	return &reportingv1.SubmitDataResponse{Submission: sub.Proto(s.store.Calendar(), p)}, nil
}

// GetSubmission returns a member's submission for a month.
func (s *Server) GetSubmission(ctx context.Context, req *reportingv1.GetSubmissionRequest) (*reportingv1.GetSubmissionResponse, error) {
	p, err := datasets.ParsePeriod("period", req.GetPeriod())
	if err != nil {
		return nil, err
	}
	id := datasets.SubmissionID(req.GetMember(), p)
	sub, err := s.store.Submissions.Get(ctx, id)
	if errors.Is(err, aggregate.ErrNotFound) {
		return nil, apierr.NotFound("data_submission", id)
	}
	if err != nil {
		return nil, err
	}
	aggregate.SendETag(ctx, sub.Version)
	return &reportingv1.GetSubmissionResponse{Submission: sub.Proto(s.store.Calendar(), p)}, nil
}

// ReopenSubmission reopens a member's locked month.
func (s *Server) ReopenSubmission(ctx context.Context, req *reportingv1.ReopenSubmissionRequest) (*reportingv1.ReopenSubmissionResponse, error) {
	p, err := datasets.ParsePeriod("period", req.GetPeriod())
	if err != nil {
		return nil, err
	}
	reason := strings.TrimSpace(req.GetReason())
	if reason == "" {
		return nil, apierr.InvalidField("reason", "is required: say why the month is reopened")
	}
	if _, err := s.dataSet(ctx, req.GetMember()); err != nil {
		return nil, err
	}
	sub, committed, err := s.store.Reopen(ctx, req.GetMember(), p, reason)
	if err != nil {
		return nil, err
	}
	if committed {
		s.relay.Notify()
	}
	aggregate.SendETag(ctx, sub.Version)
	return &reportingv1.ReopenSubmissionResponse{Submission: sub.Proto(s.store.Calendar(), p)}, nil
}

// GetCompleteness says who has reported a month, and how.
func (s *Server) GetCompleteness(ctx context.Context, req *reportingv1.GetCompletenessRequest) (*reportingv1.GetCompletenessResponse, error) {
	p, err := datasets.ParsePeriod("period", req.GetPeriod())
	if err != nil {
		return nil, err
	}
	forms, err := s.store.List(ctx)
	if err != nil {
		return nil, err
	}
	cal := s.store.Calendar()
	resp := &reportingv1.GetCompletenessResponse{
		Period: p.String(), Members: []*reportingv1.MemberCompleteness{},
		DueAt: timestamppb.New(cal.DueAt(p)), LocksAt: timestamppb.New(cal.LocksAt(p)), Locked: cal.Locked(p, s.store.Now()),
	}
	for _, f := range forms {
		sub, err := s.store.Submissions.Get(ctx, datasets.SubmissionID(f.Member, p))
		if err != nil && !errors.Is(err, aggregate.ErrNotFound) {
			return nil, err
		}
		m := &reportingv1.MemberCompleteness{
			Member: f.Member, Submitted: sub.Submitted, Warnings: int32(len(sub.Warnings)), Reopened: sub.Reopened,
			Timeliness: cal.Timeliness(p, sub.FirstSubmittedAt).Proto(),
		}
		if sub.Submitted {
			m.FirstSubmittedAt = timestamppb.New(sub.FirstSubmittedAt)
		}
		switch m.Timeliness {
		case reportingv1.Timeliness_TIMELINESS_ON_TIME:
			resp.OnTime++
		case reportingv1.Timeliness_TIMELINESS_LATE:
			resp.Late++
		default:
			resp.NotSubmitted++
		}
		resp.Members = append(resp.Members, m)
	}
	resp.Submitted = resp.OnTime + resp.Late
	return resp, nil
}

// dataSet reads member's form, NOT_FOUND naming it when the member has none.
func (s *Server) dataSet(ctx context.Context, member string) (datasets.DataSet, error) {
	d, err := s.store.DataSets.Get(ctx, member)
	if errors.Is(err, aggregate.ErrNotFound) {
		return d, apierr.NotFound("data_set", member)
	}
	return d, err
}

// figures are the registry's counts the form's cross-checks compare with, for the member and
// month; none is read when the form has no cross-check.
func (s *Server) figures(ctx context.Context, form datasets.DataSet, p datasets.Period) (map[datasets.CrossCheck]int64, error) {
	for _, e := range form.Elements {
		if e.CrossCheck == datasets.CasesIdentified {
			st, err := s.registry.Statistics(ctx, p.First(), p.Last())
			if err != nil {
				return nil, err
			}
			return map[datasets.CrossCheck]int64{datasets.CasesIdentified: st.ByIdentifyingInstitution[form.Member]}, nil
		}
	}
	return nil, nil
}

// mayReportFor refuses a submission for another institution than the caller's own, unless the
// caller is the secretariat, which collects the members' data (point 10) and may enter a
// member's figures received on paper.
func mayReportFor(ctx context.Context, member string) error {
	p, ok := auth.FromContext(ctx)
	if !ok {
		return apierr.PermissionDenied("NOT_YOUR_INSTITUTION", "no caller", nil)
	}
	who := p.Effective()
	if who.Has(auth.RoleSecretariat) || who.Institution == member {
		return nil
	}
	return apierr.PermissionDenied("NOT_YOUR_INSTITUTION",
		"a member submits its own institution's data; the secretariat may submit for any member",
		map[string]string{"member": member, "institution": who.Institution})
}
