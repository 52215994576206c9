package audit

import (
	"context"
	"time"

	"github.com/google/uuid"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// VerifyPaged is Verify reading pageSize records per query, so that tests cross page
// boundaries with few records.
func VerifyPaged(ctx context.Context, db *mongo.Database, pageSize int64, anchors ...Anchor) (VerifyResult, error) {
	return verify(ctx, db, pageSize, anchors)
}

// HintEvery is how often the head hint is written.
const HintEvery = hintEvery

// BuildChain returns the documents of n valid records following head, the i-th made from
// entry(i), and the new head: for loading a large chain quickly (Trail writes one at a time).
func BuildChain(ctx context.Context, head Head, n int, entry func(i int) Entry) ([]any, Head, error) {
	docs := make([]any, 0, n)
	for i := range n {
		r, err := newRecord(ctx, "caseregistry", uuid.NewString(), entry(i), time.Now())
		if err != nil {
			return nil, head, err
		}
		r.Seq, r.PrevHash = head.Seq+1, head.Hash
		r.Hash = Hash(r)
		head = Head{Seq: r.Seq, Hash: r.Hash}
		docs = append(docs, toDocument(r, nil))
	}
	return docs, head, nil
}

// IndexEntries returns the object index entries of docs (records built by BuildChain) as Trail
// writes them, and marks the records as indexed; last holds each object's last n, and is
// updated. For loading a large indexed trail quickly.
func IndexEntries(docs []any, last map[string]int64) []any {
	var entries []any
	for i, d := range docs {
		doc := d.(document)
		doc.ObjectsIndexed = true
		docs[i] = doc
		for _, o := range doc.ObjectIDs {
			last[o]++
			entries = append(entries, objectEntry{ID: entryID(o, last[o]), Object: o, N: last[o], Seq: doc.Seq, Hash: doc.Hash})
		}
	}
	return entries
}
