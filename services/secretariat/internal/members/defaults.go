package members

// DefaultMembers is the composition that point 2 of Joint Instruction no. 132/2023 sets: the
// chair and one representative of each institution. A fresh installation starts with it.
func DefaultMembers() []Member {
	return []Member{
		{Code: "MB-DPAM", Name: "Ministry of Interior, Directorate of Anti-trafficking and Migration Policies", Role: RoleChair},
		{Code: "ASP-ANTITRAF", Name: "State Police, Sector against Illegal Trafficking", Role: RoleMember},
		{Code: "ASP-KUFIRI", Name: "State Police, Border and Migration Department", Role: RoleMember},
		{Code: "ASP-DHF-MINORE", Name: "State Police, Domestic Violence and Juvenile Protection Sector", Role: RoleMember},
		{Code: "ASP-KIBERNETIK", Name: "State Police, Sector against Cybercrime", Role: RoleMember},
		{Code: "MEPJ-KONSULLORE", Name: "Ministry for Europe and Foreign Affairs, Consular Directorate", Role: RoleMember},
		{Code: "MSHMS", Name: "Ministry of Health and Social Protection", Role: RoleMember},
		{Code: "ASHDMF", Name: "State Agency for the Rights and Protection of the Child", Role: RoleMember},
		{Code: "SHSSH", Name: "State Social Service", Role: RoleMember},
		{Code: "MAS", Name: "Ministry of Education and Sport", Role: RoleMember},
		{Code: "AKPA", Name: "National Agency for Employment and Skills", Role: RoleMember},
		{Code: "ISHPSHSH", Name: "State Inspectorate of Labour and Social Services", Role: RoleMember},
		{Code: "KKSAT", Name: "National Coalition of Anti-trafficking Shelters", Role: RoleMember},
	}
}

// DefaultInviteeKinds are the institutions point 3 invites per case: the prosecution and the
// other members of the National Referral Mechanism. The codes follow the Albanian abbreviations
// the member codes use, so that they read naturally next to them:
//
//	PROKURORIA  Prokuroria, the prosecution office competent for the case
//	NJMF        Njësia për Mbrojtjen e Fëmijëve, a municipality's child-protection unit
//	STREHEZA    Strehëza, a shelter: the state reception centre or a KKSAT member's shelter
//	OJF-NJL     Organizatë jofitimprurëse, njësi e lëvizshme: an NGO with a mobile identification unit
func DefaultInviteeKinds() []InviteeKind {
	return []InviteeKind{
		{Code: "PROKURORIA", Name: "Competent prosecution office"},
		{Code: "NJMF", Name: "Municipal child-protection unit"},
		{Code: "STREHEZA", Name: "Shelter for victims of trafficking (the state reception centre or a KKSAT member's shelter)"},
		{Code: "OJF-NJL", Name: "Non-governmental organisation with a mobile identification unit"},
	}
}
