package server

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"google.golang.org/protobuf/types/known/timestamppb"

	referralv1 "github.com/nrm-albania/nrm/proto/nrm/referral/v1"
	"github.com/nrm-albania/nrm/services/platform/aggregate"
	"github.com/nrm-albania/nrm/services/platform/apierr"
	"github.com/nrm-albania/nrm/services/platform/piicrypto"
	"github.com/nrm-albania/nrm/services/referral/internal/deadlines"
	"github.com/nrm-albania/nrm/services/referral/internal/providers"
	"github.com/nrm-albania/nrm/services/referral/internal/referrals"
)

// RecordServiceDelivered records a service the recipient delivered under an accepted (or
// completed) referral: a new version, and an event referral.service_delivered without the note.
func (s *Server) RecordServiceDelivered(ctx context.Context, req *referralv1.RecordServiceDeliveredRequest) (*referralv1.RecordServiceDeliveredResponse, error) {
	if _, err := uuid.Parse(req.GetId()); err != nil {
		return nil, apierr.InvalidField("id", "must be a referral id (a UUID)")
	}
	sv := req.GetService()
	today := s.now().In(deadlines.Tirana).Format(time.DateOnly)
	var v apierr.Violations
	if !providers.Known(referralv1.ServiceType_name, sv.GetServiceType()) {
		v.Add("service.service_type", "is required: a SERVICE_TYPE_* value")
	}
	start, startErr := time.Parse(time.DateOnly, sv.GetStartDate())
	if startErr != nil || sv.GetStartDate() > today {
		v.Add("service.start_date", "is required: a date YYYY-MM-DD, not in the future")
	}
	if end := sv.GetEndDate(); end != "" {
		if e, err := time.Parse(time.DateOnly, end); err != nil || (startErr == nil && e.Before(start)) || end > today {
			v.Add("service.end_date", "must be a date YYYY-MM-DD, not before start_date nor in the future")
		}
	}
	text(&v, "service.note", sv.GetNote(), 0, maxNote)
	if err := v.Err(); err != nil {
		return nil, err
	}
	expected, err := aggregate.ExpectedVersion(ctx, "expected_version", req.GetExpectedVersion())
	if err != nil {
		return nil, err
	}
	who := caller(ctx)
	r, committed, err := s.Referrals.Execute(ctx, aggregate.Command[referrals.Referral, referrals.Change]{
		ID: req.GetId(), Expected: expected, At: s.now(),
		Admit: func(r referrals.Referral) error { return mayRead(who, r) },
		Decide: func(r referrals.Referral) (aggregate.Outcome[referrals.Referral, referrals.Change], error) {
			var none aggregate.Outcome[referrals.Referral, referrals.Change]
			switch {
			case who.Institution != r.ProviderCode && !steward(who):
				return none, apierr.PermissionDenied("NOT_THE_RECIPIENT",
					fmt.Sprintf("only the referral's recipient, %s, records the services it delivered", r.ProviderCode),
					map[string]string{"referral_id": r.ID})
			case r.State != referrals.Accepted && r.State != referrals.Completed:
				return none, apierr.FailedPrecondition("NOT_ACCEPTED",
					fmt.Sprintf("referral %s is %s: services are recorded once it is accepted", r.ID, r.State),
					map[string]string{"referral_id": r.ID, "state": r.State})
			case len(r.Services) >= referrals.MaxServices:
				return none, apierr.FailedPrecondition("TOO_MANY_SERVICES",
					fmt.Sprintf("referral %s holds %d services, the most one referral records", r.ID, referrals.MaxServices), nil)
			}
			rec := referrals.Service{Type: sv.GetServiceType().String(), Start: sv.GetStartDate(), End: sv.GetEndDate(),
				RecordedBy: who.Institution, RecordedAt: s.stamp()}
			if note := strings.TrimSpace(sv.GetNote()); note != "" {
				if err := s.withKey(ctx, r.ID, func(k piicrypto.DataKey) (err error) {
					rec.Note, err = k.Seal(fieldServiceNote, []byte(note))
					return err
				}); err != nil {
					return none, err
				}
			}
			previous := r.State
			next := r
			next.Services = append(append([]referrals.Service(nil), r.Services...), rec)
			next.Version++
			e := changed(next, "service_delivered", previous)
			e.Payload.(*referralv1.ReferralChanged).Service = serviceProto(referrals.Service{Type: rec.Type, Start: rec.Start, End: rec.End,
				RecordedBy: rec.RecordedBy, RecordedAt: rec.RecordedAt})
			return aggregate.Outcome[referrals.Referral, referrals.Change]{Next: next, Change: referrals.Change{Kind: "service_delivered"},
				Events: []aggregate.Event{e}}, nil
		},
	})
	if err != nil {
		return nil, err
	}
	if committed {
		s.committed(ctx, r, "service delivered")
	}
	return &referralv1.RecordServiceDeliveredResponse{Referral: s.respondReferral(ctx, r)}, nil
}

// serviceProto renders a service delivered, without its note.
func serviceProto(sv referrals.Service) *referralv1.ServiceDelivered {
	return &referralv1.ServiceDelivered{
		ServiceType: referralv1.ServiceType(referralv1.ServiceType_value[sv.Type]), StartDate: sv.Start, EndDate: sv.End,
		RecordedBy: sv.RecordedBy, RecordedAt: timestamppb.New(sv.RecordedAt),
	}
}
