package server

import (
	"context"
	"net/mail"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/timestamppb"

	eventsv1 "github.com/nrm-albania/nrm/proto/nrm/events/v1"
	reportingv1 "github.com/nrm-albania/nrm/proto/nrm/reporting/v1"
	"github.com/nrm-albania/nrm/services/platform/consumer"
)

type pdfs map[string][]byte

func (p pdfs) PDF(_ context.Context, id string) ([]byte, error) { return p[id], nil }

// A submitted report is mailed to the Ministry's recipients with its PDF, once however often
// its event comes; the stream's other events and a malformed one write nothing.
func TestSubmittedReportsAreMailedOnce(t *testing.T) {
	now := tirana(2026, 12, 8, 10)
	s, _ := watched(t, tirana(2026, 12, 1, 9), &now)
	recipients, err := mail.ParseAddressList("General director <gd@ministry.example.al>, Deputy minister <dm@ministry.example.al>")
	if err != nil {
		t.Fatal(err)
	}
	handle := s.Submissions(pdfs{"r-2026-11": []byte("%PDF-1.7 the report")}, recipients)
	a, err := anypb.New(&reportingv1.ReportChanged{ReportId: "r-2026-11", Period: "2026-11", Revision: 2})
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range []string{"report.approved", "report.submitted", "report.submitted"} {
		env := &eventsv1.Envelope{Id: typ, Type: typ, AggregateVersion: 9, OccurredAt: timestamppb.New(now), Payload: a}
		if err := handle(t.Context(), env); err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
	}
	n, err := s.Notifications.Get(t.Context(), "report/r-2026-11/submitted")
	if err != nil || len(n.Recipients) != 2 || len(n.Attachments) != 1 || string(n.Attachments[0].Data) != "%PDF-1.7 the report" {
		t.Fatalf("the submission's notification: %+v %v", n, err)
	}
	bad := &eventsv1.Envelope{Id: "x", Type: "report.submitted", Payload: &anypb.Any{TypeUrl: "type.googleapis.com/x.Y", Value: []byte{1}}, OccurredAt: timestamppb.New(time.Now())}
	if err := handle(t.Context(), bad); !consumer.IsPermanent(err) {
		t.Errorf("a malformed event: %v, want a permanent error", err)
	}
}
