package datasets

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	reportingv1 "github.com/nrm-albania/nrm/proto/nrm/reporting/v1"
	"github.com/nrm-albania/nrm/services/platform/aggregate"
	"github.com/nrm-albania/nrm/services/platform/apierr"
	"github.com/nrm-albania/nrm/services/platform/auth"
	"github.com/nrm-albania/nrm/services/platform/mongodb"
)

// The institution and subject that seeded the default forms: no one, the installation.
const (
	seedInstitution = "NRM"
	seedSubject     = "defaults"
)

// Event types, published on nrm.report.* (NRM_REPORT).
const (
	EventSubmitted = "report.data_submitted"
	EventReopened  = "report.data_reopened"
	EventMissing   = "report.data_missing"
)

// Store keeps the forms (data_sets, data_set_revisions) and the submissions (data_submissions,
// data_submission_revisions).
type Store struct {
	DataSets    *aggregate.Store[DataSet, aggregate.Change]
	Submissions *aggregate.Store[Submission, aggregate.Change]
	calendar    Calendar
	now         func() time.Time
}

// NewStore returns the store in db; now is the clock of changes and of the lock.
func NewStore(db *mongo.Database, cal Calendar, now func() time.Time) *Store {
	return &Store{
		DataSets:    aggregate.New[DataSet, aggregate.Change](db, aggregate.Spec{Name: "data_set", Now: now}),
		Submissions: aggregate.New[Submission, aggregate.Change](db, aggregate.Spec{Name: "data_submission", Now: now}),
		calendar:    cal,
		now:         now,
	}
}

// Calendar is when members report.
func (s *Store) Calendar() Calendar { return s.calendar }

// Now is the store's clock.
func (s *Store) Now() time.Time { return s.now() }

// Seed creates the default form of every member that has none. A form that exists is never
// touched, whatever it holds, so seeding is safe on every start and from several replicas.
func (s *Store) Seed(ctx context.Context) error {
	now := s.clock()
	for _, d := range Defaults() {
		d.Version, d.UpdatedAt, d.UpdatedBy = 1, now, seedInstitution
		change := aggregate.Change{Kind: "SEEDED"}.By(seedInstitution, seedSubject, now)
		if _, err := s.DataSets.Create(ctx, d, change, nil); err != nil && !errors.Is(err, aggregate.ErrExists) {
			return fmt.Errorf("seed the data set of %s: %w", d.Member, err)
		}
	}
	return nil
}

// List returns every form in member code order: thirteen or so, read whole.
func (s *Store) List(ctx context.Context) ([]DataSet, error) {
	cur, err := s.DataSets.Collection().Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("list data sets: %w", mongodb.Classify(err))
	}
	var out []DataSet
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("list data sets: %w", mongodb.Classify(err))
	}
	return out, nil
}

// Update replaces member's form with elements, based on version expected (0: the current one).
func (s *Store) Update(ctx context.Context, member string, expected int64, elements []Element) (DataSet, error) {
	who, err := principal(ctx)
	if err != nil {
		return DataSet{}, err
	}
	d, _, err := s.DataSets.Execute(ctx, aggregate.Command[DataSet, aggregate.Change]{
		ID: member, Expected: expected,
		Decide: func(d DataSet) (aggregate.Outcome[DataSet, aggregate.Change], error) {
			d.Elements, d.UpdatedBy = elements, who.Institution
			return aggregate.Outcome[DataSet, aggregate.Change]{Next: d, Change: aggregate.Change{Kind: "UPDATED", Fields: []string{"elements"}}}, nil
		},
	})
	return d, err
}

// Submit records member's values for p, validated against form (warnings from Check), unless
// the month does not take them (Calendar.Admit). A submission closes a reopening.
func (s *Store) Submit(ctx context.Context, form DataSet, p Period, values []Value, warnings []Warning) (Submission, bool, error) {
	who, err := principal(ctx)
	if err != nil {
		return Submission{}, false, err
	}
	by := who.Institution
	return s.change(ctx, form.Member, p, func(cur Submission, now time.Time) (aggregate.Outcome[Submission, aggregate.Change], error) {
		if err := s.calendar.Admit(cur, p, now); err != nil {
			return aggregate.Outcome[Submission, aggregate.Change]{}, err
		}
		cur.Submitted, cur.Values, cur.Warnings, cur.DataSetVersion = true, values, warnings, form.Version
		cur.SubmittedAt, cur.SubmittedBy, cur.Reopened = now, by, false
		if cur.FirstSubmittedAt.IsZero() {
			cur.FirstSubmittedAt = now
		}
		return aggregate.Outcome[Submission, aggregate.Change]{
			Next: cur, Change: aggregate.Change{Kind: "SUBMITTED", Fields: []string{"values"}},
			Events: []aggregate.Event{{Type: EventSubmitted, Payload: &reportingv1.DataSubmitted{
				Member: cur.Member, Period: cur.Period, DataSetVersion: cur.DataSetVersion, Values: ValuesProto(values),
				Warnings: int32(len(warnings)), Timeliness: s.calendar.Timeliness(p, cur.FirstSubmittedAt).Proto(), SubmittedBy: by,
			}}},
		}, nil
	})
}

