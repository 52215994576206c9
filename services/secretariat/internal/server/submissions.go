package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/mail"

	eventsv1 "github.com/nrm-albania/nrm/proto/nrm/events/v1"
	reportingv1 "github.com/nrm-albania/nrm/proto/nrm/reporting/v1"
	"github.com/nrm-albania/nrm/services/platform/auth"
	"github.com/nrm-albania/nrm/services/platform/consumer"
	secmail "github.com/nrm-albania/nrm/services/secretariat/internal/mail"
	"github.com/nrm-albania/nrm/services/secretariat/internal/notify"
)

// SubmissionConsumer is the durable consumer that mails each submitted report to the Ministry.
const SubmissionConsumer = "secretariat-report-submissions"

// ReportFiles gives a report's PDF: the reporting service, asked as this service.
type ReportFiles interface {
	PDF(ctx context.Context, reportID string) ([]byte, error)
}

// Submissions mails each report the reporting service submits (report.submitted) to the
// Ministry's recipients (point 11: the general director and the deputy minister), the frozen PDF
// attached, once: the notification's id is the report's.
func (s *Meetings) Submissions(files ReportFiles, recipients []*mail.Address) consumer.Handler {
	return func(ctx context.Context, env *eventsv1.Envelope) error {
		if env.GetType() != "report.submitted" {
			return nil // the stream's other events: not ours to read
		}
		var r reportingv1.ReportChanged
		if err := env.GetPayload().UnmarshalTo(&r); err != nil {
			return consumer.Permanent(fmt.Errorf("%s %s: %w", env.GetType(), env.GetId(), err))
		}
		// Asked as the secretariat's service itself: no caller started this.
		pdf, err := files.PDF(auth.DetachCaller(ctx), r.GetReportId())
		if err != nil {
			return fmt.Errorf("the PDF of report %s: %w", r.GetReportId(), err)
		}
		sum := sha256.Sum256(pdf)
		n := notify.Notification{
			ID: "report/" + r.GetReportId() + "/submitted", Kind: "report", Institutions: []string{s.Chair},
			Subject: "Report " + r.GetPeriod() + " of the Responsible Authority",
			Text: fmt.Sprintf("The Responsible Authority submits its report for %s, approved by all its members (revision %d).\n"+
				"The PDF is attached; its SHA-256, kept in the audit trail, is %s.\n", r.GetPeriod(), r.GetRevision(), hex.EncodeToString(sum[:])),
			Attachments: []secmail.Attachment{{Name: "report-" + r.GetPeriod() + ".pdf", ContentType: "application/pdf", Data: pdf}},
			CreatedAt:   s.stamp(),
		}
		for _, a := range recipients {
			n.Recipients = append(n.Recipients, notify.Recipient{Institution: s.Chair, Name: a.Name, Address: a.Address})
		}
		return s.queue(ctx, n)
	}
}
