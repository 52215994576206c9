package events

import (
	"context"
	"errors"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/timestamppb"

	caseregistryv1 "github.com/nrm-albania/nrm/proto/nrm/caseregistry/v1"
	eventsv1 "github.com/nrm-albania/nrm/proto/nrm/events/v1"
	"github.com/nrm-albania/nrm/services/platform/consumer"
	"github.com/nrm-albania/nrm/services/reporting/internal/projection"
)

// recorder is a CaseCounter that remembers what it was given.
type recorder struct {
	cases []projection.Case
	err   error
}

func (r *recorder) Apply(_ context.Context, c projection.Case) (bool, error) {
	r.cases = append(r.cases, c)
	return r.err == nil, r.err
}

// isPermanent tells whether err is what consumer.Permanent returns: the consumer offers no
// predicate, so the dynamic types are compared.
func isPermanent(err error) bool {
	return reflect.TypeOf(err) == reflect.TypeOf(consumer.Permanent(errors.New("")))
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
	}
}

func envelope(t *testing.T, typ string, payload *caseregistryv1.CaseRegistered) *eventsv1.Envelope {
	t.Helper()
	env := &eventsv1.Envelope{Id: "ev-1", Type: typ, AggregateId: "case-1", AggregateVersion: 1, OccurredAt: timestamppb.New(occurred)}
	if payload != nil {
		a, err := anypb.New(payload)
		if err != nil {
			t.Fatal(err)
		}
		env.Payload = a
	}
	return env
}

func TestCaseStatisticsCountsRegisteredCase(t *testing.T) {
	rec := &recorder{}
	h := CaseStatistics(rec, slog.New(slog.DiscardHandler))
	if err := h(context.Background(), envelope(t, TypeCaseRegistered, registered())); err != nil {
		t.Fatal(err)
	}
	want := projection.Case{
		AggregateID: "case-1", AggregateVersion: 1, Day: "2025-03-09",
		Sex: "SEX_FEMALE", AgeBand: "AGE_BAND_CHILD",
		ExploitationTypes:      []string{"EXPLOITATION_TYPE_SEXUAL", "EXPLOITATION_TYPE_FORCED_BEGGING"},
		Citizenships:           []string{"AL", "XK"},
		IdentifyingInstitution: "ASP-ANTITRAF",
		OccurredAt:             occurred,
	}
	if len(rec.cases) != 1 || !reflect.DeepEqual(rec.cases[0], want) {
		t.Errorf("applied %+v\nwant %+v", rec.cases, want)
	}
}

func TestCaseStatisticsRejectsOrSkips(t *testing.T) {
	wrongPayload := envelope(t, TypeCaseRegistered, nil)
	wrongPayload.Payload, _ = anypb.New(timestamppb.New(occurred))
	withDate := func(d string) *eventsv1.Envelope {
		ev := registered()
		ev.IdentificationDate = d
		return envelope(t, TypeCaseRegistered, ev)
	}
	noAggregate := envelope(t, TypeCaseRegistered, registered())
	noAggregate.AggregateId = ""

	for _, tc := range []struct {
		name      string
		env       *eventsv1.Envelope
		permanent bool   // else acknowledged and skipped
		why       string // part of the permanent error
	}{
		{"unknown event type", envelope(t, "case.closed", registered()), false, ""},
		{"no type", &eventsv1.Envelope{Id: "ev-1"}, false, ""},
		{"no payload", envelope(t, TypeCaseRegistered, nil), true, "payload"},
		{"payload of another type", wrongPayload, true, "payload"},
		{"no identification date", withDate(""), true, "identification_date"},
		{"invalid identification date", withDate("2025-02-30"), true, "identification_date"},
		{"no aggregate id", noAggregate, true, "aggregate id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{}
			err := CaseStatistics(rec, slog.New(slog.DiscardHandler))(context.Background(), tc.env)
			if !tc.permanent {
				if err != nil || len(rec.cases) != 0 {
					t.Errorf("got %v and %d cases applied; want it skipped", err, len(rec.cases))
				}
				return
			}
			if !isPermanent(err) || !strings.Contains(err.Error(), tc.why) {
				t.Errorf("got %v; want a permanent error about %s", err, tc.why)
			}
			if len(rec.cases) != 0 {
				t.Errorf("an invalid event reached the projection: %+v", rec.cases)
			}
		})
	}
}

// A failing store is worth a redelivery: the error must not be permanent.
func TestCaseStatisticsStoreFailureIsRetried(t *testing.T) {
	rec := &recorder{err: errors.New("database unavailable")}
	err := CaseStatistics(rec, slog.New(slog.DiscardHandler))(context.Background(), envelope(t, TypeCaseRegistered, registered()))
	if err == nil || isPermanent(err) {
		t.Errorf("got %v; want a retryable error", err)
	}
}
