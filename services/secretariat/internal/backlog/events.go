package backlog

import (
	"context"
	"fmt"
	"strings"

	"google.golang.org/protobuf/proto"

	caseregistryv1 "github.com/nrm-albania/nrm/proto/nrm/caseregistry/v1"
	eventsv1 "github.com/nrm-albania/nrm/proto/nrm/events/v1"
	referralv1 "github.com/nrm-albania/nrm/proto/nrm/referral/v1"
	reportingv1 "github.com/nrm-albania/nrm/proto/nrm/reporting/v1"
	"github.com/nrm-albania/nrm/services/platform/consumer"
)

// caseEvent is the payload of every case event the backlog follows.
type caseEvent interface {
	proto.Message
	GetCaseId() string
}

// CaseEvents handles the registry's case stream: a case registered, or reopened, as a potential
// victim (or without a status) opens its status item; a status decision, the case's closure and
// its merger into another case (CaseMerged names the duplicate, closed by it) close the item. The
// stream's other events carry other payloads and are let go undecoded.
func (s *Store) CaseEvents() consumer.Handler {
	return func(ctx context.Context, env *eventsv1.Envelope) error {
		var e caseEvent
		switch env.GetType() {
		case "case.registered":
			e = new(caseregistryv1.CaseRegistered)
		case "case.status_decided":
			e = new(caseregistryv1.CaseStatusDecided)
		case "case.closed":
			e = new(caseregistryv1.CaseClosed)
		case "case.merged":
			e = new(caseregistryv1.CaseMerged)
		case "case.reopened":
			e = new(caseregistryv1.CaseReopened)
		default:
			return nil
		}
		if err := env.GetPayload().UnmarshalTo(e); err != nil {
			return malformed(env, err)
		}
		key := "status/" + e.GetCaseId()
		c := change{Version: env.GetAggregateVersion()}
		pending := func(code, title string) *Item {
			return &Item{Key: key, Kind: KindStatusDecision, Title: title + code, CaseCodes: []string{code},
				Since: env.GetOccurredAt().AsTime(), Version: c.Version}
		}
		switch e := e.(type) {
		case *caseregistryv1.CaseRegistered:
			if decided(e.GetStatus()) {
				return nil // decided at registration: nothing waits
			}
			c.Open = pending(e.GetCaseCode(), "Status decision pending: ")
		case *caseregistryv1.CaseReopened:
			if decided(e.GetFacts().GetStatus()) {
				return nil // reopened for assistance, its status stands
			}
			c.Open = pending(e.GetCaseCode(), "Status decision pending (case reopened): ")
		}
		return s.handle(ctx, env, e.GetCaseId(), key, c)
	}
}

// decided reports whether a status is a decision: victim or not a victim.
func decided(st caseregistryv1.TraffickingStatus) bool {
	return st == caseregistryv1.TraffickingStatus_TRAFFICKING_STATUS_VICTIM || st == caseregistryv1.TraffickingStatus_TRAFFICKING_STATUS_NOT_A_VICTIM
}

// ReferralEvents handles the referral stream: a referral that goes overdue, is declined or
// expires opens (or updates) its follow-up; one accepted, completed, cancelled or withdrawn
// closes it. The stream's other events (providers', services delivered, …) are let go undecoded.
func (s *Store) ReferralEvents() consumer.Handler {
	return func(ctx context.Context, env *eventsv1.Envelope) error {
		var opens bool
		switch env.GetType() {
		case "referral.overdue", "referral.declined", "referral.expired":
			opens = true
		case "referral.accepted", "referral.completed", "referral.cancelled", "referral.withdrawn":
		default:
			return nil
		}
		var r referralv1.ReferralChanged
		if err := env.GetPayload().UnmarshalTo(&r); err != nil {
			return malformed(env, err)
		}
		key := "referral/" + r.GetReferralId()
		c := change{Version: env.GetAggregateVersion()}
		if opens {
			what := strings.TrimPrefix(env.GetType(), "referral.")
			c.Open = &Item{
				Key: key, Kind: KindReferralFollowUp,
				Title: fmt.Sprintf("Referral %s: %s (case %s, %s to %s)", what, r.GetReferralId(), r.GetCaseCode(),
					r.GetServiceType(), r.GetProviderCode()),
				CaseCodes: []string{r.GetCaseCode()}, ReferralIDs: []string{r.GetReferralId()},
				Since: env.GetOccurredAt().AsTime(), Version: c.Version,
			}
		}
		return s.handle(ctx, env, r.GetReferralId(), key, c)
	}
}

