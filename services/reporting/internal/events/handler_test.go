package events

import (
	"context"
	"errors"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/timestamppb"

	caseregistryv1 "github.com/nrm-albania/nrm/proto/nrm/caseregistry/v1"
	eventsv1 "github.com/nrm-albania/nrm/proto/nrm/events/v1"
	"github.com/nrm-albania/nrm/services/platform/consumer"
	"github.com/nrm-albania/nrm/services/platform/testenv"
	"github.com/nrm-albania/nrm/services/reporting/internal/projection"
)

// recorder is a CaseProjection that remembers what it was given.
type recorder struct {
	events []projection.Event
	err    error
}

func (r *recorder) Apply(_ context.Context, e projection.Event) (bool, error) {
	r.events = append(r.events, e)
	return r.err == nil, r.err
}

var occurred = time.Date(2025, 3, 10, 9, 30, 0, 0, time.UTC)

func registered() *caseregistryv1.CaseRegistered {
	return &caseregistryv1.CaseRegistered{
		CaseId:                 "case-1",
		Sex:                    caseregistryv1.Sex_SEX_FEMALE,
		AgeBand:                caseregistryv1.AgeBand_AGE_BAND_CHILD,
		Citizenships:           []string{"AL", "XK"},
		ExploitationTypes:      []caseregistryv1.ExploitationType{caseregistryv1.ExploitationType_EXPLOITATION_TYPE_SEXUAL, caseregistryv1.ExploitationType_EXPLOITATION_TYPE_FORCED_BEGGING},
		Status:                 caseregistryv1.TraffickingStatus_TRAFFICKING_STATUS_POTENTIAL_VICTIM,
		IdentifyingInstitution: "ASP-ANTITRAF",
		IdentificationDate:     "2025-03-09",
		Scope:                  caseregistryv1.TraffickingScope_TRAFFICKING_SCOPE_TRANSNATIONAL,
		ResidencePrefecture:    caseregistryv1.Prefecture_PREFECTURE_TIRANE,
	}
}

// facts are the registered case's facts, with change applied.
func facts(change func(*caseregistryv1.CaseFacts)) *caseregistryv1.CaseFacts {
	r := registered()
	f := &caseregistryv1.CaseFacts{
		Sex: r.GetSex(), AgeBand: r.GetAgeBand(), Citizenships: r.GetCitizenships(),
		ExploitationTypes: r.GetExploitationTypes(), Status: r.GetStatus(),
		State: caseregistryv1.CaseState_CASE_STATE_OPEN, IdentifyingInstitution: r.GetIdentifyingInstitution(),
		IdentificationDate: r.GetIdentificationDate(), Scope: r.GetScope(), ResidencePrefecture: r.GetResidencePrefecture(),
	}
	change(f)
	return f
}

// wantFacts are the registered case's facts as the projection counts them.
var wantFacts = projection.Facts{
	Day: "2025-03-09", Sex: "SEX_FEMALE", AgeBand: "AGE_BAND_CHILD",
	ExploitationTypes:      []string{"EXPLOITATION_TYPE_SEXUAL", "EXPLOITATION_TYPE_FORCED_BEGGING"},
	Citizenships:           []string{"AL", "XK"},
	Status:                 "TRAFFICKING_STATUS_POTENTIAL_VICTIM",
	State:                  "CASE_STATE_OPEN",
	IdentifyingInstitution: "ASP-ANTITRAF",
	Prefecture:             "PREFECTURE_TIRANE",
	Scope:                  "TRAFFICKING_SCOPE_TRANSNATIONAL",
}

func envelope(t *testing.T, typ string, version int64, payload proto.Message) *eventsv1.Envelope {
	t.Helper()
	env := &eventsv1.Envelope{Id: "ev-1", Type: typ, AggregateId: "case-1", AggregateVersion: version, OccurredAt: timestamppb.New(occurred)}
	if payload != nil {
		a, err := anypb.New(payload)
		if err != nil {
			t.Fatal(err)
		}
		env.Payload = a
	}
	return env
}

