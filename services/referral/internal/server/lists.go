package server

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	referralv1 "github.com/nrm-albania/nrm/proto/nrm/referral/v1"
	"github.com/nrm-albania/nrm/services/platform/aggregate"
	"github.com/nrm-albania/nrm/services/platform/apierr"
	"github.com/nrm-albania/nrm/services/platform/pagination"
	"github.com/nrm-albania/nrm/services/referral/internal/providers"
	"github.com/nrm-albania/nrm/services/referral/internal/referrals"
)

// ListReferrals lists an institution's received or sent referrals, or all of them for the
// stewards (see the proto). Newest-first pages resume before a place of the list; pending pages
// at an offset in the (few) pending referrals.
func (s *Server) ListReferrals(ctx context.Context, req *referralv1.ListReferralsRequest) (*referralv1.ListReferralsResponse, error) {
	party, err := s.party(ctx, req)
	if err != nil {
		return nil, err
	}
	size, at, err := pagination.ParsePosition(req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	keep := filter(req)
	resp := &referralv1.ListReferralsResponse{Referrals: []*referralv1.Referral{}}
	if req.GetPending() {
		page, next, err := s.pendingOf(ctx, party, keep, int(at), size)
		if err != nil {
			return nil, err
		}
		for _, r := range page {
			resp.Referrals = append(resp.Referrals, s.view(ctx, r))
		}
		if next > 0 {
			resp.NextPageToken = pagination.PositionToken(int64(next))
		}
		return resp, nil
	}
	page, before, more, err := s.Referrals.Newest(ctx, party, at, size, keep)
	if err != nil {
		return nil, err
	}
	for _, r := range page {
		resp.Referrals = append(resp.Referrals, s.view(ctx, r))
	}
	if more {
		resp.NextPageToken = pagination.PositionToken(before)
	}
	return resp, nil
}

// party is whose referrals the caller asks for, and may: its own institution's, or any for the
// stewards, who alone may list every referral.
func (s *Server) party(ctx context.Context, req *referralv1.ListReferralsRequest) (referrals.Party, error) {
	p := referrals.Party{ReceivedBy: req.GetRecipient(), SentBy: req.GetSender()}
	var v apierr.Violations
	if p.ReceivedBy != "" && p.SentBy != "" {
		v.Add("sender", "name a recipient or a sender, not both")
	}
	for field, code := range map[string]string{"recipient": p.ReceivedBy, "sender": p.SentBy, "provider_code": req.GetProviderCode()} {
		if code != "" && providers.CheckCode(field, code) != nil {
			v.Add(field, "must be an institution code")
		}
	}
	if t := req.GetServiceType(); t != 0 && !providers.Known(referralv1.ServiceType_name, t) {
		v.Add("service_type", "must be a SERVICE_TYPE_* value")
	}
	if st := req.GetState(); st != 0 && !providers.Known(referralv1.ReferralState_name, st) {
		v.Add("state", "must be a REFERRAL_STATE_* value")
	}
	if err := v.Err(); err != nil {
		return p, err
	}
	who := caller(ctx)
	if steward(who) || (p.ReceivedBy != "" && p.ReceivedBy == who.Institution) || (p.SentBy != "" && p.SentBy == who.Institution) {
		return p, nil
	}
	return p, apierr.PermissionDenied("NOT_YOUR_REFERRALS",
		fmt.Sprintf("%s lists the referrals it received or sent (recipient or sender %s); every referral is the chair's and the secretariat's to list", who.Institution, who.Institution),
		map[string]string{"institution": who.Institution})
}

// filter is what a list keeps of the request's filters.
func filter(req *referralv1.ListReferralsRequest) func(referrals.Referral) bool {
	return func(r referrals.Referral) bool {
		switch {
		case req.GetState() != 0 && r.State != req.GetState().String():
			return false
		case req.GetServiceType() != 0 && r.ServiceType != req.GetServiceType().String():
			return false
		case req.GetProviderCode() != "" && r.ProviderCode != req.GetProviderCode():
			return false
		case req.GetOverdueOnly() && !r.Overdue:
			return false
		}
		return true
	}
}

// pendingOf returns the party's pending referrals kept by keep, soonest deadline first, from the
// offset at, and the offset of the next page (0: none). The pending referrals of the whole
// system are few (they wait days at most), so they are read whole.
func (s *Server) pendingOf(ctx context.Context, party referrals.Party, keep func(referrals.Referral) bool, at, size int) ([]referrals.Referral, int, error) {
	entries, err := s.Referrals.Pending(ctx)
	if err != nil {
		return nil, 0, err
	}
	var all []referrals.Referral
	for _, e := range entries {
		r, err := s.Referrals.Get(ctx, e.ID)
		if errors.Is(err, aggregate.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, 0, err
		}
		if r.State != referrals.Pending || !keep(r) ||
			(party.ReceivedBy != "" && r.ProviderCode != party.ReceivedBy) || (party.SentBy != "" && r.SenderInstitution != party.SentBy) {
			continue
		}
		all = append(all, r)
	}
	slices.SortFunc(all, func(a, b referrals.Referral) int {
		return cmp.Or(a.DueAt.Compare(b.DueAt), cmp.Compare(a.ID, b.ID))
	})
	if at >= len(all) {
		return nil, 0, nil
	}
	end := min(at+size, len(all))
	next := 0
	if end < len(all) {
		next = end
	}
	return all[at:end], next, nil
}
