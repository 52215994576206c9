package reporting_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	caseregistryv1 "github.com/nrm-albania/nrm/proto/nrm/caseregistry/v1"
	reportingv1 "github.com/nrm-albania/nrm/proto/nrm/reporting/v1"
	"github.com/nrm-albania/nrm/services/platform/outbox"
	"github.com/nrm-albania/nrm/services/platform/testenv"
	"github.com/nrm-albania/nrm/services/reporting"
)

// within bounds every wait on the running service.
const within = 30 * time.Second

// service is the reporting service wired by its Setup onto the test's own database and NATS
// namespace, serving gRPC on a free port.
type service struct {
	client reportingv1.ReportingServiceClient
	bus    *testenv.Bus
}

// start runs the whole service, as its binary does, on its own database and NATS namespace.
func start(t *testing.T) *service {
	t.Helper()
	srv := testenv.Serve(t, reporting.Defaults(), mustConfigured(t).Setup)
	return &service{client: reportingv1.NewReportingServiceClient(srv.Conn), bus: srv.Bus}
}

// registered is the event of a case identified on day by institution.
func registered(caseID, day, institution string) *caseregistryv1.CaseRegistered {
	return &caseregistryv1.CaseRegistered{
		CaseId:                 caseID,
		Sex:                    caseregistryv1.Sex_SEX_FEMALE,
		AgeBand:                caseregistryv1.AgeBand_AGE_BAND_ADULT,
		Citizenships:           []string{"AL"},
		ExploitationTypes:      []caseregistryv1.ExploitationType{caseregistryv1.ExploitationType_EXPLOITATION_TYPE_SEXUAL},
		Status:                 caseregistryv1.TraffickingStatus_TRAFFICKING_STATUS_POTENTIAL_VICTIM,
		IdentifyingInstitution: institution,
		IdentificationDate:     day,
	}
}

