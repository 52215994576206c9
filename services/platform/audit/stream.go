package audit

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	auditv1 "github.com/nrm-albania/nrm/proto/nrm/audit/v1"
	eventsv1 "github.com/nrm-albania/nrm/proto/nrm/events/v1"
	"github.com/nrm-albania/nrm/services/platform/natsbus"
)

// Subject returns the subject the records of service are published on: "nrm.audit.<service>"
// (before the namespace).
func Subject(service string) string { return "nrm.audit." + service }

// StreamAnchor returns, as an anchor for Verify, the record of service last published on the
// audit stream (NRM_AUDIT in namespace ns); ok is false when none was published yet.
//
// The stream is a copy of the chain outside the service's database: deleting or rewriting
// records in the database does not touch it, so any record read from it anchors the chain up
// to that record. The relay publishes records soon after they are stored, not always in seq
// order, so the last published one may be slightly older than the head; it is a valid anchor
// all the same. The returned record's hash is re-computed here: a message that is not a
// genuine record is an error.
func StreamAnchor(ctx context.Context, js jetstream.JetStream, ns natsbus.Namespace, service string) (a Anchor, ok bool, err error) {
	s, err := js.Stream(ctx, ns.Stream(natsbus.StreamAudit))
	if err != nil {
		return Anchor{}, false, fmt.Errorf("audit stream: %w", err)
	}
	msg, err := s.GetLastMsgForSubject(ctx, ns.Subject(Subject(service)))
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return Anchor{}, false, nil
	}
	if err != nil {
		return Anchor{}, false, fmt.Errorf("last audit record of %s on the stream: %w", service, err)
	}
	rec, err := DecodePublished(msg.Data)
	if err != nil {
		return Anchor{}, false, err
	}
	return Anchor{Seq: rec.Seq, Hash: rec.Hash}, true, nil
}

// DecodePublished returns the record carried by a message of the audit stream (an
// nrm.events.v1.Envelope around an nrm.audit.v1.AuditRecord), after checking its hash.
func DecodePublished(data []byte) (Record, error) {
	var env eventsv1.Envelope
	if err := proto.Unmarshal(data, &env); err != nil {
		return Record{}, fmt.Errorf("audit stream message: %w", err)
	}
	var p auditv1.AuditRecord
	if err := env.GetPayload().UnmarshalTo(&p); err != nil {
		return Record{}, fmt.Errorf("audit stream message %s: %w", env.GetId(), err)
	}
	rec := FromProto(&p)
	if rec.HashVersion != HashVersion || Hash(rec) != rec.Hash {
		return Record{}, fmt.Errorf("audit stream message %s: record %d does not match its hash", env.GetId(), rec.Seq)
	}
	return rec, nil
}
