package catalogue

import referralv1 "github.com/nrm-albania/nrm/proto/nrm/referral/v1"

// descriptions are the services of step 3 of the SOPs (DOMAIN.md, "How a case moves"). Potential
// and formally identified victims receive the same services, so none depends on status.
var descriptions = map[referralv1.ServiceType]about{
	referralv1.ServiceType_SERVICE_TYPE_SHELTER: {
		name: "Shelter",
		description: "Safe accommodation in the state reception centre for victims of trafficking or in a shelter " +
			"of the National Coalition of Anti-trafficking Shelters (KKSAT), with care and security during the " +
			"reflection and recovery period and afterwards.",
	},
	referralv1.ServiceType_SERVICE_TYPE_MEDICAL: {
		name: "Medical care",
		description: "Medical examination and treatment, including emergency, sexual and reproductive health care, " +
			"through the public health service or a shelter's medical staff.",
	},
	referralv1.ServiceType_SERVICE_TYPE_PSYCHOLOGICAL: {
		name: "Psychological support",
		description: "Counselling and psychological or psychiatric care for the trauma of exploitation, " +
			"by a shelter's staff or a specialised service.",
	},
	referralv1.ServiceType_SERVICE_TYPE_LEGAL: {
		name: "Legal assistance",
		description: "Information on rights, free legal aid and representation: in criminal proceedings against " +
			"traffickers, in claims for compensation, and in matters of status and residence.",
	},
	referralv1.ServiceType_SERVICE_TYPE_EDUCATION: {
		name:        "Education",
		description: "Enrolment in or return to school, catch-up classes and support to continue education.",
	},
	referralv1.ServiceType_SERVICE_TYPE_VOCATIONAL_TRAINING: {
		name: "Vocational training",
		description: "Courses that teach a trade or skill, through the National Agency for Employment and " +
			"Skills or programmes of non-governmental organisations.",
	},
	referralv1.ServiceType_SERVICE_TYPE_EMPLOYMENT: {
		name: "Employment",
		description: "Job mediation, employment promotion programmes and support for self-employment, " +
			"through the employment offices.",
	},
	referralv1.ServiceType_SERVICE_TYPE_FINANCIAL_AID: {
		name:        "Financial aid",
		description: "Economic assistance and other cash support for basic needs during recovery and reintegration.",
	},
	referralv1.ServiceType_SERVICE_TYPE_FAMILY_TRACING: {
		name: "Family tracing and reunification",
		description: "Finding family members and, where it is safe and in the person's interest (a child's best " +
			"interest), reuniting them.",
	},
	referralv1.ServiceType_SERVICE_TYPE_SAFE_RETURN: {
		name: "Safe return",
		description: "Voluntary, safe and dignified return to the country of origin or residence after an " +
			"assessment of the risks, with reception arranged at arrival.",
	},
	referralv1.ServiceType_SERVICE_TYPE_CONSULAR_AND_DOCUMENTS: {
		name: "Consular assistance and identity documents",
		description: "Help from a consulate abroad, and identity, civil-status and travel documents for people " +
			"who lack them or whose documents were withheld.",
	},
	referralv1.ServiceType_SERVICE_TYPE_CHILD_PROTECTION: {
		name: "Child protection",
		description: "Assessment, protection plan and case management by the child-protection authorities (the " +
			"municipal child-protection unit and the State Agency for the Rights and Protection of the Child), " +
			"who decide a child's referrals and have a guardian appointed when needed.",
		childrenOnly: true,
	},
}
