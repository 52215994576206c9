package authz

import (
	"context"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/nrm-albania/nrm/services/platform/audit"
	"github.com/nrm-albania/nrm/services/platform/auth"
)

// Recorder writes the audit record of every call whose rule asks for one: after the handler,
// with the outcome, and — for reads of personal data — before the data leaves the service.
type Recorder struct {
	trail  *audit.Trail
	table  map[string]Rule
	log    *slog.Logger
	failed prometheus.Counter
}

// NewRecorder returns a recorder writing to trail, registering its metric on reg.
func NewRecorder(trail *audit.Trail, table map[string]Rule, log *slog.Logger, reg prometheus.Registerer) *Recorder {
	r := &Recorder{trail: trail, table: table, log: log, failed: prometheus.NewCounter(prometheus.CounterOpts{
		Name: "nrm_audit_record_failures_total",
		Help: "Audited calls whose record could not be written (reads refused, changes logged).",
	})}
	reg.MustRegister(r.failed)
	return r
}

// Audit implements grpcserver.Auditor.
func (r *Recorder) Audit(ctx context.Context, method string, req, resp any, callErr error) error {
	rule, ok := r.table[method]
	if !ok || rule.Audit == NoAudit {
		return nil
	}
	e := audit.Entry{Method: method, Outcome: audit.Outcome(callErr), ObjectIDs: objectIDs(req, resp)}
	for _, id := range notedObjects(ctx) {
		e.ObjectIDs = append(e.ObjectIDs, objectID(id))
	}
	if p, ok := auth.FromContext(ctx); ok {
		e.Institution, e.Subject, e.Roles = p.Institution, p.Subject, roleNames(p.Roles)
		if o := p.OnBehalfOf; o != nil {
			e.OnBehalfOf = audit.Principal{Institution: o.Institution, Subject: o.Subject, Roles: roleNames(o.Roles)}
		}
	}
	if p, ok := StatedPurpose(ctx); ok {
		e.Purpose = p.String()
	}
	// The record is written even if the caller has gone: the call happened.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if _, err := r.trail.Record(wctx, e); err != nil {
		r.failed.Inc()
		if rule.Audit == AuditRead && callErr == nil {
			r.log.ErrorContext(ctx, "audit record not written; the data is withheld", "grpc.method", method, "error", err)
			return status.Error(codes.Unavailable, "the access could not be recorded in the audit trail, so the data is withheld; retry later")
		}
		// The change is done and cannot be undone here: say so loudly.
		r.log.ErrorContext(ctx, "audit record of a call not written", "grpc.method", method,
			"objects", strings.Join(e.ObjectIDs, ","), "outcome", e.Outcome, "error", err)
	}
	return nil
}

// InvalidObjectID is recorded in place of an id field that holds no id: what a caller typed
// there (a name in GET /v1/cases/{id}, say) must not be kept in the trail.
const InvalidObjectID = "invalid"

// objectIDPattern is what an object id looks like when it is not a UUID: a resource code such
// as the case code VT-2026-00042 or a letter's protocol number MB-SEK-2026-0001, or a document's
// digest, sha256:<hex>, such as approved minutes' PDF (the trail then proves which bytes were
// approved).
var objectIDPattern = regexp.MustCompile(`^([A-Z]{2,4}-[0-9]{4}-[0-9]{5}|MB-SEK-[0-9]{4}-[0-9]{4,6}|sha256:[0-9a-f]{64})$`)

// objectID is id if it has the shape of an id (a UUID in canonical form, or a resource code),
// InvalidObjectID otherwise.
func objectID(id string) string {
	if _, err := uuid.Parse(id); (err == nil && len(id) == 36) || objectIDPattern.MatchString(id) {
		return id
	}
	return InvalidObjectID
}

// objectIDs finds the ids a call concerned: the request's own id fields ("id", "case_id", …)
// and the id of each message the response returns (the created case, say).
func objectIDs(req, resp any) []string {
	var ids []string
	if m, ok := req.(proto.Message); ok && m != nil {
		ids = appendIDs(ids, m.ProtoReflect())
	}
	if m, ok := resp.(proto.Message); ok && m != nil && m.ProtoReflect().IsValid() {
		m.ProtoReflect().Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
			if fd.Kind() == protoreflect.MessageKind && !fd.IsList() && !fd.IsMap() {
				ids = appendIDs(ids, v.Message())
			}
			return true
		})
	}
	return ids
}

func appendIDs(ids []string, m protoreflect.Message) []string {
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		name := string(fd.Name())
		if fd.Kind() == protoreflect.StringKind && !fd.IsList() && !fd.IsMap() && (name == "id" || strings.HasSuffix(name, "_id")) {
			ids = append(ids, objectID(v.String()))
		}
		return true
	})
	return ids
}

func roleNames(rs []auth.Role) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = string(r)
	}
	return out
}
