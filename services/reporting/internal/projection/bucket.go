package projection

import (
	"slices"
	"time"
)

// bucket is the statistics of one identification day: the state of one document of
// BucketCollection, whose _id (the day) and version the journal keeps.
type bucket struct {
	Counts `bson:",inline"`
	// Applied lists the markers (Case.Marker) of the events counted, so a redelivered event is
	// recognised. It grows with the cases of one day: tens, not thousands.
	Applied []string `bson:"applied"`
	// LastEventAt is when the newest event counted here occurred.
	LastEventAt time.Time `bson:"last_event_at"`
}

// counted reports whether the event behind c is already in the bucket.
func (b bucket) counted(c Case) bool { return slices.Contains(b.Applied, c.Marker()) }

// with returns b with c counted, leaving b unchanged. It is the journal's apply, so it depends
// on nothing but b and c: whoever rolls a bucket forward through the journal computes exactly
// what the event's writer computed.
func (b bucket) with(c Case) bucket {
	next := bucket{
		Counts:      b.Counts.clone(),
		Applied:     append(slices.Clip(b.Applied), c.Marker()),
		LastEventAt: b.LastEventAt,
	}
	next.Counts.Add(c)
	if c.OccurredAt.After(next.LastEventAt) {
		next.LastEventAt = c.OccurredAt
	}
	return next
}
