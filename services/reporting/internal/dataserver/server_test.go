package dataserver

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	reportingv1 "github.com/nrm-albania/nrm/proto/nrm/reporting/v1"
	"github.com/nrm-albania/nrm/services/platform/auth"
	"github.com/nrm-albania/nrm/services/platform/testenv"
	"github.com/nrm-albania/nrm/services/platform/workdays"
	"github.com/nrm-albania/nrm/services/reporting/internal/datasets"
	"github.com/nrm-albania/nrm/services/reporting/internal/projection"
)

// clock is the tests' time, moved by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

// on moves the clock to hour on day, in Tirana.
func (c *clock) on(day string, hour int) {
	d, err := time.ParseInLocation(time.DateOnly, day, workdays.Tirana)
	if err != nil {
		panic(err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = d.Add(time.Duration(hour) * time.Hour)
}

// registry counts cases identified per institution, whatever the period, and remembers the
// periods asked for.
type registry struct {
	identified map[string]int64
	asked      []string
}

func (r *registry) Statistics(_ context.Context, from, to string) (projection.Statistics, error) {
	r.asked = append(r.asked, from+".."+to)
	return projection.Statistics{Counts: projection.Counts{ByIdentifyingInstitution: r.identified}}, nil
}

type relay struct{ notified int }

func (r *relay) Notify() { r.notified++ }

type fixture struct {
	srv      *Server
	clock    *clock
	registry *registry
	relay    *relay
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{clock: &clock{}, registry: &registry{identified: map[string]int64{"ASP-ANTITRAF": 4}}, relay: &relay{}}
	f.clock.on("2026-12-01", 9)
	st := datasets.NewStore(testenv.Database(t), datasets.Calendar{DueDay: 5, LockDay: 10}, f.clock.Now)
	if err := st.Seed(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.srv = New(st, f.registry, f.relay)
	return f
}

func as(institution string, roles ...auth.Role) context.Context {
	return auth.NewContext(context.Background(), &auth.Principal{Institution: institution, Subject: "someone at " + institution, Roles: roles})
}

var (
	secretariat = as("MB-SEKRETARIATI", auth.RoleSecretariat)
	shelters    = as("KKSAT", auth.RoleMember)
	police      = as("ASP-ANTITRAF", auth.RoleMember, auth.RoleCaseworker)
	education   = as("MAS", auth.RoleMember)
)

// shelterValues is a complete, consistent submission of the shelters' default form.
func shelterValues() []*reportingv1.ElementValue {
	return []*reportingv1.ElementValue{
		{Element: "ADMISSIONS", Value: 3, Parts: []*reportingv1.PartValue{{Part: "SEX_FEMALE", Value: 2}, {Part: "SEX_MALE", Value: 1}}},
		{Element: "RESIDENTS_MONTH_END", Value: 11},
		{Element: "EXITS", Value: 1},
	}
}

func (f *fixture) submit(ctx context.Context, member, period string, values []*reportingv1.ElementValue) (*reportingv1.Submission, error) {
	r, err := f.srv.SubmitData(ctx, &reportingv1.SubmitDataRequest{Member: member, Period: period, Values: values})
	return r.GetSubmission(), err
}

func (f *fixture) reopen(ctx context.Context, member, period, reason string) (*reportingv1.Submission, error) {
	r, err := f.srv.ReopenSubmission(ctx, &reportingv1.ReopenSubmissionRequest{Member: member, Period: period, Reason: reason})
	return r.GetSubmission(), err
}

func reasonOf(err error) string {
	for _, d := range status.Convert(err).Details() {
		if ei, ok := d.(*errdetails.ErrorInfo); ok {
			return ei.GetReason()
		}
	}
	return ""
}

func wantRefused(t *testing.T, what string, err error, code codes.Code, reason string) {
	t.Helper()
	if status.Code(err) != code || reasonOf(err) != reason {
		t.Fatalf("%s: %v, want %v %s", what, err, code, reason)
	}
}

func TestALockedMonthIsRefusedUnlessReopened(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.clock.on("2026-11-20", 9)
	_, err := f.submit(shelters, "KKSAT", "2026-11", shelterValues())
	wantRefused(t, "a month not over", err, codes.FailedPrecondition, "PERIOD_NOT_ENDED")
	_, err = f.submit(shelters, "KKSAT", "2027-01", shelterValues())
	wantRefused(t, "a future month", err, codes.FailedPrecondition, "PERIOD_NOT_ENDED")
	_, err = f.reopen(secretariat, "KKSAT", "2026-11", "late figures")
	wantRefused(t, "reopening a month that is not locked", err, codes.FailedPrecondition, "PERIOD_NOT_LOCKED")

	f.clock.on("2026-12-11", 8)
	_, err = f.submit(shelters, "KKSAT", "2026-11", shelterValues())
	wantRefused(t, "after the lock day", err, codes.FailedPrecondition, "PERIOD_LOCKED")
	_, err = f.reopen(secretariat, "KKSAT", "2026-11", "  ")
	wantRefused(t, "a reopening without a reason", err, codes.InvalidArgument, "")
	_, err = f.reopen(secretariat, "NOBODY", "2026-11", "late figures")
	wantRefused(t, "a reopening for no member", err, codes.NotFound, "")

	reopened, err := f.reopen(secretariat, "KKSAT", "2026-11", "the shelter's figures came by post")
	if err != nil {
		t.Fatal(err)
	}
	if r := reopened.GetReopenings(); !reopened.GetReopened() || reopened.GetSubmitted() || len(r) != 1 ||
		r[0].GetReason() != "the shelter's figures came by post" || r[0].GetInstitution() != "MB-SEKRETARIATI" || r[0].GetAt() == nil {
		t.Fatalf("reopened: %v, want reopened with who, when and why, nothing submitted", reopened)
	}
	if _, err := f.reopen(secretariat, "KKSAT", "2026-11", "again"); err != nil {
		t.Fatalf("reopening a reopened month: %v, want it left as it is", err)
	}

	f.clock.on("2026-12-14", 10)
	sub, err := f.submit(shelters, "KKSAT", "2026-11", shelterValues())
	if err != nil {
		t.Fatalf("after the reopening: %v", err)
	}
	if sub.GetReopened() || sub.GetTimeliness() != reportingv1.Timeliness_TIMELINESS_LATE || len(sub.GetReopenings()) != 1 || sub.GetVersion() != 2 {
		t.Errorf("submitted: %v, want late, locked again, one reopening, version 2", sub)
	}
	_, err = f.submit(shelters, "KKSAT", "2026-11", shelterValues())
	wantRefused(t, "a second submission after the reopening's", err, codes.FailedPrecondition, "PERIOD_LOCKED")
	if f.relay.notified != 2 {
		t.Errorf("relay woken %d times, want 2 (the reopening and the submission)", f.relay.notified)
	}
}

func TestAMemberSubmitsForItsOwnInstitution(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.clock.on("2026-12-02", 9)
	tests := []struct {
		name   string
		ctx    context.Context
		member string
		code   codes.Code
	}{
		{"the member itself", shelters, "KKSAT", codes.OK},
		{"another member", police, "KKSAT", codes.PermissionDenied},
		{"the secretariat, for any member", secretariat, "KKSAT", codes.OK},
		{"a member with no data set", secretariat, "NOBODY", codes.NotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.submit(tt.ctx, tt.member, "2026-11", shelterValues())
			if status.Code(err) != tt.code {
				t.Fatalf("got %v, want %v", err, tt.code)
			}
			if tt.code == codes.PermissionDenied && reasonOf(err) != "NOT_YOUR_INSTITUTION" {
				t.Errorf("reason %q, want NOT_YOUR_INSTITUTION", reasonOf(err))
			}
		})
	}
}

func TestCompletenessAndTimeliness(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.clock.on("2026-12-05", 22) // the due day, in Tirana
	if _, err := f.submit(shelters, "KKSAT", "2026-11", shelterValues()); err != nil {
		t.Fatal(err)
	}
	f.clock.on("2026-12-07", 9)
	if _, err := f.submit(education, "MAS", "2026-11", []*reportingv1.ElementValue{{Element: "ENROLLED", Value: 2}}); err != nil {
		t.Fatal(err)
	}
	sub, err := f.submit(police, "ASP-ANTITRAF", "2026-11", []*reportingv1.ElementValue{
		{Element: "PV_IDENTIFIED", Value: 6, Parts: []*reportingv1.PartValue{{Part: "SEX_FEMALE", Value: 6}}},
		{Element: "CRIMINAL_PROCEEDINGS", Value: 2},
	})
	if err != nil {
		t.Fatal(err)
	}
	if w := sub.GetWarnings(); len(w) != 1 || w[0].GetElement() != "PV_IDENTIFIED" || w[0].GetReported() != 6 || w[0].GetRegistry() != 4 {
		t.Errorf("warnings %v, want PV_IDENTIFIED reported 6, registry 4", w)
	}
	if !slices.Equal(f.registry.asked, []string{"2026-11-01..2026-11-30"}) {
		t.Errorf("registry asked for %v, want November once (the police's is the only cross-checked form)", f.registry.asked)
	}
	// A correction before the lock keeps the first submission's timeliness.
	f.clock.on("2026-12-09", 9)
	if _, err := f.submit(shelters, "KKSAT", "2026-11", shelterValues()); err != nil {
		t.Fatal(err)
	}

	f.clock.on("2026-12-08", 9)
	c, err := f.srv.GetCompleteness(education, &reportingv1.GetCompletenessRequest{Period: "2026-11"})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]reportingv1.Timeliness{}
	for _, m := range c.GetMembers() {
		got[m.GetMember()] = m.GetTimeliness()
		if m.GetMember() == "ASP-ANTITRAF" && m.GetWarnings() != 1 {
			t.Errorf("police with %d warnings, want 1", m.GetWarnings())
		}
	}
	want := map[string]reportingv1.Timeliness{"KKSAT": reportingv1.Timeliness_TIMELINESS_ON_TIME, "MAS": reportingv1.Timeliness_TIMELINESS_LATE,
		"ASP-ANTITRAF": reportingv1.Timeliness_TIMELINESS_LATE, "MSHMS": reportingv1.Timeliness_TIMELINESS_NOT_SUBMITTED}
	for m, w := range want {
		if got[m] != w {
			t.Errorf("%s: %v, want %v", m, got[m], w)
		}
	}
	if len(c.GetMembers()) != 13 || c.GetSubmitted() != 3 || c.GetOnTime() != 1 || c.GetLate() != 2 || c.GetNotSubmitted() != 10 || c.GetLocked() {
		t.Errorf("completeness %d members, %d submitted, %d on time, %d late, %d not, locked %v; want 13, 3, 1, 2, 10, false",
			len(c.GetMembers()), c.GetSubmitted(), c.GetOnTime(), c.GetLate(), c.GetNotSubmitted(), c.GetLocked())
	}
	f.clock.on("2026-12-11", 0)
	if c, err := f.srv.GetCompleteness(education, &reportingv1.GetCompletenessRequest{Period: "2026-11"}); err != nil || !c.GetLocked() {
		t.Errorf("after the lock day: %v, %v; want locked", c.GetLocked(), err)
	}
}

func TestUpdateDataSet(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	elements := []*reportingv1.DataElement{{Code: "ADMISSIONS", Name: "Admissions"}, {Code: "EXITS", Name: "Exits"}}
	_, err := f.srv.UpdateDataSet(secretariat, &reportingv1.UpdateDataSetRequest{Member: "KKSAT", Elements: []*reportingv1.DataElement{{Code: "bad"}}})
	wantRefused(t, "an invalid form", err, codes.InvalidArgument, "")
	_, err = f.srv.UpdateDataSet(secretariat, &reportingv1.UpdateDataSetRequest{Member: "KKSAT", Elements: elements, Version: 7})
	wantRefused(t, "a stale version", err, codes.Aborted, "VERSION_CONFLICT")
	r, err := f.srv.UpdateDataSet(secretariat, &reportingv1.UpdateDataSetRequest{Member: "KKSAT", Elements: elements, Version: 1})
	if err != nil || r.GetDataSet().GetVersion() != 2 || r.GetDataSet().GetUpdatedBy() != "MB-SEKRETARIATI" {
		t.Fatalf("update: %v, %v; want version 2 by the secretariat", r, err)
	}
	// Submissions follow the new form.
	f.clock.on("2026-12-02", 9)
	_, err = f.submit(shelters, "KKSAT", "2026-11", shelterValues())
	wantRefused(t, "the old form's elements", err, codes.InvalidArgument, "")
	sub, err := f.submit(shelters, "KKSAT", "2026-11", []*reportingv1.ElementValue{{Element: "ADMISSIONS", Value: 1}, {Element: "EXITS"}})
	if err != nil || sub.GetDataSetVersion() != 2 {
		t.Fatalf("submission on the new form: %v, %v; want it validated against version 2", sub, err)
	}
}
