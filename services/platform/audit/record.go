package audit

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"go.opentelemetry.io/otel/trace"
	"google.golang.org/genproto/googleapis/rpc/code"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	auditv1 "github.com/nrm-albania/nrm/proto/nrm/audit/v1"
	"github.com/nrm-albania/nrm/services/platform/requestid"
)

// Principal is who acts: an institution code, a subject id and roles. Never a name.
type Principal struct {
	Institution string
	Subject     string
	Roles       []string
}

// IsZero reports whether p is the absent principal (no on-behalf-of).
func (p Principal) IsZero() bool {
	return p.Institution == "" && p.Subject == "" && len(p.Roles) == 0
}

// Entry is what the audit interceptor knows about a call. Trail.Record turns it into a Record.
// It holds ids only: never put a name, a birth date or any other personal data in it.
type Entry struct {
	// Time of the call; zero means now.
	Time time.Time
	// The caller: institution code, subject id, roles.
	Institution string
	Subject     string
	Roles       []string
	// The original caller when a service calls on someone's behalf; zero otherwise.
	OnBehalfOf Principal
	// Method is the full gRPC method, e.g. "/nrm.caseregistry.v1.CaseRegistryService/GetCase".
	// Required.
	Method string
	// ObjectIDs are the ids of the objects the call concerned (case ids, referral ids…).
	ObjectIDs []string
	// Purpose is what the caller stated in the "x-nrm-purpose" metadata.
	Purpose string
	// Outcome is the gRPC code name of the result, e.g. "OK", "PERMISSION_DENIED"; Outcome(err)
	// gives it. Required.
	Outcome string
	// RequestID of the call; empty means the one in the context (requestid.From).
	RequestID string
	// TraceID of the call (32 hex digits); empty means the one of the span in the context.
	TraceID string
}

// Record is one audited call as stored in the chain and published on the audit stream.
type Record struct {
	// Seq is the record's position in the chain: 1, 2, 3… without gaps.
	Seq int64
	// ID is unique (a UUIDv7); it is also the id of the record's event on the stream.
	ID string
	// Service is the service whose chain holds the record.
	Service     string
	Time        time.Time
	Institution string
	Subject     string
	Roles       []string
	OnBehalfOf  Principal
	Method      string
	ObjectIDs   []string
	Purpose     string
	Outcome     string
	RequestID   string
	TraceID     string
	// PrevHash is the Hash of the record Seq-1, GenesisHash for the first.
	PrevHash string
	// Hash is Hash(record).
	Hash string
	// HashVersion is the version of the encoding Hash covers (HashVersion).
	HashVersion int32
}

// Head is a position in a chain: a record's seq and hash. Seq 0 with GenesisHash is the empty
// chain. An auditor keeps a Head outside the database (an anchor) to detect later truncation or
// rewriting of the chain up to it.
type Head struct {
	Seq  int64
	Hash string
}

// Anchor is a Head known from outside the database, given to Verify.
type Anchor = Head

// Outcome returns the name of err's gRPC status code as the audit trail records it: "OK" for
// nil, "PERMISSION_DENIED", "NOT_FOUND"… (the google.rpc.Code names). An error that is not a
// status is "UNKNOWN".
func Outcome(err error) string {
	return code.Code_name[int32(status.Code(err))]
}

// ErrInvalidEntry is returned for an entry the trail cannot record (no method, unknown outcome).
var ErrInvalidEntry = errors.New("invalid audit entry")

// Bounds on what an entry may hold. Longer strings are cut (at a character boundary), surplus
// object ids dropped: a hostile caller cannot make a record large, and an audit record is
// always written.
const (
	maxString    = 256
	maxPurpose   = 512
	maxObjectIDs = 100
	maxRoles     = 32
)

