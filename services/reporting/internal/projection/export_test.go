package projection

import "context"

// Load stores, in bulk, the statistics of events, each the first of its case, where nothing is
// counted yet (tally.Projection.Load): for the benchmark to load a history of 100,000 cases.
func (p *Projection) Load(ctx context.Context, events []Event) error {
	first := make(map[string]Event, len(events))
	for _, e := range events {
		first[e.CaseID] = e
	}
	return p.p.Load(ctx, first)
}
