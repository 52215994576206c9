package datasets

// bySex is the breakdown by sex, in the registry's own codes so that the figures line up with
// the case statistics.
var bySex = []Part{{"SEX_FEMALE", "Female"}, {"SEX_MALE", "Male"}, {"SEX_OTHER", "Other or undisclosed"}}

// identified is a front-line institution's potential victims identified, checked against the
// cases the registry says it identified.
func identified(name string) Element {
	return Element{Code: "PV_IDENTIFIED", Name: name, Parts: bySex, CrossCheck: CasesIdentified}
}

// Defaults are the forms a fresh installation starts with, one per member, drawn from each
// member's role in the mechanism (docs/DOMAIN: who identifies, who assists, who shelters). The
// secretariat changes them as the Authority decides; seeding never overwrites a change.
func Defaults() []DataSet {
	forms := map[string][]Element{
		"MB-DPAM": {
			{Code: "TRAININGS_HELD", Name: "Anti-trafficking trainings held for officials"},
			{Code: "OFFICIALS_TRAINED", Name: "Officials trained"},
		},
		"ASP-ANTITRAF": {
			identified("Potential victims identified"),
			{Code: "CRIMINAL_PROCEEDINGS", Name: "Criminal proceedings referred to the prosecution for trafficking"},
		},
		"ASP-KUFIRI": {
			{Code: "BORDER_SCREENINGS", Name: "Screenings for trafficking indicators at border points"},
			identified("Potential victims identified at the border"),
		},
		"ASP-DHF-MINORE": {
			{Code: "CHILD_CASES", Name: "Child cases of potential trafficking identified", Parts: bySex, CrossCheck: CasesIdentified},
		},
		"ASP-KIBERNETIK": {
			{Code: "ONLINE_INVESTIGATIONS", Name: "Online recruitment or exploitation investigations opened"},
			identified("Potential victims identified online"),
		},
		"MEPJ-KONSULLORE": {
			{Code: "CITIZENS_ASSISTED", Name: "Citizens assisted abroad as potential victims", Parts: bySex},
			{Code: "REPATRIATIONS", Name: "Repatriations organised"},
		},
		"MSHMS": {
			{Code: "HEALTH_CARE", Name: "Victims given health care", Parts: bySex},
		},
		"ASHDMF": {
			{Code: "CHILD_CASES", Name: "Child victims' cases followed by child protection", Parts: bySex},
			{Code: "CHILD_PROTECTION_PLANS", Name: "Child protection plans drawn up"},
		},
		"SHSSH": {
			{Code: "SOCIAL_ASSISTANCE", Name: "Victims receiving social assistance"},
			{Code: "ECONOMIC_AID", Name: "Victims receiving economic aid"},
		},
		"MAS": {
			{Code: "ENROLLED", Name: "Victims enrolled in education"},
		},
		"AKPA": {
			{Code: "IN_TRAINING", Name: "Victims in vocational training"},
			{Code: "EMPLOYED", Name: "Victims employed"},
		},
		"ISHPSHSH": {
			{Code: "INSPECTIONS", Name: "Labour inspections carried out"},
			{Code: "INSPECTIONS_WITH_INDICATORS", Name: "Inspections finding trafficking indicators"},
			{Code: "REFERRALS", Name: "Potential victims referred", CrossCheck: CasesIdentified},
		},
		"KKSAT": {
			{Code: "ADMISSIONS", Name: "Admissions to shelters", Parts: bySex},
			{Code: "RESIDENTS_MONTH_END", Name: "Residents at the end of the month"},
			{Code: "EXITS", Name: "Exits from shelters"},
		},
	}
	out := make([]DataSet, 0, len(Members))
	for _, m := range Members {
		out = append(out, DataSet{Member: m, Elements: forms[m]})
	}
	return out
}

// Members are the 13 member institutions of a fresh installation (point 2), in code order.
var Members = []string{
	"AKPA", "ASHDMF", "ASP-ANTITRAF", "ASP-DHF-MINORE", "ASP-KIBERNETIK", "ASP-KUFIRI", "ISHPSHSH",
	"KKSAT", "MAS", "MB-DPAM", "MEPJ-KONSULLORE", "MSHMS", "SHSSH",
}
