package backlog_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/timestamppb"

	caseregistryv1 "github.com/nrm-albania/nrm/proto/nrm/caseregistry/v1"
	eventsv1 "github.com/nrm-albania/nrm/proto/nrm/events/v1"
	referralv1 "github.com/nrm-albania/nrm/proto/nrm/referral/v1"
	reportingv1 "github.com/nrm-albania/nrm/proto/nrm/reporting/v1"
	"github.com/nrm-albania/nrm/services/platform/consumer"
	"github.com/nrm-albania/nrm/services/platform/testenv"
	"github.com/nrm-albania/nrm/services/secretariat/internal/backlog"
)

// t0 is when the first event of every test happened; event n happened n hours later.
var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// envelope is the event typ of version version of its aggregate, carrying payload.
func envelope(t testing.TB, typ string, version int64, payload proto.Message) *eventsv1.Envelope {
	t.Helper()
	a, err := anypb.New(payload)
	if err != nil {
		t.Fatal(err)
	}
	return withPayload(typ, version, a)
}

// withPayload is the event typ of version version carrying a, however malformed.
func withPayload(typ string, version int64, a *anypb.Any) *eventsv1.Envelope {
	return &eventsv1.Envelope{
		Id: fmt.Sprintf("%s@%d", typ, version), Type: typ, AggregateVersion: version,
		OccurredAt: timestamppb.New(t0.Add(time.Duration(version) * time.Hour)), Payload: a,
	}
}

const (
	potential = caseregistryv1.TraffickingStatus_TRAFFICKING_STATUS_POTENTIAL_VICTIM
	victim    = caseregistryv1.TraffickingStatus_TRAFFICKING_STATUS_VICTIM
)

func registered(t testing.TB, caseID, code string, status caseregistryv1.TraffickingStatus) *eventsv1.Envelope {
	t.Helper()
	return envelope(t, "case.registered", 1, &caseregistryv1.CaseRegistered{CaseId: caseID, CaseCode: code, Status: status})
}

func referral(t *testing.T, typ, id string, version int64) *eventsv1.Envelope {
	t.Helper()
	return envelope(t, typ, version, &referralv1.ReferralChanged{
		ReferralId: id, Version: version, CaseId: "c1", CaseCode: "VT-2026-00012",
		ServiceType: referralv1.ServiceType_SERVICE_TYPE_SHELTER, ProviderCode: "KKSAT",
	})
}

// deliver hands env to the handler of its stream, as the service's consumers do.
func deliver(s *backlog.Store, env *eventsv1.Envelope) error {
	switch {
	case strings.HasPrefix(env.GetType(), "case."):
		return s.CaseEvents()(context.Background(), env)
	case strings.HasPrefix(env.GetType(), "report."):
		return s.ReportEvents()(context.Background(), env)
	}
	return s.ReferralEvents()(context.Background(), env)
}

func open(t testing.TB, s *backlog.Store) []backlog.Item {
	t.Helper()
	items, err := s.Open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return items
}

func statusItem(caseID, code string) backlog.Item {
	return backlog.Item{Key: "status/" + caseID, Kind: backlog.KindStatusDecision, Title: "Status decision pending: " + code,
		CaseCodes: []string{code}, Since: t0.Add(time.Hour), Version: 1}
}

func followUp(what, id string, version int64) backlog.Item {
	return backlog.Item{Key: "referral/" + id, Kind: backlog.KindReferralFollowUp,
		Title:     fmt.Sprintf("Referral %s: %s (case VT-2026-00012, SERVICE_TYPE_SHELTER to KKSAT)", what, id),
		CaseCodes: []string{"VT-2026-00012"}, ReferralIDs: []string{id}, Since: t0.Add(time.Duration(version) * time.Hour),
		Version: version}
}

