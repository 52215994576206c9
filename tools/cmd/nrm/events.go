package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	// The API's messages, registered so that an envelope's payload (an Any) decodes to JSON.
	_ "github.com/nrm-albania/nrm/proto/nrm/audit/v1"
	_ "github.com/nrm-albania/nrm/proto/nrm/caseregistry/v1"
	eventsv1 "github.com/nrm-albania/nrm/proto/nrm/events/v1"
	_ "github.com/nrm-albania/nrm/proto/nrm/referral/v1"
	_ "github.com/nrm-albania/nrm/proto/nrm/reporting/v1"
	_ "github.com/nrm-albania/nrm/proto/nrm/secretariat/v1"
	"github.com/nrm-albania/nrm/services/platform/config"
	"github.com/nrm-albania/nrm/services/platform/consumer"
	"github.com/nrm-albania/nrm/services/platform/natsbus"
)

// busFlags are the settings every `nrm events` command shares.
type busFlags struct {
	url, namespace string
}

func (b *busFlags) bind(set *config.Set) {
	set.String(&b.url, "nats-url", "nats://127.0.0.1:14222", "the NATS server (default: the one of `make run`)")
	set.String(&b.namespace, "nats-namespace", "", "the system's namespace on a shared NATS")
	set.RequireURL("nats-url", &b.url, "nats", "tls")
}

func (b *busFlags) connect() (*nats.Conn, jetstream.JetStream, error) {
	nc, err := nats.Connect(b.url, nats.Name("nrm-events"))
	if err != nil {
		return nil, nil, fmt.Errorf("nats %s: %w", b.url, err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	return nc, js, nil
}

// listQuery selects the messages of one stream. Names and subjects are without namespace.
type listQuery struct {
	stream   string
	subject  string // a filter, wildcards allowed; "" is every subject of the stream
	sinceSeq uint64
	since    time.Time
	limit    int
}

// eventLine is one message as `nrm events list` prints it.
type eventLine struct {
	Stream   string            `json:"stream"`
	Seq      uint64            `json:"seq"`
	Subject  string            `json:"subject"`
	Time     time.Time         `json:"time"`
	Headers  map[string]string `json:"headers,omitempty"`
	Envelope json.RawMessage   `json:"envelope,omitempty"`
	// DecodeError says why the data is not shown as an envelope; Data is then the raw bytes.
	DecodeError string `json:"decode_error,omitempty"`
	Data        []byte `json:"data,omitempty"`
}

// shownHeaders are the headers an operator acts on: the message id that JetStream deduplicates
// by, the dead-letter ones, and the trace context that finds the request in the traces.
var shownHeaders = []string{jetstream.MsgIDHeader, consumer.HeaderDLQSubject, consumer.HeaderDLQReason,
	consumer.HeaderDLQDeliveries, "Traceparent"}

func listEventsCommand(ctx context.Context, args []string, out io.Writer, now func() time.Time) error {
	var (
		bus           busFlags
		q             listQuery
		sinceSeq      int
		since, stream string
	)
	set := config.NewSet("nrm events list", nil)
	bus.bind(set)
	set.String(&stream, "stream", natsbus.StreamDLQ, "the stream, without namespace: NRM_DLQ, NRM_CASE, …")
	set.String(&q.subject, "subject", "", "only subjects matching this filter, without namespace (e.g. nrm.dlq.reporting-case-statistics.>)")
	set.Int(&sinceSeq, "since-seq", 1, "from this stream sequence on")
	set.String(&since, "since", "", "from this time on: RFC 3339 (2026-12-01T08:00:00Z) or an age (24h)")
	set.Int(&q.limit, "limit", 100, "at most this many messages")
	set.RequireNonEmpty("stream", &stream)
	set.Check(func() error { return config.CheckRange("since-seq", sinceSeq, 1, 1<<62) })
	set.Check(func() error { return config.CheckRange("limit", q.limit, 1, 1_000_000) })
	set.Check(func() (err error) {
		if since != "" && sinceSeq != 1 {
			return errors.New("NRM_SINCE (--since) and NRM_SINCE_SEQ (--since-seq): give one of them")
		}
		q.since, err = parseSince(since, now())
		return err
	})
	if err := set.Parse(args); err != nil {
		return err
	}
	q.stream, q.sinceSeq = stream, uint64(sinceSeq)
	nc, js, err := bus.connect()
	if err != nil {
		return err
	}
	defer nc.Close()
	_, err = listEvents(ctx, js, natsbus.Namespace(bus.namespace), q, out)
	return err
}

// parseSince reads --since: empty, an RFC 3339 time, or an age before now.
func parseSince(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("NRM_SINCE (--since): %q is neither an RFC 3339 time (2026-12-01T08:00:00Z) nor an age (24h)", s)
}

// listEvents writes the messages q selects as JSON lines, oldest first, and returns how many. It
// reads through an ephemeral consumer that acknowledges nothing, so it changes nothing.
func listEvents(ctx context.Context, js jetstream.JetStream, ns natsbus.Namespace, q listQuery, out io.Writer) (int, error) {
	name := ns.Stream(q.stream)
	s, err := js.Stream(ctx, name)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return 0, fmt.Errorf("no stream %s on this NATS (streams: see deploy/nats/streams.md)", name)
	}
	if err != nil {
		return 0, fmt.Errorf("stream %s: %w", name, err)
	}
	cc := jetstream.ConsumerConfig{
		AckPolicy:         jetstream.AckNonePolicy,
		DeliverPolicy:     jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:       max(q.sinceSeq, 1),
		InactiveThreshold: time.Minute,
		MemoryStorage:     true,
	}
	if !q.since.IsZero() {
		cc.DeliverPolicy, cc.OptStartSeq, cc.OptStartTime = jetstream.DeliverByStartTimePolicy, 0, &q.since
	}
	if q.subject != "" {
		cc.FilterSubject = ns.Subject(q.subject)
	}
	c, err := s.CreateConsumer(ctx, cc)
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", name, err)
	}
	// Deleted even after a Ctrl-C; if NATS is gone, the server drops it after InactiveThreshold.
	defer func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = s.DeleteConsumer(dctx, c.CachedInfo().Name)
	}()
	want := min(int(c.CachedInfo().NumPending), q.limit)
	enc := json.NewEncoder(out)
	n := 0
	for n < want {
		batch, err := c.Fetch(min(want-n, 256), jetstream.FetchMaxWait(10*time.Second))
		if err != nil {
			return n, fmt.Errorf("read %s: %w", name, err)
		}
		got := 0
		for m := range batch.Messages() {
			got++
			if err := enc.Encode(describe(name, m)); err != nil {
				return n, err
			}
			n++
		}
		if err := batch.Error(); err != nil {
			return n, fmt.Errorf("read %s: %w", name, err)
		}
		if got == 0 { // deleted meanwhile (replayed, expired): what was there is shown
			break
		}
	}
	return n, nil
}