// Every case event that moves a figure reaches the projection with the case's facts after it.
func TestCaseStatisticsReadsEveryCaseEvent(t *testing.T) {
	victim := facts(func(f *caseregistryv1.CaseFacts) {
		f.Status = caseregistryv1.TraffickingStatus_TRAFFICKING_STATUS_VICTIM
	})
	closed := facts(func(f *caseregistryv1.CaseFacts) { f.State = caseregistryv1.CaseState_CASE_STATE_CLOSED })
	with := func(change func(*projection.Facts)) projection.Facts {
		f := wantFacts
		change(&f)
		return f
	}
	for _, tc := range []struct {
		name string
		env  *eventsv1.Envelope
		want projection.Event
	}{
		{"registered", envelope(t, TypeCaseRegistered, 1, registered()),
			projection.Event{Facts: wantFacts}},
		{"updated", envelope(t, TypeCaseUpdated, 2, &caseregistryv1.CaseUpdated{Facts: facts(func(f *caseregistryv1.CaseFacts) { f.Sex = caseregistryv1.Sex_SEX_MALE })}),
			projection.Event{Facts: with(func(f *projection.Facts) { f.Sex = "SEX_MALE" })}},
		{"status decided", envelope(t, TypeCaseStatusDecided, 2, &caseregistryv1.CaseStatusDecided{Facts: victim}),
			projection.Event{Facts: with(func(f *projection.Facts) { f.Status = "TRAFFICKING_STATUS_VICTIM" })}},
		{"closed", envelope(t, TypeCaseClosed, 2, &caseregistryv1.CaseClosed{Facts: closed}),
			projection.Event{Facts: with(func(f *projection.Facts) { f.State = "CASE_STATE_CLOSED" })}},
		{"reopened", envelope(t, TypeCaseReopened, 2, &caseregistryv1.CaseReopened{Facts: facts(func(f *caseregistryv1.CaseFacts) { f.State = caseregistryv1.CaseState_CASE_STATE_REOPENED })}),
			projection.Event{Facts: with(func(f *projection.Facts) { f.State = "CASE_STATE_REOPENED" })}},
		{"merged", envelope(t, TypeCaseMerged, 2, &caseregistryv1.CaseMerged{SurvivorId: "case-2", Facts: closed}),
			projection.Event{Merged: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{}
			if err := CaseStatistics(rec, slog.New(slog.DiscardHandler))(context.Background(), tc.env); err != nil {
				t.Fatal(err)
			}
			want := tc.want
			want.CaseID, want.Version, want.OccurredAt = "case-1", tc.env.GetAggregateVersion(), occurred
			if len(rec.events) != 1 || !reflect.DeepEqual(rec.events[0], want) {
				t.Errorf("applied %+v\nwant %+v", rec.events, want)
			}
		})
	}
}

func TestCaseStatisticsRejectsOrSkips(t *testing.T) {
	wrongPayload := envelope(t, TypeCaseRegistered, 1, timestamppb.New(occurred))
	withDate := func(d string) *eventsv1.Envelope {
		ev := registered()
		ev.IdentificationDate = d
		return envelope(t, TypeCaseRegistered, 1, ev)
	}
	noAggregate := envelope(t, TypeCaseRegistered, 1, registered())
	noAggregate.AggregateId = ""

	for _, tc := range []struct {
		name      string
		env       *eventsv1.Envelope
		permanent bool   // else acknowledged and skipped
		why       string // part of the permanent error
	}{
		{"unknown event type", envelope(t, "case.access_granted", 2, registered()), false, ""},
		{"identity erased", envelope(t, TypeCaseIdentityErased, 2, &caseregistryv1.CaseIdentityErased{CaseId: "case-1"}), false, ""},
		{"no type", &eventsv1.Envelope{Id: "ev-1"}, false, ""},
		{"no payload", envelope(t, TypeCaseRegistered, 1, nil), true, "payload"},
		{"payload of another type", wrongPayload, true, "payload"},
		{"an update of another type", envelope(t, TypeCaseUpdated, 2, registered()), true, "CaseUpdated"},
		{"an update without facts", envelope(t, TypeCaseUpdated, 2, &caseregistryv1.CaseUpdated{}), true, "identification_date"},
		{"no identification date", withDate(""), true, "identification_date"},
		{"invalid identification date", withDate("2025-02-30"), true, "identification_date"},
		{"no aggregate id", noAggregate, true, "case id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{}
			err := CaseStatistics(rec, slog.New(slog.DiscardHandler))(context.Background(), tc.env)
			if !tc.permanent {
				if err != nil || len(rec.events) != 0 {
					t.Errorf("got %v and %d events applied; want it skipped", err, len(rec.events))
				}
				return
			}
			if !consumer.IsPermanent(err) || !strings.Contains(err.Error(), tc.why) {
				t.Errorf("got %v; want a permanent error about %s", err, tc.why)
			}
			if len(rec.events) != 0 {
				t.Errorf("an invalid event reached the projection: %+v", rec.events)
			}
		})
	}
}

// An erasure destroys the identity, not the pseudonymous facts: the figures stay as they were,
// through the real projection.
func TestCaseStatisticsErasureChangesNoFigure(t *testing.T) {
	t.Parallel()
	p := projection.New(testenv.Database(t))
	h := CaseStatistics(p, slog.New(slog.DiscardHandler))
	ctx := context.Background()
	if err := h(ctx, envelope(t, TypeCaseRegistered, 1, registered())); err != nil {
		t.Fatal(err)
	}
	before, err := p.Statistics(ctx, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := h(ctx, envelope(t, TypeCaseIdentityErased, 2, &caseregistryv1.CaseIdentityErased{CaseId: "case-1"})); err != nil {
		t.Fatal(err)
	}
	after, err := p.Statistics(ctx, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if after.Total != 1 || !reflect.DeepEqual(after.Counts, before.Counts) {
		t.Errorf("after an erasure: %+v\nbefore: %+v", after.Counts, before.Counts)
	}
}

// A failing store is worth a redelivery: the error must not be permanent.
func TestCaseStatisticsStoreFailureIsRetried(t *testing.T) {
	rec := &recorder{err: errors.New("database unavailable")}
	err := CaseStatistics(rec, slog.New(slog.DiscardHandler))(context.Background(), envelope(t, TypeCaseRegistered, 1, registered()))
	if err == nil || consumer.IsPermanent(err) {
		t.Errorf("got %v; want a retryable error", err)
	}
}
