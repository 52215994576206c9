package providers

import referralv1 "github.com/nrm-albania/nrm/proto/nrm/referral/v1"

// Defaults are the providers a fresh installation starts with: the member institutions that
// deliver assistance themselves (DOMAIN.md, "How a case moves", step 3), each under its
// institution code. They carry no contact: the secretariat records each one's (UpdateProvider).
// Shelters of the coalition, municipal units, health centres and NGOs are registered by the
// secretariat as they join.
func Defaults() []Provider {
	member := referralv1.ProviderKind_PROVIDER_KIND_MEMBER_INSTITUTION.String()
	return []Provider{
		{Code: "AKPA", Name: "National Agency for Employment and Skills", Kind: member,
			ServiceTypes: names(referralv1.ServiceType_SERVICE_TYPE_EMPLOYMENT, referralv1.ServiceType_SERVICE_TYPE_VOCATIONAL_TRAINING), Active: true},
		{Code: "ASHDMF", Name: "State Agency for the Rights and Protection of the Child", Kind: member,
			ServiceTypes: names(referralv1.ServiceType_SERVICE_TYPE_CHILD_PROTECTION), Active: true},
		{Code: "KKSAT", Name: "National Coalition of Anti-trafficking Shelters",
			Kind: referralv1.ProviderKind_PROVIDER_KIND_SHELTER.String(),
			ServiceTypes: names(referralv1.ServiceType_SERVICE_TYPE_SHELTER, referralv1.ServiceType_SERVICE_TYPE_PSYCHOLOGICAL,
				referralv1.ServiceType_SERVICE_TYPE_LEGAL, referralv1.ServiceType_SERVICE_TYPE_EDUCATION,
				referralv1.ServiceType_SERVICE_TYPE_VOCATIONAL_TRAINING, referralv1.ServiceType_SERVICE_TYPE_FAMILY_TRACING), Active: true},
		{Code: "MAS", Name: "Ministry of Education and Sport", Kind: member,
			ServiceTypes: names(referralv1.ServiceType_SERVICE_TYPE_EDUCATION), Active: true},
		{Code: "MEPJ-KONSULLORE", Name: "Ministry for Europe and Foreign Affairs, Consular Directorate", Kind: member,
			ServiceTypes: names(referralv1.ServiceType_SERVICE_TYPE_CONSULAR_AND_DOCUMENTS, referralv1.ServiceType_SERVICE_TYPE_SAFE_RETURN,
				referralv1.ServiceType_SERVICE_TYPE_FAMILY_TRACING), Active: true},
		{Code: "MSHMS", Name: "Ministry of Health and Social Protection", Kind: member,
			ServiceTypes: names(referralv1.ServiceType_SERVICE_TYPE_MEDICAL), Active: true},
		{Code: "SHSSH", Name: "State Social Service (and the National Reception Centre)", Kind: member,
			ServiceTypes: names(referralv1.ServiceType_SERVICE_TYPE_SHELTER, referralv1.ServiceType_SERVICE_TYPE_FINANCIAL_AID,
				referralv1.ServiceType_SERVICE_TYPE_PSYCHOLOGICAL), Active: true},
	}
}

func names(ts ...referralv1.ServiceType) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.String()
	}
	return out
}
