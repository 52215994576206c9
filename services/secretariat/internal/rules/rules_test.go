package rules

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	eventsv1 "github.com/nrm-albania/nrm/proto/nrm/events/v1"
	secretariatv1 "github.com/nrm-albania/nrm/proto/nrm/secretariat/v1"
	"github.com/nrm-albania/nrm/services/platform/apierr"
	"github.com/nrm-albania/nrm/services/platform/outbox"
	"github.com/nrm-albania/nrm/services/platform/testenv"
	"github.com/nrm-albania/nrm/services/platform/workdays"
)

func at(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.ParseInLocation("2006-01-02 15:04", s, workdays.Tirana)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func reason(err error) string {
	for _, d := range status.Convert(err).Details() {
		if i, ok := d.(interface{ GetReason() string }); ok {
			return i.GetReason()
		}
	}
	return ""
}

func TestNotice(t *testing.T) {
	cal := workdays.Calendar{Holidays: map[string]bool{"2026-12-08": true}}
	r := Defaults()
	cases := []struct {
		name          string
		extraordinary bool
		now, start    string
		ok            bool
	}{
		{"five working days", false, "2026-12-14 10:00", "2026-12-21 10:00", true},
		{"four working days", false, "2026-12-14 10:00", "2026-12-18 10:00", false},
		{"a holiday does not count", false, "2026-12-03 10:00", "2026-12-10 10:00", false},
		{"across the holiday, five", false, "2026-12-03 10:00", "2026-12-11 10:00", true},
		{"a weekend does not count", false, "2026-12-18 10:00", "2026-12-24 10:00", false},
		{"extraordinary with a day", true, "2026-12-14 10:00", "2026-12-15 10:00", true},
		{"extraordinary within the day", true, "2026-12-14 10:00", "2026-12-15 09:59", false},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			err := r.Notice(cal, tt.extraordinary, at(t, tt.now), at(t, tt.start))
			if (err == nil) != tt.ok {
				t.Fatalf("Notice = %v, want ok %v", err, tt.ok)
			}
			if err != nil && (status.Code(err) != codes.FailedPrecondition || reason(err) != "NOTICE_PERIOD") {
				t.Errorf("refused with %v, want FAILED_PRECONDITION NOTICE_PERIOD", err)
			}
		})
	}
}

func TestQuorumOf(t *testing.T) {
	strict, loose := Defaults(), Defaults()
	loose.QuorumRequiresChair, loose.QuorumMembers = false, 5
	cases := []struct {
		name    string
		r       Rules
		present int
		chair   bool
		reached bool
	}{
		{"a majority with the chair", strict, 7, true, true},
		{"all but the chair", strict, 12, false, false},
		{"six with the chair", strict, 6, true, false},
		{"no one", strict, 0, false, false},
		{"five without the chair, where the rules allow", loose, 5, false, true},
		{"four", loose, 4, true, false},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			q := tt.r.QuorumOf(tt.present, tt.chair)
			if q.Reached != tt.reached || (q.MissingReason == "") != tt.reached || q.Required != tt.r.QuorumMembers {
				t.Errorf("QuorumOf(%d, %v) = %+v", tt.present, tt.chair, q)
			}
		})
	}
}

func TestMayCall(t *testing.T) {
	r := Defaults()
	cases := []struct {
		name    string
		chair   bool
		members int
		reason  string
		code    codes.Code
	}{
		{"the chair, with a reason", true, 0, "a child in danger", codes.OK},
		{"five members, with a reason", false, 5, "a cross-border case", codes.OK},
		{"four members", false, 4, "a cross-border case", codes.FailedPrecondition},
		{"the chair without a reason", true, 0, "", codes.InvalidArgument},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			if got := status.Code(r.MayCall(tt.chair, tt.members, tt.reason)); got != tt.code {
				t.Errorf("MayCall = %v, want %v", got, tt.code)
			}
		})
	}
	only := Defaults()
	only.MembersToCallExtraordinary = 0
	if status.Code(only.MayCall(false, 13, "all of them")) != codes.FailedPrecondition {
		t.Error("members called a meeting the rules reserve to the chair")
	}
}

func TestValidate(t *testing.T) {
	if err := Defaults().Validate(""); err != nil {
		t.Fatalf("the defaults: %v", err)
	}
	cases := []struct {
		field  string
		change func(*Rules)
	}{
		{"rules.effective_from", func(r *Rules) { r.EffectiveFrom = "1 January" }},
		{"rules.adopted_by", func(r *Rules) { r.AdoptedBy = "" }},
		{"rules.quorum_members", func(r *Rules) { r.QuorumMembers = 14 }},
		{"rules.quorum_members", func(r *Rules) { r.QuorumMembers = 0 }},
		{"rules.regular_notice_working_days", func(r *Rules) { r.RegularNoticeWorkingDays = -1 }},
		{"rules.minutes_approval", func(r *Rules) { r.MinutesApproval = "BY_FAX" }},
		{"rules.meeting_reminder_day", func(r *Rules) { r.MeetingReminderDay = 31 }},
	}
	for _, tt := range cases {
		t.Run(tt.field, func(t *testing.T) {
			r := Defaults()
			tt.change(&r)
			if fields := apierr.ViolatedFields(r.Validate("rules.")); len(fields) != 1 || fields[0] != tt.field {
				t.Errorf("violations %v, want [%s]", fields, tt.field)
			}
		})
	}
}

