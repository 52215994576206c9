package projection

import "time"

// caseDoc is one case as the statistics know it: the state of one document of CaseCollection,
// whose _id (the case id) and journal version the journal keeps.
type caseDoc struct {
	// CaseVersion is the version of the case event applied last: the newest, or a merge.
	CaseVersion int64 `bson:"case_version"`
	// Counted are the facts the buckets count for the case; nil before its first event and
	// once it is merged.
	Counted *Facts `bson:"facts"`
	// Merged stays true once the case was merged into another: a merged duplicate counts nowhere,
	// whatever later events say of it.
	Merged bool `bson:"merged"`
	// Previous are the facts Counted replaced, at PreviousVersion: with Counted, the transition
	// whose changes the buckets must hold, kept so that they can be applied again after a crash.
	Previous        *Facts    `bson:"previous"`
	PreviousVersion int64     `bson:"previous_version"`
	OccurredAt      time.Time `bson:"occurred_at"`
}

// moves reports whether e changes the case: it is newer than the event applied last, or it is
// the case's merge, which is final whenever it arrives (a merged duplicate counts nowhere, even
// when an event of it newer than the merge came first), so that the figures do not depend on the
// order of delivery.
func (d caseDoc) moves(e Event) bool {
	return e.Version > d.CaseVersion || e.Merged && !d.Merged
}

// with returns the case after e, leaving d unchanged. It is the journal's apply, so it depends on
// nothing but d and e.
func (d caseDoc) with(e Event) caseDoc {
	next := caseDoc{
		CaseVersion:     e.Version,
		Merged:          d.Merged || e.Merged,
		Previous:        d.Counted,
		PreviousVersion: d.CaseVersion,
		OccurredAt:      e.OccurredAt,
	}
	if !next.Merged {
		f := e.Facts
		next.Counted = &f
	}
	return next
}

// changes returns what the transition from Previous to Counted does to the buckets, under the
// marker of CaseVersion: the old facts leave their day, the new ones enter theirs, in one change
// when the day is the same. Nothing when the facts counted did not change.
func (d caseDoc) changes(caseID string) []change {
	prev, cur := d.Previous, d.Counted
	if prev != nil && cur != nil && prev.equal(*cur) {
		return nil
	}
	base := change{CaseID: caseID, Version: d.CaseVersion, OccurredAt: d.OccurredAt}
	if prev != nil && cur != nil && prev.Day == cur.Day {
		base.Remove, base.Add = prev, cur
		return []change{base}
	}
	var out []change
	if prev != nil {
		c := base
		c.Remove = prev
		out = append(out, c)
	}
	if cur != nil {
		c := base
		c.Add = cur
		out = append(out, c)
	}
	return out
}
