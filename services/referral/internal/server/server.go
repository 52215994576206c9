// Package server implements nrm.referral.v1.ReferralService.
package server

import (
	"context"
	"log/slog"
	"slices"
	"time"

	referralv1 "github.com/nrm-albania/nrm/proto/nrm/referral/v1"
	"github.com/nrm-albania/nrm/services/platform/apierr"
	"github.com/nrm-albania/nrm/services/platform/pagination"
	"github.com/nrm-albania/nrm/services/platform/piicrypto"
	"github.com/nrm-albania/nrm/services/referral/internal/cases"
	"github.com/nrm-albania/nrm/services/referral/internal/catalogue"
	"github.com/nrm-albania/nrm/services/referral/internal/deadlines"
	"github.com/nrm-albania/nrm/services/referral/internal/providers"
	"github.com/nrm-albania/nrm/services/referral/internal/referrals"
)

// Server serves referrals: the service catalogue, the providers' directory and the referrals.
type Server struct {
	referralv1.UnimplementedReferralServiceServer
	Deps
	now func() time.Time
}

// Deps are what the service works with.
type Deps struct {
	Providers *providers.Store
	Referrals *referrals.Store
	// Cases is the case registry, asked on the caller's behalf.
	Cases cases.Registry
	// Keys seal the referrals' free text; Index keys the fingerprints of retried requests.
	Keys  *piicrypto.MasterKeys
	Index *piicrypto.IndexKey
	// Deadlines say when recipients must answer; a pending referral expires Grace after.
	Deadlines deadlines.Policy
	Grace     time.Duration
	// Relay is woken after every commit, to publish its events at once.
	Relay interface{ Notify() }
	Log   *slog.Logger
}

// New returns the service.
func New(d Deps) *Server { return &Server{Deps: d, now: time.Now} }

// stamp is the time of a change, as the store keeps it (milliseconds, UTC).
func (s *Server) stamp() time.Time { return s.now().UTC().Truncate(time.Millisecond) }

// ListServiceTypes returns a page of the service catalogue in enum order; the page token carries
// the code of the last entry returned.
func (s *Server) ListServiceTypes(_ context.Context, req *referralv1.ListServiceTypesRequest) (*referralv1.ListServiceTypesResponse, error) {
	size, after, err := pagination.Parse(req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	all := catalogue.All()
	start := 0
	if after != "" {
		// Codes are as permanent as the enum, so a well-formed token with an unknown code was
		// never issued by this API.
		i := slices.IndexFunc(all, func(e catalogue.Entry) bool { return e.Code == after })
		if i < 0 {
			return nil, apierr.InvalidField("page_token", "is not a token returned by this API")
		}
		start = i + 1
	}
	end := min(start+size, len(all))
	resp := &referralv1.ListServiceTypesResponse{ServiceTypes: toProto(all[start:end])}
	if end < len(all) {
		resp.NextPageToken = pagination.Token(all[end-1].Code)
	}
	return resp, nil
}

func toProto(es []catalogue.Entry) []*referralv1.ServiceTypeInfo {
	out := make([]*referralv1.ServiceTypeInfo, len(es))
	for i, e := range es {
		out[i] = &referralv1.ServiceTypeInfo{
			Type: e.Type, Code: e.Code, Name: e.Name, Description: e.Description, ChildrenOnly: e.ChildrenOnly,
		}
	}
	return out
}