func TestAdoptAndTheVersionInForce(t *testing.T) {
	ctx := context.Background()
	db := testenv.Database(t)
	s := New(db)
	now := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	for range 2 { // seeding is idempotent
		if err := s.Seed(ctx, members, now); err != nil {
			t.Fatal(err)
		}
	}
	next := Defaults()
	next.EffectiveFrom, next.AdoptedBy, next.QuorumMembers = "2027-01-01", "decision MB-2026-12-R/3", 9
	adopted, err := s.Adopt(ctx, next, members, now)
	if err != nil || adopted.Version != 2 {
		t.Fatalf("Adopt = %+v, %v", adopted, err)
	}
	for day, want := range map[string]int32{"2026-12-31": 1, "2027-01-01": 2, "2030-06-01": 2} {
		if r, err := s.On(ctx, day); err != nil || r.Version != want {
			t.Errorf("On(%s) = version %d, %v; want %d", day, r.Version, err, want)
		}
	}
	earlier := next
	earlier.EffectiveFrom = "2026-12-20"
	if _, err := s.Adopt(ctx, earlier, members, now); reason(err) != "EFFECTIVE_BEFORE_LATEST" {
		t.Errorf("a version in force before the latest: %v", err)
	}
	bad := next
	bad.QuorumMembers = 20
	if _, err := s.Adopt(ctx, bad, members, now); status.Code(err) != codes.InvalidArgument {
		t.Errorf("invalid rules: %v", err)
	}
	if all, _ := s.All(ctx); len(all) != 2 {
		t.Errorf("%d versions after two refusals, want 2", len(all))
	}

	// Adoptions at once take distinct versions.
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() {
			_, err := s.Adopt(ctx, next, members, now)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) {
			t.Error(err)
		}
	}
	if all, _ := s.All(ctx); len(all) != 6 || all[5].Version != 6 {
		t.Errorf("versions after four concurrent adoptions: %d", len(all))
	}

	// Each version committed its one rules.adopted event, with the composition; the refusals
	// and the repeated seeding none.
	got := adoptedEvents(t, db)
	if len(got) != 6 {
		t.Fatalf("%d rules.adopted events announced, want 6 (one per version): %v", len(got), got)
	}
	for v := int32(1); v <= 6; v++ {
		e, ok := got[v]
		if !ok || !slices.Equal(e.GetMembers(), members) || e.GetRules().GetVersion() != v {
			t.Errorf("version %d: event %v", v, e)
		}
	}
	if got[2].GetRules().GetQuorumMembers() != 9 || got[2].GetRules().GetEffectiveFrom() != "2027-01-01" {
		t.Errorf("version 2's event carries %v", got[2].GetRules())
	}
}

var members = []string{"MB-DPAM", "ASP-ANTITRAF", "KKSAT"}

// Versions an earlier release stored without their event are published at the next seeding,
// once: an upgraded installation needs nothing.
func TestSeedPublishesTheVersionsStoredWithoutTheirEvent(t *testing.T) {
	db := testenv.Database(t)
	s := New(db)
	earlier := Defaults()
	earlier.AdoptedAt = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	later := earlier
	later.Version, later.EffectiveFrom, later.AdoptedBy = 2, "2027-01-01", "decision MB-2026-12-R/3"
	for _, r := range []Rules{earlier, later} {
		if _, err := db.Collection(Collection).InsertOne(t.Context(), doc{ID: id(r.Version), Rules: r}); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 {
		if err := s.Seed(t.Context(), members, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	got := adoptedEvents(t, db)
	if len(got) != 2 || got[1].GetRules().GetAdoptedBy() != earlier.AdoptedBy || got[2].GetRules().GetEffectiveFrom() != "2027-01-01" {
		t.Fatalf("published %v", got)
	}
	if n, err := db.Collection(Collection).CountDocuments(t.Context(), bson.D{{Key: outbox.Field, Value: bson.D{{Key: "$exists", Value: true}}}}); err != nil || n != 2 {
		t.Errorf("%d versions hold their event, %v; want 2", n, err)
	}
}

// adoptedEvents reads the announced rules.adopted events, by version.
func adoptedEvents(t *testing.T, db *mongo.Database) map[int32]*secretariatv1.RulesAdopted {
	t.Helper()
	cur, err := db.Collection(outbox.PointerCollection).Find(t.Context(), bson.D{{Key: "aggregate_id", Value: AggregateID}})
	if err != nil {
		t.Fatal(err)
	}
	var pointers []struct {
		Event outbox.Event `bson:"event"`
	}
	if err := cur.All(t.Context(), &pointers); err != nil {
		t.Fatal(err)
	}
	out := map[int32]*secretariatv1.RulesAdopted{}
	for _, p := range pointers {
		var env eventsv1.Envelope
		if err := proto.Unmarshal(p.Event.Data, &env); err != nil || env.GetType() != EventAdopted || p.Event.Subject != "nrm."+EventAdopted {
			t.Fatalf("pointer %s: %v, %v", p.Event.Subject, env.GetType(), err)
		}
		var e secretariatv1.RulesAdopted
		if err := env.GetPayload().UnmarshalTo(&e); err != nil {
			t.Fatal(err)
		}
		if env.GetAggregateVersion() != int64(e.GetRules().GetVersion()) {
			t.Errorf("event of version %d at aggregate version %d", e.GetRules().GetVersion(), env.GetAggregateVersion())
		}
		out[e.GetRules().GetVersion()] = &e
	}
	return out
}
