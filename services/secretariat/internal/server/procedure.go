package server

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	secretariatv1 "github.com/nrm-albania/nrm/proto/nrm/secretariat/v1"
	"github.com/nrm-albania/nrm/services/platform/aggregate"
	"github.com/nrm-albania/nrm/services/platform/apierr"
	"github.com/nrm-albania/nrm/services/platform/workdays"
	"github.com/nrm-albania/nrm/services/secretariat/internal/representation"
	"github.com/nrm-albania/nrm/services/secretariat/internal/rules"
)

// Procedure is what the rules of procedure and the representations are kept in.
type Procedure struct {
	Rules           *rules.Store
	Representations *representation.Store
	// Members are the member institutions' codes.
	Members []string
	// Relay is woken after an adoption, to publish its event at once.
	Relay interface{ Notify() }
	Now   func() time.Time
}

// GetRulesOfProcedure returns the version in force on a day.
func (s *Server) GetRulesOfProcedure(ctx context.Context, req *secretariatv1.GetRulesOfProcedureRequest) (*secretariatv1.GetRulesOfProcedureResponse, error) {
	day := req.GetOn()
	if day == "" {
		day = s.procedure.Now().In(workdays.Tirana).Format(time.DateOnly)
	} else if _, err := time.Parse(time.DateOnly, day); err != nil {
		return nil, apierr.InvalidField("on", "must be a date YYYY-MM-DD")
	}
	r, err := s.procedure.Rules.On(ctx, day)
	if err != nil {
		return nil, err
	}
	return &secretariatv1.GetRulesOfProcedureResponse{Rules: r.Proto()}, nil
}

// ListRulesOfProcedure lists every version.
func (s *Server) ListRulesOfProcedure(ctx context.Context, _ *secretariatv1.ListRulesOfProcedureRequest) (*secretariatv1.ListRulesOfProcedureResponse, error) {
	all, err := s.procedure.Rules.All(ctx)
	if err != nil {
		return nil, err
	}
	resp := &secretariatv1.ListRulesOfProcedureResponse{Versions: []*secretariatv1.RulesOfProcedure{}}
	for _, r := range all {
		resp.Versions = append(resp.Versions, r.Proto())
	}
	return resp, nil
}

// AdoptRulesOfProcedure records a new version.
func (s *Server) AdoptRulesOfProcedure(ctx context.Context, req *secretariatv1.AdoptRulesOfProcedureRequest) (*secretariatv1.AdoptRulesOfProcedureResponse, error) {
	if req.GetRules() == nil {
		return nil, apierr.InvalidField("rules", "is required")
	}
	r, err := s.procedure.Rules.Adopt(ctx, rules.FromProto(req.GetRules()), s.procedure.Members, s.procedure.Now())
	if err != nil {
		return nil, err
	}
	s.procedure.Relay.Notify()
	return &secretariatv1.AdoptRulesOfProcedureResponse{Rules: r.Proto()}, nil
}

// ListRepresentations lists the members' representations, and the invitees' when asked.
func (s *Server) ListRepresentations(ctx context.Context, req *secretariatv1.ListRepresentationsRequest) (*secretariatv1.ListRepresentationsResponse, error) {
	all, err := s.procedure.Representations.All(ctx)
	if err != nil {
		return nil, err
	}
	resp := &secretariatv1.ListRepresentationsResponse{Representations: []*secretariatv1.Representation{}}
	for _, r := range all {
		if r.Member || req.GetIncludeInvitees() {
			resp.Representations = append(resp.Representations, r.Proto())
		}
	}
	return resp, nil
}

// institutionCode is what an invitee's code looks like: the members' style, e.g. PROKURORIA-TIRANE.
func institutionCode(s string) bool {
	if len(s) < 2 || len(s) > 40 {
		return false
	}
	return strings.Trim(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") == "" && s[0] != '-' && s[len(s)-1] != '-'
}

// SetRepresentation sets an institution's representative and substitute.
func (s *Server) SetRepresentation(ctx context.Context, req *secretariatv1.SetRepresentationRequest) (*secretariatv1.SetRepresentationResponse, error) {
	code := req.GetInstitution()
	if !institutionCode(code) {
		return nil, apierr.InvalidField("institution", "must be an institution code such as ASP-ANTITRAF or PROKURORIA-TIRANE")
	}
	if req.GetRepresentation() == nil {
		return nil, apierr.InvalidField("representation", "is required")
	}
	next := representation.FromProto(req.GetRepresentation())
	next.Institution, next.Member = code, slices.Contains(s.procedure.Members, code)
	if err := next.Validate("representation."); err != nil {
		return nil, err
	}
	expected, err := aggregate.ExpectedVersion(ctx, "expected_version", req.GetExpectedVersion())
	if err != nil {
		return nil, err
	}
	who := caller(ctx)
	now := s.procedure.Now().UTC().Truncate(time.Millisecond)
	change := aggregate.Change{Kind: "set"}
	var stored representation.Representation
	_, err = s.procedure.Representations.Get(ctx, code)
	switch {
	case errors.Is(err, aggregate.ErrNotFound) && expected == 0: // a new institution's
		next.Version, next.UpdatedAt = 1, now
		stored, err = s.procedure.Representations.Create(ctx, next, change.By(who.Institution, who.Subject, now), nil)
		if errors.Is(err, aggregate.ErrExists) {
			return nil, apierr.Aborted("VERSION_CONFLICT", "the representation was set at the same time by another caller; read it and retry",
				map[string]string{"institution": code})
		}
	case err == nil || errors.Is(err, aggregate.ErrNotFound): // Execute says NOT_FOUND for a version of none
		stored, _, err = s.procedure.Representations.Execute(ctx, aggregate.Command[representation.Representation, aggregate.Change]{
			ID: code, Expected: expected, At: now,
			Decide: func(cur representation.Representation) (aggregate.Outcome[representation.Representation, aggregate.Change], error) {
				next.Version = cur.Version
				return aggregate.Outcome[representation.Representation, aggregate.Change]{Next: next, Change: change}, nil
			},
		})
	}
	if err != nil {
		return nil, err
	}
	aggregate.SendETag(ctx, stored.Version)
	return &secretariatv1.SetRepresentationResponse{Representation: stored.Proto()}, nil
}
