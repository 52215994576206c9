package server

import (
	"context"
	"strings"

	caseregistryv1 "github.com/nrm-albania/nrm/proto/nrm/caseregistry/v1"
	"github.com/nrm-albania/nrm/services/caseregistry/internal/domain"
	"github.com/nrm-albania/nrm/services/caseregistry/internal/store"
)

// Types of the lifecycle's events.
const (
	EventStatusDecided = "case.status_decided"
	EventClosed        = "case.closed"
	EventReopened      = "case.reopened"
)

// DecideStatus records a decision on the trafficking status.
func (s *Server) DecideStatus(ctx context.Context, req *caseregistryv1.DecideStatusRequest) (*caseregistryv1.DecideStatusResponse, error) {
	expected, err := s.commandPreamble(ctx, req.GetId(), req.GetExpectedVersion())
	if err != nil {
		return nil, err
	}
	today, by, now := s.today(), s.institution(ctx), s.now().UTC()
	c, err := s.apply(ctx, req.GetId(), expected, func(c domain.Case) (outcome, error) {
		next, d, err := domain.DecideStatus(c, req, today, by, now)
		if err != nil {
			return outcome{}, err
		}
		return outcome{
			next: next,
			change: store.Change{Kind: caseregistryv1.ChangeKind_CHANGE_KIND_STATUS_DECIDED.String(),
				Fields: []string{"trafficking.status"}, Note: d.Basis},
			events: []event{{Type: EventStatusDecided, Payload: &caseregistryv1.CaseStatusDecided{
				CaseId: c.ID, CaseCode: c.Code, Version: c.Version + 1,
				PreviousStatus:   enum[caseregistryv1.TraffickingStatus](caseregistryv1.TraffickingStatus_value, c.Trafficking.Status),
				Status:           req.GetStatus(),
				DecidingBody:     req.GetDecidingBody(),
				DecisionDate:     d.Date,
				RegistrationDate: domain.Today(c.RegisteredAt),
				Revision:         d.Revision,
				Facts:            facts(next),
			}}},
		}, nil
	})
	if err != nil {
		return nil, err
	}
	return &caseregistryv1.DecideStatusResponse{Case: s.respond(ctx, c)}, nil
}

// CloseCase closes a case with a reason.
func (s *Server) CloseCase(ctx context.Context, req *caseregistryv1.CloseCaseRequest) (*caseregistryv1.CloseCaseResponse, error) {
	expected, err := s.commandPreamble(ctx, req.GetId(), req.GetExpectedVersion())
	if err != nil {
		return nil, err
	}
	today := s.today()
	c, err := s.apply(ctx, req.GetId(), expected, func(c domain.Case) (outcome, error) {
		next, err := domain.Close(c, req, today)
		if err != nil {
			return outcome{}, err
		}
		return outcome{
			next: next,
			change: store.Change{Kind: caseregistryv1.ChangeKind_CHANGE_KIND_CLOSED.String(),
				Fields: []string{"state", "closure"}, Note: closureNote(next)},
			events: []event{{Type: EventClosed, Payload: &caseregistryv1.CaseClosed{
				CaseId: c.ID, CaseCode: c.Code, Version: c.Version + 1, Reason: req.GetReason(),
				Date: next.Closure.Date, Facts: facts(next),
			}}},
		}, nil
	})
	if err != nil {
		return nil, err
	}
	return &caseregistryv1.CloseCaseResponse{Case: s.respond(ctx, c)}, nil
}

// closureNote is the history's note of a closure: the reason, and the explanation if any.
func closureNote(c domain.Case) string {
	return strings.TrimSpace(c.Closure.Reason + " " + c.Closure.Note)
}

// ReopenCase reopens a closed case.
func (s *Server) ReopenCase(ctx context.Context, req *caseregistryv1.ReopenCaseRequest) (*caseregistryv1.ReopenCaseResponse, error) {
	expected, err := s.commandPreamble(ctx, req.GetId(), req.GetExpectedVersion())
	if err != nil {
		return nil, err
	}
	c, err := s.apply(ctx, req.GetId(), expected, func(c domain.Case) (outcome, error) {
		next, err := domain.Reopen(c, req)
		if err != nil {
			return outcome{}, err
		}
		return outcome{
			next: next,
			change: store.Change{Kind: caseregistryv1.ChangeKind_CHANGE_KIND_REOPENED.String(),
				Fields: []string{"state", "closure"}, Note: strings.TrimSpace(req.GetReason().String() + " " + strings.TrimSpace(req.GetNote()))},
			events: []event{{Type: EventReopened, Payload: &caseregistryv1.CaseReopened{
				CaseId: c.ID, CaseCode: c.Code, Version: c.Version + 1, Reason: req.GetReason(), Facts: facts(next),
			}}},
		}, nil
	})
	if err != nil {
		return nil, err
	}
	return &caseregistryv1.ReopenCaseResponse{Case: s.respond(ctx, c)}, nil
}

// RecordConsent records a consent answer.
func (s *Server) RecordConsent(ctx context.Context, req *caseregistryv1.RecordConsentRequest) (*caseregistryv1.RecordConsentResponse, error) {
	expected, err := s.commandPreamble(ctx, req.GetId(), req.GetExpectedVersion())
	if err != nil {
		return nil, err
	}
	today, by, now := s.today(), s.institution(ctx), s.now().UTC()
	c, err := s.apply(ctx, req.GetId(), expected, func(c domain.Case) (outcome, error) {
		next, k, err := domain.RecordConsent(c, req, today, by, now)
		if err != nil {
			return outcome{}, err
		}
		field := "consents." + strings.ToLower(strings.TrimPrefix(k.Scope, "CONSENT_SCOPE_"))
		return outcome{
			next:   next,
			change: store.Change{Kind: caseregistryv1.ChangeKind_CHANGE_KIND_CONSENT_RECORDED.String(), Fields: []string{field}, Note: k.Decision},
			events: []event{{Type: EventUpdated, Payload: &caseregistryv1.CaseUpdated{
				CaseId: c.ID, CaseCode: c.Code, Version: c.Version + 1, Headings: []string{"consent"},
				Fields: []string{field}, Facts: facts(next), Consent: consentProto(k),
			}}},
		}, nil
	})
	if err != nil {
		return nil, err
	}
	return &caseregistryv1.RecordConsentResponse{Case: s.respond(ctx, c)}, nil
}

// commandPreamble checks a command's case id and reads the version it is based on.
func (s *Server) commandPreamble(ctx context.Context, id string, field int64) (int64, error) {
	if err := checkID(id); err != nil {
		return 0, err
	}
	return expectedVersion(ctx, field)
}
