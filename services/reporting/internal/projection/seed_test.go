package projection

import "github.com/nrm-albania/nrm/services/platform/journal"

// SeedDay returns what the projection stores after applying each of events once, for a
// benchmark to insert in bulk rather than apply one by one: the bucket of day and the cases'
// documents. They are computed in memory through the projection's own transitions
// (caseDoc.with, caseDoc.changes, bucket.with), so they are the documents Apply would have
// written. The journals' entries are left out: nothing but Apply reads them. Every event's facts
// must be of day, and each event the first of its case.
func SeedDay(day string, events []Event) (bucketDoc any, caseDocs []any) {
	var b bucket
	var version int64
	for _, e := range events {
		d := caseDoc{}.with(e)
		caseDocs = append(caseDocs, journal.Doc[caseDoc]{ID: e.CaseID, Version: 1, State: d})
		for _, c := range d.changes(e.CaseID) {
			if c.day() != day {
				panic("SeedDay: case " + e.CaseID + " is of " + c.day() + ", not " + day)
			}
			b = b.with(c)
			version++
		}
	}
	return journal.Doc[bucket]{ID: day, Version: version, State: b}, caseDocs
}

// SeedMonth returns, as SeedDay does for a day, the bucket of month after each of events once.
func SeedMonth(month string, events []Event) any {
	var b bucket
	var version int64
	for _, e := range events {
		for _, c := range (caseDoc{}).with(e).changes(e.CaseID) {
			if c.month() != month {
				panic("SeedMonth: case " + e.CaseID + " is of " + c.month() + ", not " + month)
			}
			b = b.with(c.inMonth())
			version++
		}
	}
	return journal.Doc[bucket]{ID: month, Version: version, State: b}
}
