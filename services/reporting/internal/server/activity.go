package server

import (
	"context"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	reportingv1 "github.com/nrm-albania/nrm/proto/nrm/reporting/v1"
	"github.com/nrm-albania/nrm/services/platform/apierr"
	"github.com/nrm-albania/nrm/services/reporting/internal/crosstab"
	"github.com/nrm-albania/nrm/services/reporting/internal/meetingstats"
	"github.com/nrm-albania/nrm/services/reporting/internal/referralstats"
)

// ReferralReader reads the referral figures of a period; referralstats.Figures is one.
type ReferralReader interface {
	Statistics(ctx context.Context, from, to string) (referralstats.Statistics, error)
}

// MeetingReader reads the meeting figures of a range of months; meetingstats.Figures is one.
type MeetingReader interface {
	Statistics(ctx context.Context, from, to string) (meetingstats.Statistics, error)
}

// CrossTabReader reads the cross-tabulations of the cases; crosstab.Tables is one.
type CrossTabReader interface {
	Table(ctx context.Context, rows, columns, from, to string) (crosstab.Table, error)
}

// Activity serves the referral and meeting figures and the cases' cross-tabulations.
type Activity struct {
	reportingv1.UnimplementedActivityServiceServer
	referrals ReferralReader
	meetings  MeetingReader
	tables    CrossTabReader
}

// NewActivity returns the service reading from referrals, meetings and tables.
func NewActivity(referrals ReferralReader, meetings MeetingReader, tables CrossTabReader) *Activity {
	return &Activity{referrals: referrals, meetings: meetings, tables: tables}
}

// GetReferralStatistics counts the referrals created from..to.
func (a *Activity) GetReferralStatistics(ctx context.Context, req *reportingv1.GetReferralStatisticsRequest) (*reportingv1.GetReferralStatisticsResponse, error) {
	if err := validatePeriod(req.GetFrom(), req.GetTo()); err != nil {
		return nil, err
	}
	st, err := a.referrals.Statistics(ctx, req.GetFrom(), req.GetTo())
	if err != nil {
		return nil, err
	}
	return &reportingv1.GetReferralStatisticsResponse{
		Total:                   st.Total,
		ByServiceType:           counts(st.ByServiceType),
		ByProvider:              counts(st.ByProvider),
		ByState:                 counts(st.ByState),
		BySenderInstitution:     counts(st.BySender),
		ByUrgency:               counts(st.ByUrgency),
		Overdue:                 st.Overdue,
		Answered:                st.Answered,
		MeanResponseSeconds:     st.MeanResponse(),
		MedianResponseSeconds:   st.MedianResponse(),
		ResponseHistogram:       counts(st.ResponseHistogram),
		ServicesDelivered:       sum(st.DeliveredByType),
		ServicesDeliveredByType: counts(st.DeliveredByType),
		From:                    req.GetFrom(),
		To:                      req.GetTo(),
		AsOf:                    asOf(st.AsOf),
	}, nil
}

// GetMeetingStatistics counts the meetings of the months from..to touch: meetings count by
// month, the month their start falls in (Tirana), as the monthly obligation does.
func (a *Activity) GetMeetingStatistics(ctx context.Context, req *reportingv1.GetMeetingStatisticsRequest) (*reportingv1.GetMeetingStatisticsResponse, error) {
	if err := validatePeriod(req.GetFrom(), req.GetTo()); err != nil {
		return nil, err
	}
	st, err := a.meetings.Statistics(ctx, month(req.GetFrom()), month(req.GetTo()))
	if err != nil {
		return nil, err
	}
	resp := &reportingv1.GetMeetingStatisticsResponse{
		Held:                    sum(st.HeldByKind),
		HeldByKind:              counts(st.HeldByKind),
		AttendanceByInstitution: counts(st.Attendance),
		Decisions:               sum(st.DecisionsByKind),
		DecisionsByKind:         counts(st.DecisionsByKind),
		DecisionsAdopted:        st.DecisionsAdopted,
		Actions:                 sum(st.ActionsByState),
		ActionsOpen:             st.ActionsByState["ACTION_STATE_OPEN"],
		ActionsOverdue:          st.ActionsByState["ACTION_STATE_OVERDUE"],
		ActionsDone:             st.ActionsByState["ACTION_STATE_DONE"],
		MissedMonths:            st.MissedMonths,
		From:                    req.GetFrom(),
		To:                      req.GetTo(),
		AsOf:                    asOf(st.AsOf),
	}
	for _, m := range st.Months {
		resp.Months = append(resp.Months, &reportingv1.MeetingMonth{Month: m.Month, HeldByKind: counts(m.HeldByKind), Missed: m.Missed})
	}
	return resp, nil
}

// GetCaseCrossTab cross-tabulates the cases identified from..to by two dimensions.
func (a *Activity) GetCaseCrossTab(ctx context.Context, req *reportingv1.GetCaseCrossTabRequest) (*reportingv1.GetCaseCrossTabResponse, error) {
	if !crosstab.Valid(req.GetRows(), req.GetColumns()) {
		var v apierr.Violations
		v.Add("columns", "rows and columns must be two different ones of %s; got %q and %q",
			strings.Join(crosstab.Dimensions, ", "), req.GetRows(), req.GetColumns())
		return nil, v.Err()
	}
	if err := validatePeriod(req.GetFrom(), req.GetTo()); err != nil {
		return nil, err
	}
	tab, err := a.tables.Table(ctx, req.GetRows(), req.GetColumns(), req.GetFrom(), req.GetTo())
	if err != nil {
		return nil, err
	}
	resp := &reportingv1.GetCaseCrossTabResponse{Rows: req.GetRows(), Columns: req.GetColumns(), Total: tab.Total,
		From: req.GetFrom(), To: req.GetTo(), AsOf: asOf(tab.AsOf)}
	for _, c := range tab.Cells {
		resp.Cells = append(resp.Cells, &reportingv1.CrossTabCell{Row: c.Row, Column: c.Column, Count: c.Count})
	}
	return resp, nil
}

// month is the month "YYYY-MM" of a valid day, "" for no bound.
func month(day string) string {
	if day == "" {
		return ""
	}
	return day[:len("2006-01")]
}

func sum(m map[string]int64) int64 {
	var n int64
	for _, c := range m {
		n += c
	}
	return n
}

func asOf(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}
