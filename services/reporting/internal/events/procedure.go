package events

import (
	"log/slog"

	eventsv1 "github.com/nrm-albania/nrm/proto/nrm/events/v1"
	secretariatv1 "github.com/nrm-albania/nrm/proto/nrm/secretariat/v1"
	"github.com/nrm-albania/nrm/services/platform/consumer"
	"github.com/nrm-albania/nrm/services/reporting/internal/procedure"
)

// TypeRulesAdopted is the secretariat's event of a version of the rules of procedure.
const TypeRulesAdopted = "rules.adopted"

// RulesOfProcedure returns the handler of the consumer that keeps the reports' copy of the rules
// of procedure (package procedure) from the secretariat's rules.adopted events.
func RulesOfProcedure(rules Applier[procedure.Rules], log *slog.Logger) consumer.Handler {
	return activity(rules, log, rulesOf, procedure.Rules.Validate)
}

// rulesOf reads what a version of the rules of procedure tells the reports.
func rulesOf(env *eventsv1.Envelope) (procedure.Rules, bool, error) {
	if env.GetType() != TypeRulesAdopted {
		return procedure.Rules{}, false, nil
	}
	var ev secretariatv1.RulesAdopted
	if err := decode(env, &ev); err != nil {
		return procedure.Rules{}, false, err
	}
	r := ev.GetRules()
	return procedure.Rules{
		Version: r.GetVersion(), EffectiveFrom: r.GetEffectiveFrom(), AdoptedBy: r.GetAdoptedBy(),
		Members: ev.GetMembers(), ApprovalDays: r.GetReportApprovalDays(), Tacit: r.GetTacitReportApproval(),
	}, true, nil
}
