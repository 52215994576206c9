package projection

import (
	"slices"
	"strconv"
	"time"
)

// bucket is the statistics of one identification day: one document of BucketCollection.
type bucket struct {
	Day string `bson:"_id"`
	// Version counts the events applied; the journal entry "<day>@<version>" holds the last one.
	Version int64 `bson:"version"`
	Counts  `bson:",inline"`
	// Applied lists the markers (Case.Marker) of the events counted, so a redelivered event is
	// recognised. It grows with the cases of one day: tens, not thousands.
	Applied []string `bson:"applied"`
	// LastEventAt is when the newest event counted here occurred.
	LastEventAt time.Time `bson:"last_event_at"`
}

// counted reports whether the event behind c is already in the bucket.
func (b bucket) counted(c Case) bool { return slices.Contains(b.Applied, c.Marker()) }

// with returns the next version of b: b with c counted. It depends on nothing but b and c, so
// whoever rolls a bucket forward through the journal computes exactly what the event's writer
// computed. b is left unchanged.
func (b bucket) with(c Case) bucket {
	next := bucket{
		Day:         b.Day,
		Version:     b.Version + 1,
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

// entryID is the journal _id of the event that made version v of a day's bucket.
func entryID(day string, v int64) string { return day + "@" + strconv.FormatInt(v, 10) }

// entry is one document of JournalCollection: the event that made one version of one bucket.
type entry struct {
	ID   string `bson:"_id"`
	Case Case   `bson:"case"`
}
