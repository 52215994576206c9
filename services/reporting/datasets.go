package reporting

import (
	"cmp"
	"context"
	"fmt"
	"time"

	reportingv1 "github.com/nrm-albania/nrm/proto/nrm/reporting/v1"
	"github.com/nrm-albania/nrm/services/platform/app"
	"github.com/nrm-albania/nrm/services/platform/auth"
	"github.com/nrm-albania/nrm/services/platform/config"
	"github.com/nrm-albania/nrm/services/platform/seeding"
	"github.com/nrm-albania/nrm/services/reporting/internal/dataserver"
	"github.com/nrm-albania/nrm/services/reporting/internal/datasets"
	"github.com/nrm-albania/nrm/services/reporting/internal/projection"
)

// firstSeedWithin bounds the attempt to seed the members' forms made before the service serves:
// enough for a healthy database, short enough that one that is down only delays the start.
const firstSeedWithin = 2 * time.Second

// bindDataSets registers the settings of the data reported by members: when a month is due and
// when it locks, in days of the next month.
func (s *Service) bindDataSets(set *config.Set) {
	set.Int(&s.dataSets.DueDay, "dataset-due-day", 5, "day of the next month by which a member's monthly data is on time; later is late")
	set.Int(&s.dataSets.LockDay, "dataset-lock-day", 10, "day of the next month after which a month's data is locked unless the secretariat reopens it")
	set.Duration(&s.dataWatch, "dataset-watch-interval", time.Hour,
		"pause between two looks for the members that have not submitted last month's data by its due day")
	set.RequirePositive("dataset-watch-interval", &s.dataWatch)
	set.Check(func() error { return config.CheckRange("dataset-lock-day", s.dataSets.LockDay, 1, 28) })
	set.Check(func() error {
		if err := config.CheckRange("dataset-due-day", s.dataSets.DueDay, 1, 28); err != nil {
			return err
		}
		if s.dataSets.DueDay > s.dataSets.LockDay {
			return fmt.Errorf("%s (%d) is after %s (%d): a month cannot lock before it is due",
				config.EnvName("dataset-due-day"), s.dataSets.DueDay, config.EnvName("dataset-lock-day"), s.dataSets.LockDay)
		}
		return nil
	})
}

// setupDataSets registers the DataSetService and seeds the members' default forms: so that, with
// the database up, no caller meets a member without a form, and while it is down the service
// still starts and a worker retries (package seeding).
func (s *Service) setupDataSets(ctx context.Context, rt *app.Runtime) []app.Worker {
	store := datasets.NewStore(rt.DB, s.dataSets, time.Now)
	reportingv1.RegisterDataSetServiceServer(rt.GRPC, dataserver.New(store, projection.New(rt.DB), rt.Outbox))
	// Every interval, the members that have not submitted last month's data by its due day are
	// announced (report.data_missing, once each).
	workers := []app.Worker{app.Every(cmp.Or(s.dataWatch, time.Hour), "the announcement of the missing data", rt.Logger,
		func(ctx context.Context) error {
			err := store.AnnounceMissing(auth.NewContext(ctx, dataWatcher))
			if err == nil {
				rt.Outbox.Notify()
			}
			return err
		})}
	if retry := seeding.New("the members' data sets", store.Seed, rt.Logger).Start(ctx, firstSeedWithin); retry != nil {
		workers = append(workers, retry)
	}
	return workers
}

// dataWatcher is the principal of the announcements of missing data in histories and events.
var dataWatcher = &auth.Principal{Institution: "NRM", Subject: "reporting/datasets", Roles: []auth.Role{auth.RoleService}}
