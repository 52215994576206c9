package consumer

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	eventsv1 "github.com/nrm-albania/nrm/proto/nrm/events/v1"
	"github.com/nrm-albania/nrm/services/platform/natsbus"
)

// Headers of a dead letter, besides those of the original message (its trace context, say).
const (
	// HeaderDLQReason is why the consumer gave up on the message.
	HeaderDLQReason = "Nrm-Dlq-Reason"
	// HeaderDLQSubject is the subject the message was published on, namespace included: where
	// Replay republishes it.
	HeaderDLQSubject = "Nrm-Dlq-Subject"
	// HeaderDLQDeliveries is how many times the consumer was given the message.
	HeaderDLQDeliveries = "Nrm-Dlq-Deliveries"
)

// Replayed is what Replay did with one dead letter.
type Replayed struct {
	// DeadLetter is the message's sequence in the dead-letter stream, where it is now deleted.
	DeadLetter uint64 `json:"dead_letter_seq"`
	// Subject is the original subject it was republished on.
	Subject string `json:"subject"`
	// Stream and Seq are where it was stored again.
	Stream string `json:"stream"`
	Seq    uint64 `json:"seq"`
	// MsgID is the Nats-Msg-Id of the republished message (ReplayMsgID).
	MsgID string `json:"msg_id"`
	// Duplicate says that an earlier replay of the same dead letter, within the stream's
	// duplicate window, had already republished it; it was not stored twice.
	Duplicate bool `json:"duplicate"`
}

// ReplayMsgID is the Nats-Msg-Id of the replay of dead letter seq carrying eventID ("" when the
// envelope cannot be decoded). It is not the event id: that one is remembered by the original
// stream for natsbus.DuplicateWindow after the first publish, and a replay within the window
// would be dropped as a duplicate. It is the same for every replay of one dead letter, so a replay
// repeated within the window (after a failure to delete the dead letter, say) is dropped, and one
// repeated after it is applied once anyway: consumers are idempotent per aggregate version.
func ReplayMsgID(seq uint64, eventID string) string {
	id := "replay-" + strconv.FormatUint(seq, 10)
	if eventID != "" {
		id += "-" + eventID
	}
	return id
}

// Replay republishes the dead letter at sequence seq of the dead-letter stream to its original
// subject, with its data and headers (less the dead-letter ones) and the message id
// ReplayMsgID, then deletes it from the dead-letter stream. Every consumer of the original stream
// sees it again; those that had applied it recognise it.
func Replay(ctx context.Context, js jetstream.JetStream, ns natsbus.Namespace, seq uint64) (Replayed, error) {
	if seq == 0 {
		return Replayed{}, errors.New("a dead letter's sequence starts at 1")
	}
	dlq := ns.Stream(natsbus.StreamDLQ)
	s, err := js.Stream(ctx, dlq)
	if err != nil {
		return Replayed{}, fmt.Errorf("stream %s: %w", dlq, err)
	}
	dl, err := s.GetMsg(ctx, seq)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return Replayed{}, fmt.Errorf("no message %d in %s (already replayed, or expired)", seq, dlq)
	}
	if err != nil {
		return Replayed{}, fmt.Errorf("message %d of %s: %w", seq, dlq, err)
	}
	original := dl.Header.Get(HeaderDLQSubject)
	if original == "" || !strings.HasPrefix(original, ns.Subject("")) ||
		strings.HasPrefix(original, ns.Subject(natsbus.SubjectDLQPrefix)) {
		return Replayed{}, fmt.Errorf("message %d of %s is not a dead letter of this namespace (%s %q)",
			seq, dlq, HeaderDLQSubject, original)
	}
	var env eventsv1.Envelope
	eventID := ""
	if proto.Unmarshal(dl.Data, &env) == nil {
		eventID = env.GetId()
	}
	msg := nats.NewMsg(original)
	msg.Data = dl.Data
	for k, v := range dl.Header {
		if k == HeaderDLQReason || k == HeaderDLQSubject || k == HeaderDLQDeliveries {
			continue
		}
		msg.Header[k] = v
	}
	id := ReplayMsgID(seq, eventID)
	ack, err := js.PublishMsg(ctx, msg, jetstream.WithMsgID(id))
	if err != nil {
		return Replayed{}, fmt.Errorf("republish dead letter %d to %s: %w", seq, original, err)
	}
	out := Replayed{DeadLetter: seq, Subject: original, Stream: ack.Stream, Seq: ack.Sequence, MsgID: id, Duplicate: ack.Duplicate}
	if err := s.DeleteMsg(ctx, seq); err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) {
		return out, fmt.Errorf("republished to %s, but dead letter %d is still in %s (replaying it again is harmless): %w",
			original, seq, dlq, err)
	}
	return out, nil
}
