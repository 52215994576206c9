package audit

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"google.golang.org/protobuf/types/known/timestamppb"

	auditv1 "github.com/nrm-albania/nrm/proto/nrm/audit/v1"
	"github.com/nrm-albania/nrm/services/platform/apierr"
	"github.com/nrm-albania/nrm/services/platform/pagination"
)

type server struct {
	auditv1.UnimplementedAuditServiceServer
	db *mongo.Database
}

// NewServer returns nrm.audit.v1.AuditService over the trail in db (the service's own
// database). Who may call it (auditors) is the permission table's business, not the server's.
func NewServer(db *mongo.Database) auditv1.AuditServiceServer {
	return &server{db: db}
}

// ListAuditRecords lists records newest first; see List.
func (s *server) ListAuditRecords(ctx context.Context, req *auditv1.ListAuditRecordsRequest) (*auditv1.ListAuditRecordsResponse, error) {
	var v apierr.Violations
	size, err := pagination.Size(req.GetPageSize())
	if err != nil {
		v.Add("page_size", "must be between 0 and %d, got %d", pagination.MaxPageSize, req.GetPageSize())
	}
	if !validPageToken(req.GetObjectId(), req.GetPageToken()) {
		v.Add("page_token", "is not a token returned by this API")
	}
	for _, f := range []struct{ name, value string }{
		{"object_id", req.GetObjectId()}, {"institution", req.GetInstitution()}, {"subject", req.GetSubject()},
	} {
		if len(f.value) > maxString {
			v.Add(f.name, "must be at most %d bytes", maxString)
		}
	}
	from := timestamp(&v, "from", req.GetFrom())
	to := timestamp(&v, "to", req.GetTo())
	if !from.IsZero() && !to.IsZero() && from.After(to) {
		v.Add("from", "must not be after to (%s)", to.Format(time.RFC3339Nano))
	}
	if err := v.Err(); err != nil {
		return nil, err
	}

	recs, next, err := List(ctx, s.db, Filter{
		ObjectID: req.GetObjectId(), Institution: req.GetInstitution(), Subject: req.GetSubject(), From: from, To: to,
	}, size, req.GetPageToken())
	if err != nil {
		return nil, storeError(ctx, err)
	}
	resp := &auditv1.ListAuditRecordsResponse{NextPageToken: next, Records: make([]*auditv1.AuditRecord, len(recs))}
	for i, r := range recs {
		resp.Records[i] = r.Proto()
	}
	return resp, nil
}

// VerifyAuditChain verifies the whole chain (see Verify), or one object's records (see
// VerifyObject).
func (s *server) VerifyAuditChain(ctx context.Context, req *auditv1.VerifyAuditChainRequest) (*auditv1.VerifyAuditChainResponse, error) {
	var v apierr.Violations
	var anchors []Anchor
	switch object := req.GetObjectId(); {
	case len(object) > maxString:
		v.Add("object_id", "must be at most %d bytes", maxString)
	case object != "" && (req.GetAnchorSeq() != 0 || req.GetAnchorHash() != ""):
		v.Add("object_id", "cannot be combined with an anchor: verify the whole chain against an anchor")
	}
	switch seq, hash := req.GetAnchorSeq(), req.GetAnchorHash(); {
	case seq < 0 || seq > maxSeq:
		v.Add("anchor_seq", "must be between 1 and %d, or 0 for no anchor", int64(maxSeq))
	case seq == 0 && hash != "":
		v.Add("anchor_seq", "is required with anchor_hash")
	case seq > 0 && !validHash(hash):
		v.Add("anchor_hash", "must be 64 lowercase hexadecimal digits with anchor_seq")
	case seq > 0:
		anchors = append(anchors, Anchor{Seq: seq, Hash: hash})
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	verify := func() (VerifyResult, error) { return Verify(ctx, s.db, anchors...) }
	if object := req.GetObjectId(); object != "" {
		verify = func() (VerifyResult, error) { return VerifyObject(ctx, s.db, object) }
	}
	res, err := verify()
	if err != nil {
		return nil, storeError(ctx, err)
	}
	return &auditv1.VerifyAuditChainResponse{
		Intact:      res.Intact,
		Records:     res.Records,
		FirstBadSeq: res.FirstBadSeq,
		Problem:     res.Problem,
		HeadSeq:     res.Head.Seq,
		HeadHash:    res.Head.Hash,
		ProblemKind: res.Kind.Proto(),
	}, nil
}

// Proto returns k as the API enum.
func (k ProblemKind) Proto() auditv1.ChainProblem {
	switch k {
	case ProblemAltered:
		return auditv1.ChainProblem_CHAIN_PROBLEM_ALTERED
	case ProblemMissing:
		return auditv1.ChainProblem_CHAIN_PROBLEM_MISSING
	case ProblemMisplaced:
		return auditv1.ChainProblem_CHAIN_PROBLEM_MISPLACED
	case ProblemUnlinked:
		return auditv1.ChainProblem_CHAIN_PROBLEM_UNLINKED
	case ProblemTruncated:
		return auditv1.ChainProblem_CHAIN_PROBLEM_TRUNCATED
	case ProblemAnchorMismatch:
		return auditv1.ChainProblem_CHAIN_PROBLEM_ANCHOR_MISMATCH
	}
	return auditv1.ChainProblem_CHAIN_PROBLEM_UNSPECIFIED
}

// timestamp returns ts as a time, zero when unset, recording a violation when it is invalid.
func timestamp(v *apierr.Violations, field string, ts *timestamppb.Timestamp) time.Time {
	if ts == nil {
		return time.Time{}
	}
	if err := ts.CheckValid(); err != nil {
		v.Add(field, "is not a valid timestamp")
		return time.Time{}
	}
	return ts.AsTime()
}

// storeError turns a database that does not answer into Unavailable, unless the caller's own
// deadline or cancellation is the reason. Other errors pass through (the error hygiene
// interceptor hides internal ones).
func storeError(ctx context.Context, err error) error {
	if ctx.Err() == nil && errors.Is(err, ErrUnavailable) {
		return apierr.Unavailable("the audit store is not answering; retry shortly")
	}
	return err
}
