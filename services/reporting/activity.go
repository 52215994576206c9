package reporting

import (
	reportingv1 "github.com/nrm-albania/nrm/proto/nrm/reporting/v1"
	"github.com/nrm-albania/nrm/services/platform/app"
	"github.com/nrm-albania/nrm/services/platform/consumer"
	"github.com/nrm-albania/nrm/services/platform/natsbus"
	"github.com/nrm-albania/nrm/services/reporting/internal/crosstab"
	"github.com/nrm-albania/nrm/services/reporting/internal/events"
	"github.com/nrm-albania/nrm/services/reporting/internal/meetingstats"
	"github.com/nrm-albania/nrm/services/reporting/internal/referralstats"
	"github.com/nrm-albania/nrm/services/reporting/internal/server"
)

// Durable consumers of the referral and meeting figures; they also name their dead letters,
// nrm.dlq.<consumer>.<subject>. Each reads its whole stream with no filter subject: the servers
// older than 2.10 take one filter only, and the meeting stream holds three families of subjects
// (meeting, decision, action); the handlers check each event's type before decoding it.
const (
	ReferralStatisticsConsumer = "reporting-referrals"
	MeetingStatisticsConsumer  = "reporting-meetings"
)

// CaseCrossTabConsumer feeds the cases' cross-tabulations from the case stream. It is a consumer
// of its own, beside CaseStatisticsConsumer, so that the pairs are rebuilt from the beginning of
// the stream on an installation that had the statistics before them.
const CaseCrossTabConsumer = "reporting-case-crosstab"

// setupActivity registers ActivityService and returns the consumers that keep its figures.
func setupActivity(rt *app.Runtime) []app.Worker {
	referrals, meetings, tables := referralstats.New(rt.DB), meetingstats.New(rt.DB), crosstab.New(rt.DB)
	reportingv1.RegisterActivityServiceServer(rt.GRPC, server.NewActivity(referrals, meetings, tables))
	return []app.Worker{
		rt.Consumer(consumer.Config{Stream: natsbus.StreamReferral, Durable: ReferralStatisticsConsumer},
			events.ReferralStatistics(referrals, rt.Logger)).Run,
		rt.Consumer(consumer.Config{Stream: natsbus.StreamMeeting, Durable: MeetingStatisticsConsumer},
			events.MeetingStatistics(meetings, rt.Logger)).Run,
		rt.Consumer(consumer.Config{Stream: natsbus.StreamCase, Durable: CaseCrossTabConsumer, Subjects: []string{"nrm.case.>"}},
			events.CaseCrossTab(tables, rt.Logger)).Run,
	}
}
