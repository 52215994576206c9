package server

import (
	"context"
	"fmt"
	"slices"
	"time"

	secretariatv1 "github.com/nrm-albania/nrm/proto/nrm/secretariat/v1"
	"github.com/nrm-albania/nrm/services/platform/apierr"
	"github.com/nrm-albania/nrm/services/platform/workdays"
	"github.com/nrm-albania/nrm/services/secretariat/internal/meetings"
)

// GetCompliance says, for each month of a year, whether a regular meeting was held in it: twelve
// lists of a month's meetings, a few each, however many years have passed.
func (s *Meetings) GetCompliance(ctx context.Context, req *secretariatv1.GetComplianceRequest) (*secretariatv1.GetComplianceResponse, error) {
	now := s.Now().In(workdays.Tirana)
	if req.GetYear() < 2023 || int(req.GetYear()) > now.Year()+1 {
		return nil, apierr.InvalidField("year", "must be 2023 to %d", now.Year()+1)
	}
	resp := &secretariatv1.GetComplianceResponse{Year: req.GetYear()}
	current := now.Format("2006-01")
	for month := 1; month <= 12; month++ {
		key := fmt.Sprintf("%04d-%02d", req.GetYear(), month)
		ms, err := s.Meetings.OfMonth(ctx, key)
		if err != nil {
			return nil, err
		}
		mc := &secretariatv1.MonthCompliance{Month: key, Closed: key <= current}
		for _, m := range ms {
			if meetings.Month(m.Start, workdays.Tirana) != key { // postponed into another month
				continue
			}
			mc.MeetingIds = append(mc.MeetingIds, m.ID)
			if m.Kind == meetings.Regular && m.Was() && mc.HeldMeetingId == "" {
				mc.Compliant, mc.HeldMeetingId = true, m.ID
			}
		}
		if mc.Compliant {
			resp.CompliantMonths++
		}
		resp.Months = append(resp.Months, mc)
	}
	return resp, nil
}

// monthsToWatch are the month just closed and the current one, for the compliance watch.
func monthsToWatch(now time.Time) (closed, current string) {
	t := now.In(workdays.Tirana)
	first := time.Date(t.Year(), t.Month(), 1, 12, 0, 0, 0, workdays.Tirana)
	return first.AddDate(0, -1, 0).Format("2006-01"), first.Format("2006-01")
}

// regularIn reports whether month has a regular meeting in one of states (any, when none given).
func (s *Meetings) regularIn(ctx context.Context, month string, held bool) (bool, error) {
	ms, err := s.Meetings.OfMonth(ctx, month)
	if err != nil {
		return false, err
	}
	return slices.ContainsFunc(ms, func(m meetings.Meeting) bool {
		return m.Kind == meetings.Regular && meetings.Month(m.Start, workdays.Tirana) == month &&
			m.State != meetings.Cancelled && (!held || m.Was())
	}), nil
}
