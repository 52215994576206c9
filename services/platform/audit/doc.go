// Package audit is the audit trail every service keeps: one record for every call that reads
// personal data and every call that changes anything, append-only, hash-chained, stored in the
// service's own database and published on the audit stream.
//
//   - A Record holds ids only (institution codes, subject ids, roles, method, object ids, the
//     stated purpose, the outcome code, request and trace ids), never personal data.
//   - Records form a chain: record n carries seq n (1, 2, 3… without gaps), the hash of record
//     n-1 (prev_hash; 64 zeros for the first) and its own hash, SHA-256 over a documented
//     canonical encoding of all its other fields (Hash). Changing, removing, re-ordering or
//     replacing a record breaks the chain at that record or the next, which Verify reports.
//   - Records are documents of the collection "audit" with _id = the seq zero-padded to 12
//     digits (DocumentID). Trail appends by inserting the next _id: the insert is the commit,
//     so concurrent writers (goroutines or replicas) cannot both take a seq, on MongoDB and on
//     FerretDB alike (no transactions, no compare-and-set on updates needed; see
//     docs/decisions.md).
//   - Each record is published as an event (envelope around an nrm.audit.v1.AuditRecord) on the
//     subject "nrm.audit.<service>", stream NRM_AUDIT, through the platform outbox: the event
//     rides in the record's insert and the service's outbox relay publishes it. The published
//     copies sit outside the database and anchor the chain (StreamAnchor): they reveal the one
//     thing the chain cannot show on its own, the removal of its newest records.
//   - Each record is also entered, before it is inserted, in the object index of each of its
//     objects (collection "audit_objects", objects.go), so that one object's records are read
//     by exact _id: List by object and VerifyObject cost that object's records, not the trail's.
//   - List serves auditors' queries (by object, principal, period; newest first, paginated);
//     NewServer exposes List and Verify as nrm.audit.v1.AuditService; VerifyCommand and
//     VerifyObjectCommand are the CLI.
package audit