// event builds the envelope the case registry's outbox would publish for ev.
func event(t *testing.T, ev *caseregistryv1.CaseRegistered, at time.Time) outbox.Pending {
	t.Helper()
	p, err := outbox.NewEvent(context.Background(), "case.registered", ev.GetCaseId(), 1, 0, ev, at)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// publish puts data on the case stream with msgID as Nats-Msg-Id, as the outbox relay does.
func (s *service) publish(t *testing.T, data []byte, msgID string) {
	t.Helper()
	msg := nats.NewMsg(s.bus.NS.Subject("nrm.case.registered"))
	msg.Data = data
	msg.Header.Set(jetstream.MsgIDHeader, msgID)
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	if _, err := s.bus.JS.PublishMsg(ctx, msg); err != nil {
		t.Fatalf("publish: %v", err)
	}
}

func (s *service) publishEvent(t *testing.T, p outbox.Pending) {
	t.Helper()
	s.publish(t, p.Event.Data, p.ID)
}

func (s *service) statistics(t *testing.T, from, to string) (*reportingv1.GetCaseStatisticsResponse, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	return s.client.GetCaseStatistics(ctx, &reportingv1.GetCaseStatisticsRequest{From: from, To: to})
}

// waitFor polls the all-time statistics until cond holds, and returns them.
func (s *service) waitFor(t *testing.T, what string, cond func(*reportingv1.GetCaseStatisticsResponse) bool) *reportingv1.GetCaseStatisticsResponse {
	t.Helper()
	var last *reportingv1.GetCaseStatisticsResponse
	testenv.Eventually(t, within, what, func() bool {
		r, err := s.statistics(t, "", "")
		if err != nil {
			return false
		}
		last = r
		return cond(r)
	})
	return last
}

func count(list []*reportingv1.Count, key string) int64 {
	for _, c := range list {
		if c.GetKey() == key {
			return c.GetCount()
		}
	}
	return 0
}

func TestPublishedCasesAreCounted(t *testing.T) {
	t.Parallel()
	s := start(t)
	if r, err := s.statistics(t, "", ""); err != nil || r.GetTotal() != 0 || r.GetAsOf() != nil {
		t.Fatalf("before any event: %v, %v; want nothing counted and no as_of", r, err)
	}

	at := time.Date(2025, 3, 10, 9, 30, 0, 0, time.UTC)
	child := registered("case-1", "2025-03-09", "ASP-ANTITRAF")
	child.AgeBand = caseregistryv1.AgeBand_AGE_BAND_CHILD
	child.Citizenships = []string{"AL", "XK"}
	child.ExploitationTypes = append(child.ExploitationTypes, caseregistryv1.ExploitationType_EXPLOITATION_TYPE_FORCED_BEGGING)
	s.publishEvent(t, event(t, child, at))
	s.publishEvent(t, event(t, registered("case-2", "2025-03-10", "SHSSH"), at.Add(time.Hour)))

	r := s.waitFor(t, "both cases counted", func(r *reportingv1.GetCaseStatisticsResponse) bool { return r.GetTotal() == 2 })
	for _, c := range []struct {
		dimension string
		list      []*reportingv1.Count
		key       string
		want      int64
	}{
		{"exploitation type", r.GetByExploitationType(), "EXPLOITATION_TYPE_SEXUAL", 2},
		{"exploitation type", r.GetByExploitationType(), "EXPLOITATION_TYPE_FORCED_BEGGING", 1},
		{"sex", r.GetBySex(), "SEX_FEMALE", 2},
		{"age band", r.GetByAgeBand(), "AGE_BAND_CHILD", 1},
		{"age band", r.GetByAgeBand(), "AGE_BAND_ADULT", 1},
		{"citizenship", r.GetByCitizenship(), "AL", 2},
		{"citizenship", r.GetByCitizenship(), "XK", 1},
		{"identifying institution", r.GetByIdentifyingInstitution(), "ASP-ANTITRAF", 1},
		{"identifying institution", r.GetByIdentifyingInstitution(), "SHSSH", 1},
	} {
		if got := count(c.list, c.key); got != c.want {
			t.Errorf("by %s %s = %d, want %d", c.dimension, c.key, got, c.want)
		}
	}
	if !r.GetAsOf().AsTime().Equal(at.Add(time.Hour)) {
		t.Errorf("as_of %v, want the newest event's time %v", r.GetAsOf().AsTime(), at.Add(time.Hour))
	}
}

// JetStream deduplicates by Nats-Msg-Id only within its window; a copy published with another
// id (a relay re-publishing later, a replay) reaches the consumer and must not count twice.
func TestRepublishedEventIsCountedOnce(t *testing.T) {
	t.Parallel()
	s := start(t)
	at := time.Date(2025, 3, 10, 9, 30, 0, 0, time.UTC)
	first := event(t, registered("case-1", "2025-03-09", "ASP-ANTITRAF"), at)
	s.publishEvent(t, first)
	s.publish(t, first.Event.Data, first.ID+"-republished")
	// The consumer applies in stream order, so once the last event shows, the copy was handled.
	s.publishEvent(t, event(t, registered("case-2", "2025-03-09", "SHSSH"), at))

	r := s.waitFor(t, "the event after the copy counted", func(r *reportingv1.GetCaseStatisticsResponse) bool {
		return count(r.GetByIdentifyingInstitution(), "SHSSH") == 1
	})
	if r.GetTotal() != 2 || count(r.GetByIdentifyingInstitution(), "ASP-ANTITRAF") != 1 {
		t.Errorf("total %d, ASP-ANTITRAF %d; want 2 and 1", r.GetTotal(), count(r.GetByIdentifyingInstitution(), "ASP-ANTITRAF"))
	}
}

// Messages that can never be counted go to the dead-letter subject at their first delivery, and
// the events behind them are still counted.
func TestUncountableEventsAreDeadLettered(t *testing.T) {
	t.Parallel()
	s := start(t)
	dlq, err := s.bus.NC.SubscribeSync(s.bus.NS.Subject("nrm.dlq." + reporting.CaseStatisticsConsumer + ".>"))
	if err != nil {
		t.Fatal(err)
	}
	defer dlq.Unsubscribe()
	if err := s.bus.NC.Flush(); err != nil { // the subscription is in place before anything is published
		t.Fatal(err)
	}

	garbage := []byte{0xff, 0xff, 0xff, 0xff}
	if err := proto.Unmarshal(garbage, &caseregistryv1.CaseRegistered{}); err == nil {
		t.Fatal("setup: the garbage decodes as protobuf")
	}
	at := time.Date(2025, 3, 10, 9, 30, 0, 0, time.UTC)
	undated := registered("case-1", "", "ASP-ANTITRAF")
	s.publish(t, garbage, "garbage-1")
	s.publishEvent(t, event(t, undated, at))
	s.publishEvent(t, event(t, registered("case-2", "2025-03-09", "SHSSH"), at))

	for _, want := range []string{"undecodable envelope", "identification_date"} {
		msg, err := dlq.NextMsg(within)
		if err != nil {
			t.Fatalf("waiting for the dead letter about %q: %v", want, err)
		}
		if reason := msg.Header.Get("Nrm-Dlq-Reason"); !strings.Contains(reason, want) {
			t.Errorf("dead letter reason %q; want one about %q", reason, want)
		}
		if n := msg.Header.Get("Nrm-Dlq-Deliveries"); n != "1" {
			t.Errorf("dead-lettered after %s deliveries; a permanent error must not be retried", n)
		}
		if subj := msg.Header.Get("Nrm-Dlq-Subject"); subj != s.bus.NS.Subject("nrm.case.registered") {
			t.Errorf("dead letter names subject %q", subj)
		}
	}
	r := s.waitFor(t, "the good event counted", func(r *reportingv1.GetCaseStatisticsResponse) bool { return r.GetTotal() >= 1 })
	if r.GetTotal() != 1 {
		t.Errorf("total %d, want 1", r.GetTotal())
	}
}

func TestStatisticsPeriodOverGRPC(t *testing.T) {
	t.Parallel()
	s := start(t)
	at := time.Date(2025, 4, 1, 8, 0, 0, 0, time.UTC)
	for i, day := range []string{"2025-01-15", "2025-02-15", "2025-02-20", "2025-03-15"} {
		s.publishEvent(t, event(t, registered("case-"+day, day, "ASP-ANTITRAF"), at.Add(time.Duration(i)*time.Hour)))
	}
	s.waitFor(t, "all cases counted", func(r *reportingv1.GetCaseStatisticsResponse) bool { return r.GetTotal() == 4 })

	for _, tc := range []struct {
		from, to string
		total    int64
		asOf     time.Time // zero: unset
	}{
		{"2025-02-01", "2025-02-28", 2, at.Add(2 * time.Hour)},
		{"2025-02-20", "", 2, at.Add(3 * time.Hour)},
		{"", "2025-01-31", 1, at},
		{"2025-05-01", "2025-05-31", 0, time.Time{}},
	} {
		r, err := s.statistics(t, tc.from, tc.to)
		if err != nil {
			t.Fatalf("%s..%s: %v", tc.from, tc.to, err)
		}
		if r.GetTotal() != tc.total || r.GetFrom() != tc.from || r.GetTo() != tc.to {
			t.Errorf("%s..%s: total %d, period %q..%q; want %d and the period echoed", tc.from, tc.to, r.GetTotal(), r.GetFrom(), r.GetTo(), tc.total)
		}
		if tc.asOf.IsZero() != (r.GetAsOf() == nil) || (r.GetAsOf() != nil && !r.GetAsOf().AsTime().Equal(tc.asOf)) {
			t.Errorf("%s..%s: as_of %v, want %v", tc.from, tc.to, r.GetAsOf(), tc.asOf)
		}
	}

	for _, tc := range []struct {
		from, to string
		fields   []string
	}{
		{"2025-02-30", "", []string{"from"}},
		{"", "March", []string{"to"}},
		{"2025-3-1", "2025-3-31", []string{"from", "to"}},
		{"2025-03-31", "2025-03-01", []string{"to"}},
	} {
		_, err := s.statistics(t, tc.from, tc.to)
		st := status.Convert(err)
		if st.Code() != codes.InvalidArgument {
			t.Errorf("%q..%q: got %v; want InvalidArgument", tc.from, tc.to, err)
			continue
		}
		var fields []string
		for _, d := range st.Details() {
			if br, ok := d.(*errdetails.BadRequest); ok {
				for _, v := range br.GetFieldViolations() {
					fields = append(fields, v.GetField())
				}
			}
		}
		if strings.Join(fields, ",") != strings.Join(tc.fields, ",") {
			t.Errorf("%q..%q: field violations %v; want %v", tc.from, tc.to, fields, tc.fields)
		}
	}
}

func mustConfigured(t *testing.T) *reporting.Service {
	t.Helper()
	s, err := reporting.Configured(nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
