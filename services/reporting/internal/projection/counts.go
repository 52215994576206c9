package projection

// Counts are the numbers of cases, in total and per value of each dimension. A case with
// several exploitation types or citizenships counts once under each, so a dimension may add up
// to more than Total. A value whose count falls to zero is removed, so that figures rebuilt from
// scratch equal figures that followed every correction.
type Counts struct {
	Total                    int64            `bson:"total"`
	ByExploitationType       map[string]int64 `bson:"by_exploitation_type"`
	BySex                    map[string]int64 `bson:"by_sex"`
	ByAgeBand                map[string]int64 `bson:"by_age_band"`
	ByCitizenship            map[string]int64 `bson:"by_citizenship"`
	ByIdentifyingInstitution map[string]int64 `bson:"by_identifying_institution"`
	ByStatus                 map[string]int64 `bson:"by_status"`
	ByState                  map[string]int64 `bson:"by_state"`
	ByScope                  map[string]int64 `bson:"by_scope"`
	ByPrefecture             map[string]int64 `bson:"by_prefecture"`
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

// Merge adds the counts of o, e.g. of another day.
func (c *Counts) Merge(o Counts) {
	c.Total += o.Total
	merge(&c.ByExploitationType, o.ByExploitationType)
	merge(&c.BySex, o.BySex)
	merge(&c.ByAgeBand, o.ByAgeBand)
	merge(&c.ByCitizenship, o.ByCitizenship)
	merge(&c.ByIdentifyingInstitution, o.ByIdentifyingInstitution)
	merge(&c.ByStatus, o.ByStatus)
	merge(&c.ByState, o.ByState)
	merge(&c.ByScope, o.ByScope)
	merge(&c.ByPrefecture, o.ByPrefecture)
}

// clone returns counts that share no map with c, so that changing them leaves c as it was.
func (c Counts) clone() Counts {
	var n Counts
	n.Merge(c)
	return n
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

func merge(dst *map[string]int64, src map[string]int64) {
	for k, n := range src {
		add(dst, k, n)
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
