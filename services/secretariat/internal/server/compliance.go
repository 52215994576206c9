package server

import (
	"context"
	"fmt"

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
			if meetings.Month(m.Start, workdays.Tirana) == key { // not one postponed out of it
				mc.MeetingIds = append(mc.MeetingIds, m.ID)
			}
		}
		if m, ok := meetings.RegularOf(ms, key, meetings.Meeting.Was); ok {
			mc.Compliant, mc.HeldMeetingId = true, m.ID
		}
		if mc.Compliant {
			resp.CompliantMonths++
		}
		resp.Months = append(resp.Months, mc)
	}
	return resp, nil
}
