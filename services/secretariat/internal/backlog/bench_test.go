package backlog_test

import (
	"fmt"
	"testing"

	caseregistryv1 "github.com/nrm-albania/nrm/proto/nrm/caseregistry/v1"
	eventsv1 "github.com/nrm-albania/nrm/proto/nrm/events/v1"
	"github.com/nrm-albania/nrm/services/platform/testenv"
	"github.com/nrm-albania/nrm/services/secretariat/internal/backlog"
)

// BenchmarkAgendaBacklog measures the backlog after 1,000 and 10,000 case events (registrations,
// all decided since but the first 50): reading it, as every agenda does, and applying a new
// registration and its decision. Both stay flat as the history grows: the backlog holds the open
// items only (its cost follows them, not the events), and each event is guarded by its case's
// own record, read by _id.
//
//	go test -run '^$' -bench AgendaBacklog -benchtime 50x ./services/secretariat/internal/backlog/
func BenchmarkAgendaBacklog(b *testing.B) {
	s := backlog.New(testenv.Database(b))
	applied, cases := 0, 0
	for _, events := range []int{1000, 10_000} {
		for applied < events {
			id, code := fmt.Sprintf("case-%06d", cases), fmt.Sprintf("VT-2026-%05d", cases)
			if err := deliver(s, registered(b, id, code, potential)); err != nil {
				b.Fatal(err)
			}
			applied++
			if cases >= openCases {
				if err := deliver(s, decided(b, id, code)); err != nil {
					b.Fatal(err)
				}
				applied++
			}
			cases++
		}
		testenv.IndexStore(b)
		b.Run(fmt.Sprintf("open/events=%d", events), func(b *testing.B) {
			for b.Loop() {
				if items := open(b, s); len(items) == 0 {
					b.Fatal("an empty backlog")
				}
			}
		})
		b.Run(fmt.Sprintf("apply/events=%d", events), func(b *testing.B) {
			n := 0
			for b.Loop() {
				id, code := fmt.Sprintf("bench-%d-%d", events, n), fmt.Sprintf("VT-2027-%05d", n)
				if err := deliver(s, registered(b, id, code, potential)); err != nil {
					b.Fatal(err)
				}
				if err := deliver(s, decided(b, id, code)); err != nil {
					b.Fatal(err)
				}
				n++
			}
		})
	}
}

// openCases are the cases left awaiting a decision, whatever the history's length.
const openCases = 50

func decided(t testing.TB, caseID, code string) *eventsv1.Envelope {
	return envelope(t, "case.status_decided", 2, &caseregistryv1.CaseStatusDecided{CaseId: caseID, CaseCode: code, Version: 2,
		Status: caseregistryv1.TraffickingStatus_TRAFFICKING_STATUS_VICTIM})
}
