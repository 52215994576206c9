package projection

// Counts are the numbers of cases, in total and per value of each dimension. A case with
// several exploitation types or citizenships counts once under each, so a dimension may add up
// to more than Total.
type Counts struct {
	Total                    int64            `bson:"total"`
	ByExploitationType       map[string]int64 `bson:"by_exploitation_type"`
	BySex                    map[string]int64 `bson:"by_sex"`
	ByAgeBand                map[string]int64 `bson:"by_age_band"`
	ByCitizenship            map[string]int64 `bson:"by_citizenship"`
	ByIdentifyingInstitution map[string]int64 `bson:"by_identifying_institution"`
}

// Add counts one case. A value repeated within the case counts once.
func (c *Counts) Add(k Case) {
	c.Total++
	add(&c.BySex, k.Sex, 1)
	add(&c.ByAgeBand, k.AgeBand, 1)
	add(&c.ByIdentifyingInstitution, k.IdentifyingInstitution, 1)
	for _, v := range distinct(k.ExploitationTypes) {
		add(&c.ByExploitationType, v, 1)
	}
	for _, v := range distinct(k.Citizenships) {
		add(&c.ByCitizenship, v, 1)
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
