// Package secretariat is the Authority's secretariat (points 7 to 10 and 14 of the Joint
// Instruction): the service that keeps the Authority's composition and rules of procedure, who
// may call the system, and the meetings with their agenda, invitations, decisions, action items
// and minutes.
package secretariat

import (
	"cmp"
	"context"
	"fmt"
	netmail "net/mail"
	"time"

	reportingv1 "github.com/nrm-albania/nrm/proto/nrm/reporting/v1"
	secretariatv1 "github.com/nrm-albania/nrm/proto/nrm/secretariat/v1"
	"github.com/nrm-albania/nrm/services/platform/access"
	"github.com/nrm-albania/nrm/services/platform/app"
	"github.com/nrm-albania/nrm/services/platform/config"
	"github.com/nrm-albania/nrm/services/platform/consumer"
	"github.com/nrm-albania/nrm/services/platform/lists"
	"github.com/nrm-albania/nrm/services/platform/natsbus"
	"github.com/nrm-albania/nrm/services/platform/peer"
	"github.com/nrm-albania/nrm/services/platform/seeding"
	"github.com/nrm-albania/nrm/services/platform/workdays"
	"github.com/nrm-albania/nrm/services/secretariat/internal/backlog"
	"github.com/nrm-albania/nrm/services/secretariat/internal/directory"
	"github.com/nrm-albania/nrm/services/secretariat/internal/letters"
	"github.com/nrm-albania/nrm/services/secretariat/internal/mail"
	"github.com/nrm-albania/nrm/services/secretariat/internal/meetings"
	"github.com/nrm-albania/nrm/services/secretariat/internal/members"
	"github.com/nrm-albania/nrm/services/secretariat/internal/notify"
	"github.com/nrm-albania/nrm/services/secretariat/internal/representation"
	"github.com/nrm-albania/nrm/services/secretariat/internal/rules"
	"github.com/nrm-albania/nrm/services/secretariat/internal/server"
)

// letterSweepInterval paces the sweep of the files of registrations that never committed: they
// are rare, and wait a day for it anyway (server.FileGrace).
const letterSweepInterval = time.Hour

// firstSeedWithin bounds the seeding attempt made before the service serves: long enough for a
// healthy database, short enough that a database that is down only delays the start a little.
const firstSeedWithin = 2 * time.Second

// The durable consumers that fill the agenda backlog from the cases', referrals' and reports'
// events.
const (
	CaseBacklogConsumer     = "secretariat-backlog-cases"
	ReferralBacklogConsumer = "secretariat-backlog-referrals"
	ReportBacklogConsumer   = "secretariat-backlog-reports"
)

// Defaults are the service's settings when nothing is configured.
func Defaults() app.Config { return app.Defaults("secretariat", "127.0.0.1:9103", "127.0.0.1:9203") }

// Service is the secretariat with its mail server (NRM_SMTP_*), the working calendar its notice
// periods count on (NRM_PUBLIC_HOLIDAYS), and, for development only, representatives for every
// member so that invitations have somewhere to go.
type Service struct {
	Mail mail.Settings
	// Letters says which attachments a letter may carry (NRM_LETTER_ATTACHMENT_*).
	Letters  letters.Policy
	Calendar workdays.Calendar
	// DevRepresentatives seeds development contacts for every member (`make run`).
	DevRepresentatives bool
	// Delivery paces the notifications' delivery: how often the queue is looked at when nothing
	// wakes it, and the backoff after a failed attempt.
	Delivery notify.DelivererOptions
	// Reporting is how the secretariat reaches the reporting service, as itself, to fetch the
	// submitted reports' PDF and mail them to ReportRecipients (none: not mailed).
	ReportingAddr    string
	ReportingTLS     peer.TLS
	TokenFile        string
	ReportRecipients []*netmail.Address
	recipients       string
	// WatchInterval paces the watch of reminders and closed months; ActionReminderDays is how
	// many days before its due date an action item's owner is reminded.
	WatchInterval      time.Duration
	ActionReminderDays int
	holidays           string
}

