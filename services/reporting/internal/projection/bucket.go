package projection

import (
	"slices"
	"time"
)

// change is what one case version does to one day's bucket: the facts it stops counting there,
// those it starts counting, or both. It is what the buckets' journal stores.
type change struct {
	CaseID  string `bson:"case_id"`
	Version int64  `bson:"case_version"`
	// Part tells apart, in a month's bucket, the changes one case version makes to two days of
	// that month (leaving one, entering the other): "/<day>". Empty in a day's bucket.
	Part       string    `bson:"part,omitempty"`
	Remove     *Facts    `bson:"remove,omitempty"`
	Add        *Facts    `bson:"add,omitempty"`
	OccurredAt time.Time `bson:"occurred_at"`
}

// mark is c's marker in the bucket it changes.
func (c change) mark() string { return marker(c.CaseID, c.Version) + c.Part }

// inMonth is c as it changes its month's bucket.
func (c change) inMonth() change {
	c.Part = "/" + c.day()
	return c
}

// month is the month c's day falls in, "YYYY-MM".
func (c change) month() string { return c.day()[:7] }

// day is the bucket c changes: both facts, when c has both, are of the same day.
func (c change) day() string {
	if c.Add != nil {
		return c.Add.Day
	}
	return c.Remove.Day
}

// bucket is the statistics of one identification day, or month: the state of one document of
// BucketCollection (MonthCollection), whose _id (the day, the month) and version the journal
// keeps.
type bucket struct {
	Counts `bson:",inline"`
	// Applied lists the markers of the changes applied, so a change applied again is recognised.
	// It grows with the events of one day's cases: tens, not thousands (a month's: hundreds).
	Applied []string `bson:"applied"`
	// LastEventAt is when the newest event applied here occurred.
	LastEventAt time.Time `bson:"last_event_at"`
}

// applied reports whether c is already in the bucket.
func (b bucket) applied(c change) bool {
	return slices.Contains(b.Applied, c.mark())
}

// with returns b with c applied, leaving b unchanged. It is the journal's apply, so it depends
// on nothing but b and c: whoever rolls a bucket forward through the journal computes exactly
// what the change's writer computed.
func (b bucket) with(c change) bucket {
	next := bucket{
		Counts:      b.Counts.clone(),
		Applied:     append(slices.Clip(b.Applied), c.mark()),
		LastEventAt: b.LastEventAt,
	}
	if c.Remove != nil {
		next.Counts.Add(*c.Remove, -1)
	}
	if c.Add != nil {
		next.Counts.Add(*c.Add, 1)
	}
	if c.OccurredAt.After(next.LastEventAt) {
		next.LastEventAt = c.OccurredAt
	}
	return next
}