// describe is one message as a line: the envelope decoded, or the raw data and why not.
func describe(stream string, m jetstream.Msg) eventLine {
	line := eventLine{Stream: stream, Subject: m.Subject()}
	if meta, err := m.Metadata(); err == nil {
		line.Seq, line.Time = meta.Sequence.Stream, meta.Timestamp.UTC()
	}
	for _, h := range shownHeaders {
		if v := m.Headers().Get(h); v != "" {
			if line.Headers == nil {
				line.Headers = map[string]string{}
			}
			line.Headers[h] = v
		}
	}
	var env eventsv1.Envelope
	if err := proto.Unmarshal(m.Data(), &env); err != nil {
		line.DecodeError, line.Data = "not an event envelope: "+err.Error(), m.Data()
		return line
	}
	b, err := protojson.Marshal(&env)
	if err != nil { // a payload of a type this build does not know
		line.DecodeError, line.Data = err.Error(), m.Data()
		return line
	}
	line.Envelope = b
	return line
}

func replayEventCommand(ctx context.Context, args []string, out io.Writer) error {
	var bus busFlags
	set := config.NewSet("nrm events replay", nil)
	bus.bind(set)
	if err := set.Parse(args); err != nil {
		return err
	}
	if set.FlagSet().NArg() == 0 {
		return errors.New("name the dead letters to replay by their sequence in NRM_DLQ (nrm events list shows them)")
	}
	var seqs []uint64
	for _, a := range set.FlagSet().Args() {
		seq, err := strconv.ParseUint(a, 10, 64)
		if err != nil || seq == 0 {
			return fmt.Errorf("%q is not a sequence of NRM_DLQ (a number from 1)", a)
		}
		seqs = append(seqs, seq)
	}
	nc, js, err := bus.connect()
	if err != nil {
		return err
	}
	defer nc.Close()
	enc := json.NewEncoder(out)
	for _, seq := range seqs {
		r, err := consumer.Replay(ctx, js, natsbus.Namespace(bus.namespace), seq)
		if err != nil {
			return err
		}
		if err := enc.Encode(r); err != nil {
			return err
		}
	}
	return nil
}