// Reopen reopens member's month p with a reason, so that its next submission is taken despite
// the lock. A month that is not locked needs no reopening and is refused, so that the trail of
// reopenings holds only the ones that mattered.
func (s *Store) Reopen(ctx context.Context, member string, p Period, reason string) (Submission, bool, error) {
	who, err := principal(ctx)
	if err != nil {
		return Submission{}, false, err
	}
	return s.change(ctx, member, p, func(cur Submission, now time.Time) (aggregate.Outcome[Submission, aggregate.Change], error) {
		meta := map[string]string{"member": member, "period": p.String()}
		switch {
		case !s.calendar.Locked(p, now):
			return aggregate.Outcome[Submission, aggregate.Change]{}, apierr.FailedPrecondition("PERIOD_NOT_LOCKED",
				fmt.Sprintf("%s is not locked: %s can submit without a reopening", p, member), meta)
		case cur.Reopened:
			return aggregate.Outcome[Submission, aggregate.Change]{Noop: true}, nil
		}
		cur.Reopened = true
		cur.Reopenings = append(cur.Reopenings, Reopening{At: now, Institution: who.Institution, Subject: who.Subject, Reason: reason})
		return aggregate.Outcome[Submission, aggregate.Change]{
			Next: cur, Change: aggregate.Change{Kind: "REOPENED"},
			Events: []aggregate.Event{{Type: EventReopened, Payload: &reportingv1.DataReopened{
				Member: member, Period: p.String(), ReopenedBy: who.Institution,
			}}},
		}, nil
	})
}

// MarkMissing records that member had submitted nothing for p by its due day, publishing
// report.data_missing, once: a month submitted, or announced missing already, is left as it is.
func (s *Store) MarkMissing(ctx context.Context, member string, p Period) (bool, error) {
	_, changed, err := s.change(ctx, member, p, func(cur Submission, _ time.Time) (aggregate.Outcome[Submission, aggregate.Change], error) {
		if cur.Submitted || cur.Missing {
			return aggregate.Outcome[Submission, aggregate.Change]{Noop: true}, nil
		}
		cur.Missing = true
		return aggregate.Outcome[Submission, aggregate.Change]{
			Next: cur, Change: aggregate.Change{Kind: "MISSING"},
			Events: []aggregate.Event{{Type: EventMissing, Payload: &reportingv1.DataMissing{Member: member, Period: p.String()}}},
		}, nil
	})
	return changed, err
}

// AnnounceMissing marks missing, once past its due day, the month before now of every member
// that has not submitted it: the secretariat reminds them and puts them on the agenda.
func (s *Store) AnnounceMissing(ctx context.Context) error {
	now := s.now()
	p := PeriodBefore(now)
	if now.Before(s.calendar.DueAt(p)) {
		return nil
	}
	forms, err := s.List(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, f := range forms {
		if _, err := s.MarkMissing(ctx, f.Member, p); err != nil {
			errs = append(errs, fmt.Errorf("announce %s's %s missing: %w", f.Member, p, err))
		}
	}
	return errors.Join(errs...)
}

// change decides a change of member's submission for p at the store's clock, creating the
// submission with it when it is the first: the first submission, or a reopening of a month
// nothing was submitted for.
func (s *Store) change(ctx context.Context, member string, p Period,
	decide func(Submission, time.Time) (aggregate.Outcome[Submission, aggregate.Change], error)) (Submission, bool, error) {
	id := SubmissionID(member, p)
	if _, err := s.Submissions.Get(ctx, id); errors.Is(err, aggregate.ErrNotFound) {
		created, ok, err := s.create(ctx, Submission{ID: id, Member: member, Period: p.String()}, decide)
		if !errors.Is(err, aggregate.ErrExists) {
			return created, ok, err
		}
		// Another change created it first: decide on what it made, below.
	} else if err != nil {
		return Submission{}, false, err
	}
	return s.Submissions.Execute(ctx, aggregate.Command[Submission, aggregate.Change]{
		ID: id,
		Decide: func(cur Submission) (aggregate.Outcome[Submission, aggregate.Change], error) {
			return decide(cur, s.clock())
		},
	})
}

// create commits, as version 1, what decide makes of fresh: a submission that did not exist.
func (s *Store) create(ctx context.Context, fresh Submission,
	decide func(Submission, time.Time) (aggregate.Outcome[Submission, aggregate.Change], error)) (Submission, bool, error) {
	who, err := principal(ctx)
	if err != nil {
		return Submission{}, false, err
	}
	now := s.clock()
	out, err := decide(fresh, now)
	if err != nil {
		return Submission{}, false, err
	}
	events, err := aggregate.Envelop(ctx, fresh.ID, 1, out.Events, now)
	if err != nil {
		return Submission{}, false, err
	}
	created, err := s.Submissions.Create(ctx, out.Next.AtVersion(1, now), out.Change.By(who.Institution, who.Subject, now), events)
	return created, err == nil, err
}

// principal is who a change is made by: the original caller when a service calls on someone's
// behalf. The guard admits no call without one.
func principal(ctx context.Context) (*auth.Principal, error) {
	p, ok := auth.FromContext(ctx)
	if !ok {
		return nil, status.Error(codes.Unauthenticated, "no principal")
	}
	return p.Effective(), nil
}

// clock is the time of a change as the aggregate store keeps it: UTC, to the millisecond.
func (s *Store) clock() time.Time { return s.now().UTC().Truncate(time.Millisecond) }
