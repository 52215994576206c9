package projection

import "github.com/nrm-albania/nrm/services/reporting/internal/tally"

// Counts are the numbers of cases, in total and per value of each dimension. A case with
// several exploitation types or citizenships counts once under each, so a dimension may add up
// to more than Total. A value whose count falls to zero is removed, so that figures rebuilt from
// scratch equal figures that followed every correction.
type Counts struct {
	Total                    int64
	ByExploitationType       map[string]int64
	BySex                    map[string]int64
	ByAgeBand                map[string]int64
	ByCitizenship            map[string]int64
	ByIdentifyingInstitution map[string]int64
	ByStatus                 map[string]int64
	ByState                  map[string]int64
	ByScope                  map[string]int64
	ByPrefecture             map[string]int64
}

// Add counts the case with facts f n times: 1 to count it, -1 to stop counting it. A value
// repeated within the case counts once.
func (c *Counts) Add(f Facts, n int64) {
	c.Total += n
	add(&c.BySex, f.Sex, n)
	add(&c.ByAgeBand, f.AgeBand, n)
	add(&c.ByIdentifyingInstitution, f.IdentifyingInstitution, n)
	add(&c.ByStatus, f.Status, n)
	add(&c.ByState, f.State, n)
	add(&c.ByScope, f.Scope, n)
	add(&c.ByPrefecture, f.Prefecture, n)
	for _, v := range distinct(f.ExploitationTypes) {
		add(&c.ByExploitationType, v, n)
	}
	for _, v := range distinct(f.Citizenships) {
		add(&c.ByCitizenship, v, n)
	}
}

// The figures' dimensions (tally.Figures) that hold the counts: the total, and one per field.
const (
	dimTotal = "total"
	keyCases = "cases"
)

// dimensions names each count by value in the figures.
func (c *Counts) dimensions() map[string]*map[string]int64 {
	return map[string]*map[string]int64{
		"by_exploitation_type": &c.ByExploitationType, "by_sex": &c.BySex, "by_age_band": &c.ByAgeBand,
		"by_citizenship": &c.ByCitizenship, "by_identifying_institution": &c.ByIdentifyingInstitution,
		"by_status": &c.ByStatus, "by_state": &c.ByState, "by_scope": &c.ByScope, "by_prefecture": &c.ByPrefecture,
	}
}

// figuresOf is what one case with facts f counts.
func figuresOf(f Facts) tally.Figures {
	var c Counts
	c.Add(f, 1)
	out := tally.Figures{}
	out.Set(dimTotal, keyCases, c.Total)
	for dim, byValue := range c.dimensions() {
		for v, n := range *byValue {
			out.Set(dim, v, n)
		}
	}
	return out
}

// countsOf reads the counts out of figures, a sum of figuresOf.
func countsOf(f tally.Figures) Counts {
	c := Counts{Total: f[dimTotal][keyCases]}
	for dim, byValue := range c.dimensions() {
		for v, n := range f[dim] {
			add(byValue, v, n)
		}
	}
	return c
}

func add(m *map[string]int64, key string, n int64) {
	if *m == nil {
		*m = make(map[string]int64)
	}
	(*m)[key] += n
	if (*m)[key] == 0 {
		delete(*m, key)
	}
}

func distinct(values []string) []string {
	seen := make(map[string]bool, len(values))
	out := values[:0:0]
	for _, v := range values {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}
