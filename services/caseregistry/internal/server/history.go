package server

import (
	"context"

	"google.golang.org/protobuf/types/known/timestamppb"

	caseregistryv1 "github.com/nrm-albania/nrm/proto/nrm/caseregistry/v1"
	"github.com/nrm-albania/nrm/services/platform/pagination"
)

// ListCaseHistory lists a case's changes, oldest first; the page token carries the last version
// returned.
func (s *Server) ListCaseHistory(ctx context.Context, req *caseregistryv1.ListCaseHistoryRequest) (*caseregistryv1.ListCaseHistoryResponse, error) {
	if err := checkID(req.GetId()); err != nil {
		return nil, err
	}
	size, after, err := pagination.ParsePosition(req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	if _, err := s.existingCase(ctx, req.GetId()); err != nil {
		return nil, err
	}
	revs, err := s.store.History(ctx, req.GetId(), after, size+1)
	if err != nil {
		return nil, err
	}
	out := &caseregistryv1.ListCaseHistoryResponse{}
	if len(revs) > size {
		revs = revs[:size]
		out.NextPageToken = pagination.PositionToken(revs[size-1].Version)
	}
	for _, r := range revs {
		out.Entries = append(out.Entries, &caseregistryv1.HistoryEntry{
			Version:       r.Version,
			Kind:          enum[caseregistryv1.ChangeKind](caseregistryv1.ChangeKind_value, r.Change.Kind),
			Fields:        r.Change.Fields,
			Institution:   r.Change.Institution,
			Subject:       r.Change.Subject,
			At:            timestamppb.New(r.Change.At),
			Note:          r.Change.Note,
			RelatedCaseId: r.Change.RelatedCaseID,
		})
	}
	return out, nil
}