// Bind registers the service's own settings.
func (s *Service) Bind(set *config.Set) {
	s.Mail.Bind(set)
	s.Letters.Bind(set)
	set.String(&s.holidays, "public-holidays", workdays.DefaultHolidays, "public holidays, YYYY-MM-DD[,…], that are not working days (weekends never are)")
	set.Bool(&s.DevRepresentatives, "dev-representatives", false,
		"seed a development representative and substitute for every member (…@representatives.nrm.test); never in production")
	set.Duration(&s.Delivery.Interval, "notification-interval", 10*time.Second, "pause between two looks at the pending notifications when nothing wakes the deliverer")
	set.Duration(&s.Delivery.MinBackoff, "notification-retry-min", 30*time.Second, "wait after a failed delivery; it doubles with the attempts")
	set.Duration(&s.Delivery.MaxBackoff, "notification-retry-max", time.Hour, "longest wait between two attempts to deliver a notification")
	set.String(&s.ReportingAddr, "reporting-addr", "127.0.0.1:9104", "the reporting service's gRPC address, asked for the submitted reports' PDF")
	set.RequireAddr("reporting-addr", &s.ReportingAddr)
	set.String(&s.ReportingTLS.CAFile, "reporting-tls-ca-file", "", "CA bundle (PEM) of the reporting service's certificate; calls it over TLS when set")
	set.String(&s.ReportingTLS.ServerName, "reporting-tls-server-name", "", "name expected in the reporting service's certificate instead of its address's host")
	set.String(&s.TokenFile, "service-token-file", "",
		"file holding the service's own bearer token (institution NRM, role service), read at each call; needed to mail submitted reports")
	set.String(&s.recipients, "report-mail-recipients", "",
		"addresses the submitted reports are mailed to, \"Name <address>\" comma-separated (the general director, the deputy minister); none: not mailed")
	set.Check(func() error {
		var err error
		if s.recipients == "" {
			return nil
		}
		if s.ReportRecipients, err = netmail.ParseAddressList(s.recipients); err != nil {
			return fmt.Errorf("%s: %w", config.EnvName("report-mail-recipients"), err)
		}
		if s.TokenFile == "" {
			return fmt.Errorf("%s is required with %s: the secretariat fetches each submitted report from the reporting service as itself",
				config.EnvName("service-token-file"), config.EnvName("report-mail-recipients"))
		}
		return nil
	})
	set.Duration(&s.WatchInterval, "secretariat-watch-interval", 15*time.Minute,
		"pause between two looks at the reminders due (meetings, action items) and the months closed")
	set.Int(&s.ActionReminderDays, "action-reminder-days", 3, "days before its due date at which an action item's owner is reminded")
	set.RequirePositive("secretariat-watch-interval", &s.WatchInterval)
	set.Check(func() error { return config.CheckRange("action-reminder-days", s.ActionReminderDays, 0, 60) })
	set.RequirePositive("notification-interval", &s.Delivery.Interval)
	set.RequirePositive("notification-retry-min", &s.Delivery.MinBackoff)
	set.RequirePositive("notification-retry-max", &s.Delivery.MaxBackoff)
	set.Check(func() error {
		var err error
		if s.Calendar.Holidays, err = workdays.ParseHolidays(s.holidays); err != nil {
			return fmt.Errorf("%s: %w", config.EnvName("public-holidays"), err)
		}
		return nil
	})
}