// ReportEvents handles the reports' stream. A report circulated for approval opens its item,
// which its next draft, its return, its final approval or its submission closes; approvals short
// of all leave it open. A member's month announced missing opens an item its submission closes
// (both are changes of the member's submission for the month, so their versions order them). The
// stream's other events are let go undecoded.
func (s *Store) ReportEvents() consumer.Handler {
	return func(ctx context.Context, env *eventsv1.Envelope) error {
		switch env.GetType() {
		case "report.circulated", "report.drafted", "report.returned", "report.final", "report.submitted":
			return s.reportApproval(ctx, env)
		case "report.data_missing":
			var d reportingv1.DataMissing
			if err := env.GetPayload().UnmarshalTo(&d); err != nil {
				return malformed(env, err)
			}
			key := dataKey(d.GetMember(), d.GetPeriod())
			c := change{Version: env.GetAggregateVersion(), Open: &Item{Key: key, Kind: KindDataMissing,
				Title: "Data of " + d.GetPeriod() + " not reported: " + d.GetMember(), Institution: d.GetMember(),
				Since: env.GetOccurredAt().AsTime(), Version: env.GetAggregateVersion()}}
			return s.handle(ctx, env, d.GetMember(), key, c)
		case "report.data_submitted":
			var d reportingv1.DataSubmitted
			if err := env.GetPayload().UnmarshalTo(&d); err != nil {
				return malformed(env, err)
			}
			return s.handle(ctx, env, d.GetMember(), dataKey(d.GetMember(), d.GetPeriod()), change{Version: env.GetAggregateVersion()})
		}
		return nil
	}
}

func dataKey(member, period string) string { return "data/" + member + "/" + period }

func (s *Store) reportApproval(ctx context.Context, env *eventsv1.Envelope) error {
	var r reportingv1.ReportChanged
	if err := env.GetPayload().UnmarshalTo(&r); err != nil {
		return malformed(env, err)
	}
	key := "report/" + r.GetReportId()
	c := change{Version: env.GetAggregateVersion()}
	if env.GetType() == "report.circulated" {
		c.Open = &Item{Key: key, Kind: KindReportApproval, Title: "Report " + r.GetPeriod() + " awaiting the members' approval",
			ReportIDs: []string{r.GetReportId()}, Since: env.GetOccurredAt().AsTime(), Version: c.Version}
	}
	return s.handle(ctx, env, r.GetReportId(), key, c)
}

// handle applies to key the change c that env makes to the case or referral id. The version is
// the envelope's, by which consumers order an aggregate's events (CaseRegistered carries none of
// its own; a registration is version 1). Without an id or a version the event could be applied to
// nothing, or never, whatever the redeliveries.
func (s *Store) handle(ctx context.Context, env *eventsv1.Envelope, id, key string, c change) error {
	if id == "" || c.Version < 1 {
		return malformed(env, fmt.Errorf("no id (%q) or no version (%d)", id, c.Version))
	}
	if err := s.apply(ctx, key, c); err != nil {
		return fmt.Errorf("%s %s: %w", env.GetType(), env.GetId(), err)
	}
	return nil
}

// malformed is the dead-lettering error of an event the backlog follows but cannot read.
func malformed(env *eventsv1.Envelope, err error) error {
	return consumer.Permanent(fmt.Errorf("%s %s: %w", env.GetType(), env.GetId(), err))
}