func TestEventsKeepTheBacklog(t *testing.T) {
	t.Parallel()
	reg := registered(t, "c1", "VT-2026-00012", potential)
	decided := envelope(t, "case.status_decided", 3, &caseregistryv1.CaseStatusDecided{CaseId: "c1", Version: 3, Status: victim})
	closed := envelope(t, "case.closed", 2, &caseregistryv1.CaseClosed{CaseId: "c1", Version: 2})
	merged := envelope(t, "case.merged", 2, &caseregistryv1.CaseMerged{CaseId: "c1", Version: 2, SurvivorId: "c2"})
	reopened := envelope(t, "case.reopened", 3, &caseregistryv1.CaseReopened{CaseId: "c1", CaseCode: "VT-2026-00012", Version: 3,
		Facts: &caseregistryv1.CaseFacts{Status: potential}})
	reopenedVictim := envelope(t, "case.reopened", 4, &caseregistryv1.CaseReopened{CaseId: "c1", CaseCode: "VT-2026-00012", Version: 4,
		Facts: &caseregistryv1.CaseFacts{Status: victim}})
	waitingAgain := backlog.Item{Key: "status/c1", Kind: backlog.KindStatusDecision, Title: "Status decision pending (case reopened): VT-2026-00012",
		CaseCodes: []string{"VT-2026-00012"}, Since: t0.Add(3 * time.Hour), Version: 3}
	overdue, accepted := referral(t, "referral.overdue", "r1", 2), referral(t, "referral.accepted", "r1", 3)
	expired := referral(t, "referral.expired", "r1", 3)
	report := func(typ string, version int64) *eventsv1.Envelope {
		return envelope(t, typ, version, &reportingv1.ReportChanged{ReportId: "2026-11", Version: version, Period: "2026-11"})
	}
	missing := func(version int64) *eventsv1.Envelope {
		return envelope(t, "report.data_missing", version, &reportingv1.DataMissing{Member: "AKPA", Period: "2026-11"})
	}
	submitted := func(version int64) *eventsv1.Envelope {
		return envelope(t, "report.data_submitted", version, &reportingv1.DataSubmitted{Member: "AKPA", Period: "2026-11"})
	}
	notReported := func(version int64) backlog.Item {
		return backlog.Item{Key: "data/AKPA/2026-11", Kind: backlog.KindDataMissing, Title: "Data of 2026-11 not reported: AKPA",
			Institution: "AKPA", Since: t0.Add(time.Duration(version) * time.Hour), Version: version}
	}
	awaiting := func(version int64) backlog.Item {
		return backlog.Item{Key: "report/2026-11", Kind: backlog.KindReportApproval, Title: "Report 2026-11 awaiting the members' approval",
			ReportIDs: []string{"2026-11"}, Since: t0.Add(time.Duration(version) * time.Hour), Version: version}
	}

	tests := []struct {
		name   string
		events []*eventsv1.Envelope
		want   []backlog.Item
	}{
		{"registered as a potential victim", []*eventsv1.Envelope{reg}, []backlog.Item{statusItem("c1", "VT-2026-00012")}},
		{"registered without a status", []*eventsv1.Envelope{registered(t, "c1", "VT-2026-00012", 0)},
			[]backlog.Item{statusItem("c1", "VT-2026-00012")}},
		{"registered as a victim", []*eventsv1.Envelope{registered(t, "c1", "VT-2026-00012", victim)}, nil},
		{"registered twice", []*eventsv1.Envelope{reg, reg}, []backlog.Item{statusItem("c1", "VT-2026-00012")}},
		{"status decided", []*eventsv1.Envelope{reg, decided}, nil},
		{"status decided, then the registration late", []*eventsv1.Envelope{decided, reg}, nil},
		{"status decided, then everything again", []*eventsv1.Envelope{reg, decided, reg, decided}, nil},
		{"closed", []*eventsv1.Envelope{reg, closed}, nil},
		{"merged into another case", []*eventsv1.Envelope{reg, merged}, nil},
		{"closed, and reopened still a potential victim", []*eventsv1.Envelope{reg, closed, reopened}, []backlog.Item{waitingAgain}},
		{"the reopening before the closure it follows", []*eventsv1.Envelope{reg, reopened, closed}, []backlog.Item{waitingAgain}},
		{"decided, and reopened a victim", []*eventsv1.Envelope{reg, decided, reopenedVictim}, nil},
		{"referral overdue", []*eventsv1.Envelope{overdue}, []backlog.Item{followUp("overdue", "r1", 2)}},
		{"referral declined", []*eventsv1.Envelope{referral(t, "referral.declined", "r1", 2)},
			[]backlog.Item{followUp("declined", "r1", 2)}},
		{"referral overdue, then expired", []*eventsv1.Envelope{overdue, expired}, []backlog.Item{followUp("expired", "r1", 3)}},
		{"referral expired, then the overdue late", []*eventsv1.Envelope{expired, overdue}, []backlog.Item{followUp("expired", "r1", 3)}},
		{"referral overdue, then accepted", []*eventsv1.Envelope{overdue, accepted}, nil},
		{"referral accepted, then the overdue late", []*eventsv1.Envelope{accepted, overdue}, nil},
		{"report circulated", []*eventsv1.Envelope{report("report.circulated", 2)}, []backlog.Item{awaiting(2)}},
		{"report circulated, one approval", []*eventsv1.Envelope{report("report.circulated", 2), report("report.approved", 3)}, []backlog.Item{awaiting(2)}},
		{"report final", []*eventsv1.Envelope{report("report.circulated", 2), report("report.final", 15)}, nil},
		{"report final, then the circulation late", []*eventsv1.Envelope{report("report.final", 15), report("report.circulated", 2)}, nil},
		{"report returned", []*eventsv1.Envelope{report("report.circulated", 2), report("report.returned", 4)}, nil},
		{"report redrafted and circulated again", []*eventsv1.Envelope{report("report.circulated", 2), report("report.drafted", 5), report("report.circulated", 6)},
			[]backlog.Item{awaiting(6)}},
		{"a member's month missing", []*eventsv1.Envelope{missing(1)}, []backlog.Item{notReported(1)}},
		{"missing, then submitted", []*eventsv1.Envelope{missing(1), submitted(2)}, nil},
		{"submitted, then the announcement late", []*eventsv1.Envelope{submitted(2), missing(1)}, nil},
		{"submitted in time", []*eventsv1.Envelope{submitted(1)}, nil},
		{"oldest first", []*eventsv1.Envelope{overdue, reg, referral(t, "referral.declined", "r2", 4), registered(t, "c2", "VT-2026-00013", potential)},
			[]backlog.Item{statusItem("c1", "VT-2026-00012"), statusItem("c2", "VT-2026-00013"), followUp("overdue", "r1", 2), followUp("declined", "r2", 4)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := backlog.New(testenv.Database(t))
			for _, env := range tt.events {
				if err := deliver(s, env); err != nil {
					t.Fatalf("%s: %v", env.GetId(), err)
				}
			}
			if got := open(t, s); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("open items:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// Events the backlog does not follow share its streams with other payloads: they are let go,
// whatever they carry, and write nothing.
func TestOtherEventsAreIgnored(t *testing.T) {
	t.Parallel()
	db := testenv.Database(t)
	s := backlog.New(db)
	garbage := &anypb.Any{TypeUrl: "type.googleapis.com/nrm.unknown.v1.Thing", Value: []byte{0xff, 0xff, 0xff}}
	for _, typ := range []string{"case.updated", "case.identity_erased", "referral.created",
		"referral.service_delivered", "referral.provider_changed"} {
		if err := deliver(s, withPayload(typ, 2, garbage)); err != nil {
			t.Errorf("%s: %v", typ, err)
		}
	}
	names, err := db.ListCollectionNames(context.Background(), bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	if len(names) > 0 {
		t.Errorf("collections written: %v", names)
	}
}

// An event the backlog follows but cannot read is dead-lettered at once, and writes nothing.
func TestMalformedEventsArePermanentErrors(t *testing.T) {
	t.Parallel()
	garbage := func(typeURL string) *anypb.Any {
		return &anypb.Any{TypeUrl: "type.googleapis.com/" + typeURL, Value: []byte{0xff, 0xff, 0xff}}
	}
	otherPayload, err := anypb.New(&caseregistryv1.CaseUpdated{CaseId: "c1"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		env  *eventsv1.Envelope
	}{
		{"undecodable registration", withPayload("case.registered", 1, garbage("nrm.caseregistry.v1.CaseRegistered"))},
		{"undecodable status decision", withPayload("case.status_decided", 2, garbage("nrm.caseregistry.v1.CaseStatusDecided"))},
		{"registration with another payload", withPayload("case.registered", 1, otherPayload)},
		{"closure without a payload", withPayload("case.closed", 2, nil)},
		{"merger without a case id", envelope(t, "case.merged", 2, &caseregistryv1.CaseMerged{SurvivorId: "c2"})},
		{"registration without a version", envelope(t, "case.registered", 0, &caseregistryv1.CaseRegistered{CaseId: "c1"})},
		{"undecodable overdue", withPayload("referral.overdue", 2, garbage("nrm.referral.v1.ReferralChanged"))},
		{"acceptance with another payload", withPayload("referral.accepted", 3, otherPayload)},
		{"decline without a referral id", envelope(t, "referral.declined", 2, &referralv1.ReferralChanged{CaseId: "c1"})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db := testenv.Database(t)
			err := deliver(backlog.New(db), tt.env)
			if !consumer.IsPermanent(err) || !strings.Contains(err.Error(), tt.env.GetId()) {
				t.Errorf("error %v, want a permanent error naming the event", err)
			}
			names, err := db.ListCollectionNames(context.Background(), bson.D{})
			if err != nil {
				t.Fatal(err)
			}
			if len(names) > 0 {
				t.Errorf("collections written: %v", names)
			}
		})
	}
}

// The Authority's decisions close items for good against redeliveries, not against what happens
// next to the case or referral.
func TestResolve(t *testing.T) {
	t.Parallel()
	reg1, reg2 := registered(t, "c1", "VT-2026-00012", potential), registered(t, "c2", "VT-2026-00013", potential)
	overdue1, overdue2 := referral(t, "referral.overdue", "r1", 2), referral(t, "referral.overdue", "r2", 2)
	all := []*eventsv1.Envelope{reg1, reg2, overdue1, overdue2}
	ctx := context.Background()

	tests := []struct {
		name    string
		resolve func(*backlog.Store) error
		after   []*eventsv1.Envelope
		want    []backlog.Item
	}{
		{"by key", func(s *backlog.Store) error { return s.Resolve(ctx, "status/c1", "referral/r2", "status/unknown") },
			nil, []backlog.Item{statusItem("c2", "VT-2026-00013"), followUp("overdue", "r1", 2)}},
		{"nothing", func(s *backlog.Store) error { return s.Resolve(ctx) },
			nil, []backlog.Item{statusItem("c1", "VT-2026-00012"), statusItem("c2", "VT-2026-00013"), followUp("overdue", "r1", 2), followUp("overdue", "r2", 2)}},
		{"redelivered after", func(s *backlog.Store) error { return s.Resolve(ctx, "status/c1", "referral/r1") },
			[]*eventsv1.Envelope{reg1, overdue1}, []backlog.Item{statusItem("c2", "VT-2026-00013"), followUp("overdue", "r2", 2)}},
		{"reopened by a later event", func(s *backlog.Store) error { return s.Resolve(ctx, "referral/r1") },
			[]*eventsv1.Envelope{referral(t, "referral.expired", "r1", 3)},
			[]backlog.Item{statusItem("c1", "VT-2026-00012"), statusItem("c2", "VT-2026-00013"), followUp("overdue", "r2", 2), followUp("expired", "r1", 3)}},
		// r1 concerns VT-2026-00012 too, but a decision on the case's status is not one on its referrals.
		{"concerning case codes and referrals", func(s *backlog.Store) error {
			return s.ResolveConcerning(ctx, []string{"VT-2026-00012", "VT-2026-99999"}, []string{"r2"})
		}, nil, []backlog.Item{statusItem("c2", "VT-2026-00013"), followUp("overdue", "r1", 2)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := backlog.New(testenv.Database(t))
			for _, env := range all {
				if err := deliver(s, env); err != nil {
					t.Fatal(err)
				}
			}
			if err := tt.resolve(s); err != nil {
				t.Fatal(err)
			}
			for _, env := range tt.after {
				if err := deliver(s, env); err != nil {
					t.Fatal(err)
				}
			}
			if got := open(t, s); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("open items:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// Replicas handling one referral's events at once, in any order, leave what the newest event
// says, as one handling them in order would.
func TestConcurrentReplicasConverge(t *testing.T) {
	t.Parallel()
	for _, last := range []string{"referral.declined", "referral.withdrawn"} {
		t.Run(last, func(t *testing.T) {
			t.Parallel()
			db := testenv.Database(t)
			replicas := []*backlog.Store{backlog.New(db), backlog.New(db), backlog.New(db)}
			const n = 12
			var wg sync.WaitGroup
			for v := int64(2); v <= n; v++ {
				typ := []string{"referral.overdue", "referral.accepted"}[v%2]
				if v == n {
					typ = last
				}
				env := referral(t, typ, "r1", v)
				wg.Go(func() {
					time.Sleep(rand.N(5 * time.Millisecond))
					r := replicas[v%3]
					err := deliver(r, env)
					// Delivered again after a failure, up to the consumer's bound.
					for range 4 {
						if err == nil || consumer.IsPermanent(err) {
							break
						}
						err = deliver(r, env)
					}
					if err != nil {
						t.Errorf("%s: %v", env.GetId(), err)
					}
				})
			}
			wg.Wait()
			var want []backlog.Item
			if last == "referral.declined" {
				want = []backlog.Item{followUp("declined", "r1", n)}
			}
			if got := open(t, replicas[0]); !reflect.DeepEqual(got, want) {
				t.Errorf("open items:\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

// A handler that stopped after committing an event, before writing the item, or a slower writer
// that put back an older item, leave the item wrong until the event is delivered again: the
// redelivery, a duplicate, writes the item as the newest event left it.
func TestRedeliveryRepairsTheItem(t *testing.T) {
	t.Parallel()
	db := testenv.Database(t)
	s := backlog.New(db)
	overdue, accepted := referral(t, "referral.overdue", "r1", 2), referral(t, "referral.accepted", "r1", 3)
	for _, env := range []*eventsv1.Envelope{overdue, accepted} {
		if err := deliver(s, env); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Collection("agenda_backlog").InsertOne(context.Background(), followUp("overdue", "r1", 2)); err != nil {
		t.Fatal(err)
	}
	if err := deliver(s, accepted); err != nil {
		t.Fatal(err)
	}
	if got := open(t, s); len(got) > 0 {
		t.Errorf("open items: %+v", got)
	}
}