// Setup seeds the Authority's default composition and rules of procedure, registers the
// services, and starts the workers: the access directory's publication, the agenda backlog's
// consumers, the notices of the meetings' changes and their delivery by mail. Seeding the
// composition is tried once here so that, with the database up, no caller ever meets the
// not-yet-seeded state; if it fails, a worker keeps retrying while the service answers
// Unavailable, rather than the process failing and restarting until the database comes back.
func (s *Service) Setup(ctx context.Context, rt *app.Runtime) ([]app.Worker, error) {
	var codes []string
	chair := ""
	for _, m := range members.DefaultMembers() {
		codes = append(codes, m.Code)
		if m.Role == members.RoleChair {
			chair = m.Code
		}
	}
	st, rs, reps := members.NewStore(rt.DB), rules.New(rt.DB), representation.New(rt.DB)
	// The composition, the default rules of procedure and (in development) the representatives
	// are seeded together, by the seeder's retries while the database is down.
	seeder := seeding.New("the Authority's composition and rules of procedure", func(ctx context.Context) error {
		if err := st.Seed(ctx); err != nil {
			return err
		}
		if err := rs.Seed(ctx, codes, time.Now()); err != nil {
			return err
		}
		rt.Outbox.Notify() // version 1's event, when this seeding made it
		if s.DevRepresentatives {
			return reps.Seed(ctx, representation.DevDefaults(codes), time.Now())
		}
		return nil
	}, rt.Logger)
	secretariatv1.RegisterSecretariatServiceServer(rt.GRPC, server.New(st, seeder.Seeded,
		server.Procedure{Rules: rs, Representations: reps, Members: codes, Relay: rt.Outbox}))

	// The directory of who may call is kept here and published to every service (this one too).
	dir := directory.NewStore(rt.DB)
	sync := directory.NewSyncer(dir, rt.JS, access.Bucket(rt.NS, rt.Config.NATSReplicas), rt.Logger, time.Now)
	secretariatv1.RegisterAccessServiceServer(rt.GRPC, server.NewAccess(dir, sync, time.Now))

	// The correspondence register, and the sweep of the files no letter will name.
	register := server.NewCorrespondence(letters.New(rt.DB), s.Letters, rt.Outbox, rt.Logger)
	secretariatv1.RegisterCorrespondenceServiceServer(rt.GRPC, register)

	// Meetings, fed by the backlog, telling the members through the notifications.
	bl, notes := backlog.New(rt.DB), notify.NewStore(rt.DB)
	delivery := s.Delivery
	delivery.From, delivery.Log, delivery.Registerer = s.Mail.From, rt.Logger, rt.Registry
	deliverer, err := notify.NewDeliverer(notes, s.Mail.Sender(), delivery)
	if err != nil {
		return nil, err
	}
	rt.Outbox.Notify()
	ms := server.NewMeetings(server.MeetingDeps{
		Meetings: meetings.New(rt.DB), Rules: rs, Representations: reps, Backlog: bl, Notifications: notes,
		Inbox: lists.New(rt.DB.Collection(server.InboxCollection)), Calendar: s.Calendar, Members: codes, Chair: chair,
		Organizer: s.Mail.From, Relay: rt.Outbox, Log: rt.Logger, Wake: deliverer.Notify,
		Months: meetings.NewMonths(rt.DB), ActionReminderDays: s.ActionReminderDays,
	})
	secretariatv1.RegisterMeetingServiceServer(rt.GRPC, ms)
	workers := []app.Worker{sync.Run, deliverer.Run, app.Every(letterSweepInterval, "the letters' file sweep", rt.Logger, register.SweepFiles),
		rt.Consumer(consumer.Config{Stream: natsbus.StreamCase, Durable: CaseBacklogConsumer, Subjects: []string{"nrm.case.>"}}, bl.CaseEvents()).Run,
		rt.Consumer(consumer.Config{Stream: natsbus.StreamReferral, Durable: ReferralBacklogConsumer, Subjects: []string{"nrm.referral.>"}}, bl.ReferralEvents()).Run,
		rt.Consumer(consumer.Config{Stream: natsbus.StreamReport, Durable: ReportBacklogConsumer, Subjects: []string{"nrm.report.>"}}, bl.ReportEvents()).Run,
		rt.Consumer(consumer.Config{Stream: natsbus.StreamMeeting, Durable: server.NoticeConsumer, Subjects: []string{"nrm.meeting.>"}}, ms.Notices()).Run,
		app.Every(cmp.Or(s.WatchInterval, 15*time.Minute), "the secretariat's watch", rt.Logger, ms.Watch),
	}
	if len(s.ReportRecipients) > 0 {
		conn, err := peer.Dial("reporting service", s.ReportingAddr, s.ReportingTLS, peer.TokenFile(s.TokenFile))
		if err != nil {
			return nil, err
		}
		files := reportFiles{reportingv1.NewReportServiceClient(conn)}
		workers = append(workers,
			rt.Consumer(consumer.Config{Stream: natsbus.StreamReport, Durable: server.SubmissionConsumer, Subjects: []string{"nrm.report.>"}},
				ms.Submissions(files, s.ReportRecipients)).Run,
			func(ctx context.Context) error {
				<-ctx.Done()
				return conn.Close()
			})
	}

	if retry := seeder.Start(ctx, firstSeedWithin); retry != nil {
		workers = append(workers, retry)
	}
	return workers, nil
}

// Configured returns the service as the settings' values would give it, the defaults for the
// rest, for the dev launcher and tests: values keyed by environment variable name
// (NRM_SMTP_ADDR, …).
func Configured(values map[string]string) (*Service, error) {
	var s Service
	if err := config.Apply("secretariat", values, s.Bind); err != nil {
		return nil, err
	}
	return &s, nil
}

// reportFiles fetches reports' PDF from the reporting service.
type reportFiles struct {
	client reportingv1.ReportServiceClient
}

func (f reportFiles) PDF(ctx context.Context, id string) ([]byte, error) {
	body, err := f.client.ExportReport(ctx, &reportingv1.ExportReportRequest{Id: id, Format: "pdf"})
	if err != nil {
		return nil, err
	}
	return body.GetData(), nil
}
