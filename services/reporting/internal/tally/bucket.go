package tally

import (
	"slices"
	"time"
)

// change is what one transition of one document does to one bucket: the tally it stops
// counting there, the one it starts counting, or both. It is what the buckets' journal stores.
type change struct {
	// Marker names the transition: "<document id>@<journal version>", unique to it.
	Marker     string    `bson:"marker"`
	Remove     *Tally    `bson:"remove,omitempty"`
	Add        *Tally    `bson:"add,omitempty"`
	OccurredAt time.Time `bson:"occurred_at"`
}

// bucket is the bucket c changes: both tallies, when c has both, are of the same bucket.
func (c change) bucket() string {
	if c.Add != nil {
		return c.Add.Bucket
	}
	return c.Remove.Bucket
}

// bucket is the figures of one day or month: the state of one document of a bucket collection,
// whose _id and version the journal keeps.
type bucket struct {
	Figures Figures `bson:"figures"`
	// Applied lists the markers of the changes applied, so that a change applied again is
	// recognised. It grows with the events of one bucket's documents: tens or hundreds.
	Applied []string `bson:"applied"`
	// LastEventAt is when the newest event applied here occurred.
	LastEventAt time.Time `bson:"last_event_at"`
}

func (b bucket) applied(c change) bool { return slices.Contains(b.Applied, c.Marker) }

// with returns b with c applied, leaving b unchanged: the journal's apply.
func (b bucket) with(c change) bucket {
	next := bucket{
		Figures:     b.Figures.clone(),
		Applied:     append(slices.Clip(b.Applied), c.Marker),
		LastEventAt: b.LastEventAt,
	}
	if c.Remove != nil {
		next.Figures.Add(c.Remove.Figures, -1)
	}
	if c.Add != nil {
		next.Figures.Add(c.Add.Figures, 1)
	}
	if c.OccurredAt.After(next.LastEventAt) {
		next.LastEventAt = c.OccurredAt
	}
	return next
}
