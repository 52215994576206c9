// Package server implements nrm.secretariat.v1.SecretariatService.
package server

import (
	"context"
	"errors"
	"time"

	secretariatv1 "github.com/nrm-albania/nrm/proto/nrm/secretariat/v1"
	"github.com/nrm-albania/nrm/services/platform/apierr"
	"github.com/nrm-albania/nrm/services/platform/mongodb"
	"github.com/nrm-albania/nrm/services/platform/pagination"
	"github.com/nrm-albania/nrm/services/secretariat/internal/members"
)

// Server serves the secretariat.
type Server struct {
	secretariatv1.UnimplementedSecretariatServiceServer
	store     *members.Store
	seeded    func() bool
	procedure Procedure
}

// New returns the service over st and p. seeded says whether the composition is in the store
// yet; until it is, a list would be missing members, so the service answers Unavailable instead.
func New(st *members.Store, seeded func() bool, p Procedure) *Server {
	if p.Now == nil {
		p.Now = time.Now
	}
	return &Server{store: st, seeded: seeded, procedure: p}
}

// ListMembers returns a page of members in code order; the first page also carries the invitee
// kinds, which are few and change rarely.
func (s *Server) ListMembers(ctx context.Context, req *secretariatv1.ListMembersRequest) (*secretariatv1.ListMembersResponse, error) {
	size, after, err := pagination.Parse(req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	if !s.seeded() {
		return nil, apierr.Unavailable("the Authority's composition is not loaded yet; retry shortly")
	}
	// One more than the page tells whether a next page exists without a second query.
	ms, err := s.store.List(ctx, after, size+1)
	if err != nil {
		return nil, storeError(ctx, err)
	}
	resp := &secretariatv1.ListMembersResponse{}
	if len(ms) > size {
		ms = ms[:size]
		resp.NextPageToken = pagination.Token(ms[size-1].Code)
	}
	resp.Members = membersToProto(ms)
	if after == "" {
		ks, err := s.store.InviteeKinds(ctx)
		if err != nil {
			return nil, storeError(ctx, err)
		}
		resp.InviteeKinds = inviteeKindsToProto(ks)
	}
	return resp, nil
}

// storeError turns a database that does not answer into Unavailable, unless the caller's own
// deadline or cancellation is the reason, which the server reports as such.
func storeError(ctx context.Context, err error) error {
	if ctx.Err() == nil && errors.Is(err, mongodb.ErrUnavailable) {
		return apierr.Unavailable("the member store is not answering; retry shortly")
	}
	return err
}
