package events

import (
	"context"
	"log/slog"
	"reflect"
	"testing"

	secretariatv1 "github.com/nrm-albania/nrm/proto/nrm/secretariat/v1"
	"github.com/nrm-albania/nrm/services/platform/consumer"
	"github.com/nrm-albania/nrm/services/reporting/internal/procedure"
)

// The rules' consumer takes the secretariat's rules.adopted and nothing else of its stream; a
// version that can never be applied is a permanent error, for the dead letters.
func TestRulesOfProcedureReadsTheAdoptedVersions(t *testing.T) {
	adopted := func(change func(*secretariatv1.RulesAdopted)) *secretariatv1.RulesAdopted {
		e := &secretariatv1.RulesAdopted{Members: []string{"MB-DPAM", "KKSAT"}, Rules: &secretariatv1.RulesOfProcedure{
			Version: 2, EffectiveFrom: "2027-01-01", AdoptedBy: "decision MB-2026-12-R/3", QuorumMembers: 7,
			TacitReportApproval: true, ReportApprovalDays: 10}}
		if change != nil {
			change(e)
		}
		return e
	}
	for _, tc := range []struct {
		name      string
		typ       string
		payload   *secretariatv1.RulesAdopted
		want      []procedure.Rules
		permanent bool
	}{
		{"a version", TypeRulesAdopted, adopted(nil), []procedure.Rules{{Version: 2, EffectiveFrom: "2027-01-01",
			AdoptedBy: "decision MB-2026-12-R/3", Members: []string{"MB-DPAM", "KKSAT"}, ApprovalDays: 10, Tacit: true}}, false},
		{"a meeting's event of the same stream", "meeting.scheduled", nil, nil, false},
		{"no members", TypeRulesAdopted, adopted(func(e *secretariatv1.RulesAdopted) { e.Members = nil }), nil, true},
		{"a member twice", TypeRulesAdopted, adopted(func(e *secretariatv1.RulesAdopted) { e.Members = []string{"MAS", "MAS"} }), nil, true},
		{"no version", TypeRulesAdopted, adopted(func(e *secretariatv1.RulesAdopted) { e.Rules.Version = 0 }), nil, true},
		{"no date", TypeRulesAdopted, adopted(func(e *secretariatv1.RulesAdopted) { e.Rules.EffectiveFrom = "January" }), nil, true},
		{"no approval days", TypeRulesAdopted, adopted(func(e *secretariatv1.RulesAdopted) { e.Rules.ReportApprovalDays = 0 }), nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := envelopeOf(t, tc.typ, &secretariatv1.MeetingChanged{MeetingId: "m1"})
			if tc.payload != nil {
				env = envelopeOf(t, tc.typ, tc.payload)
			}
			rec := &applied[procedure.Rules]{}
			err := RulesOfProcedure(rec, slog.New(slog.DiscardHandler))(context.Background(), env)
			if consumer.IsPermanent(err) != tc.permanent || (err != nil && !tc.permanent) {
				t.Fatalf("error %v, want permanent %v", err, tc.permanent)
			}
			if !reflect.DeepEqual(rec.events, tc.want) {
				t.Errorf("applied %+v\nwant %+v", rec.events, tc.want)
			}
		})
	}
	// A payload of another type under the name is never decodable.
	err := RulesOfProcedure(&applied[procedure.Rules]{}, slog.New(slog.DiscardHandler))(context.Background(),
		envelopeOf(t, TypeRulesAdopted, &secretariatv1.MeetingChanged{MeetingId: "m1"}))
	if !consumer.IsPermanent(err) {
		t.Errorf("a MeetingChanged as rules.adopted: %v", err)
	}
}