// newRecord builds the record of e, everything but its place in the chain (seq, prev_hash,
// hash): strings valid UTF-8 and bounded, roles sorted and unique, object ids unique in the
// order given, time in UTC to the millisecond (what MongoDB stores).
func newRecord(ctx context.Context, service, id string, e Entry, now time.Time) (Record, error) {
	if strings.TrimSpace(e.Method) == "" {
		return Record{}, fmt.Errorf("%w: no method", ErrInvalidEntry)
	}
	if _, ok := code.Code_value[e.Outcome]; !ok {
		return Record{}, fmt.Errorf("%w: outcome %q is not a gRPC code name such as OK or PERMISSION_DENIED", ErrInvalidEntry, e.Outcome)
	}
	at := e.Time
	if at.IsZero() {
		at = now
	}
	reqID := e.RequestID
	if reqID == "" {
		reqID = requestid.From(ctx)
	}
	traceID := e.TraceID
	if traceID == "" {
		if sc := trace.SpanContextFromContext(ctx); sc.HasTraceID() {
			traceID = sc.TraceID().String()
		}
	}
	r := Record{
		ID:          id,
		Service:     service,
		Time:        at.UTC().Truncate(time.Millisecond),
		Institution: clean(e.Institution, maxString),
		Subject:     clean(e.Subject, maxString),
		Roles:       roles(e.Roles),
		OnBehalfOf: Principal{
			Institution: clean(e.OnBehalfOf.Institution, maxString),
			Subject:     clean(e.OnBehalfOf.Subject, maxString),
			Roles:       roles(e.OnBehalfOf.Roles),
		},
		Method:      clean(e.Method, maxString),
		ObjectIDs:   objectIDs(e.ObjectIDs),
		Purpose:     clean(e.Purpose, maxPurpose),
		Outcome:     e.Outcome,
		RequestID:   clean(reqID, maxString),
		TraceID:     clean(traceID, maxString),
		HashVersion: HashVersion,
	}
	return r, nil
}

// clean makes s valid UTF-8 of at most limit bytes, cut at a character boundary.
func clean(s string, limit int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= limit {
		return s
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

func roles(in []string) []string {
	out := make([]string, 0, len(in))
	for _, r := range in {
		if r = clean(r, maxString); r != "" {
			out = append(out, r)
		}
	}
	slices.Sort(out)
	out = slices.Compact(out)
	if len(out) > maxRoles {
		out = out[:maxRoles]
	}
	return out
}

func objectIDs(in []string) []string {
	out := make([]string, 0, len(in))
	for _, id := range in {
		if id = clean(id, maxString); id != "" && !slices.Contains(out, id) {
			out = append(out, id)
			if len(out) == maxObjectIDs {
				break
			}
		}
	}
	return out
}

// Proto returns r as the API message (also the payload of its event on the audit stream).
func (r Record) Proto() *auditv1.AuditRecord {
	p := &auditv1.AuditRecord{
		Seq:         r.Seq,
		Id:          r.ID,
		Service:     r.Service,
		Time:        timestamppb.New(r.Time),
		Institution: r.Institution,
		Subject:     r.Subject,
		Roles:       r.Roles,
		Method:      r.Method,
		ObjectIds:   r.ObjectIDs,
		Purpose:     r.Purpose,
		Outcome:     r.Outcome,
		RequestId:   r.RequestID,
		TraceId:     r.TraceID,
		PrevHash:    r.PrevHash,
		Hash:        r.Hash,
		HashVersion: r.HashVersion,
	}
	if !r.OnBehalfOf.IsZero() {
		p.OnBehalfOf = &auditv1.Principal{
			Institution: r.OnBehalfOf.Institution,
			Subject:     r.OnBehalfOf.Subject,
			Roles:       r.OnBehalfOf.Roles,
		}
	}
	return p
}

// FromProto returns the record p carries, e.g. a copy read from the audit stream; Hash of it
// re-computes its hash.
func FromProto(p *auditv1.AuditRecord) Record {
	return Record{
		Seq:         p.GetSeq(),
		ID:          p.GetId(),
		Service:     p.GetService(),
		Time:        p.GetTime().AsTime(),
		Institution: p.GetInstitution(),
		Subject:     p.GetSubject(),
		Roles:       p.GetRoles(),
		OnBehalfOf: Principal{
			Institution: p.GetOnBehalfOf().GetInstitution(),
			Subject:     p.GetOnBehalfOf().GetSubject(),
			Roles:       p.GetOnBehalfOf().GetRoles(),
		},
		Method:      p.GetMethod(),
		ObjectIDs:   p.GetObjectIds(),
		Purpose:     p.GetPurpose(),
		Outcome:     p.GetOutcome(),
		RequestID:   p.GetRequestId(),
		TraceID:     p.GetTraceId(),
		PrevHash:    p.GetPrevHash(),
		Hash:        p.GetHash(),
		HashVersion: p.GetHashVersion(),
	}
}
