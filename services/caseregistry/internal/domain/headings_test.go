package domain

import (
	"reflect"
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	caseregistryv1 "github.com/nrm-albania/nrm/proto/nrm/caseregistry/v1"
)

// outcome summarises an error for table tests: "" for none, the field paths of an
// InvalidArgument ("invalid: a,b") or the reason of a FailedPrecondition ("precondition: X").
func outcome(t *testing.T, err error) string {
	t.Helper()
	if err == nil {
		return ""
	}
	st, ok := status.FromError(err)
	if !ok {
		t.Fatalf("not a gRPC status: %v", err)
	}
	switch st.Code() {
	case codes.InvalidArgument:
		return "invalid: " + strings.Join(violations(t, err), ",")
	case codes.FailedPrecondition:
		for _, d := range st.Details() {
			if ei, ok := d.(*errdetails.ErrorInfo); ok {
				return "precondition: " + ei.GetReason()
			}
		}
		t.Fatalf("FailedPrecondition without ErrorInfo: %v", err)
	}
	t.Fatalf("unexpected error %v", err)
	return ""
}

// errorInfo returns the ErrorInfo of a FailedPrecondition error.
func errorInfo(t *testing.T, err error) *errdetails.ErrorInfo {
	t.Helper()
	st, _ := status.FromError(err)
	for _, d := range st.Details() {
		if ei, ok := d.(*errdetails.ErrorInfo); ok {
			return ei
		}
	}
	t.Fatalf("no ErrorInfo in %v", err)
	return nil
}

// fullRequest is a registration with every heading fully recorded.
func fullRequest() *caseregistryv1.RegisterCaseRequest {
	r := validRequest()
	r.Profile.ResidenceMunicipality = "Durrës"
	r.Profile.ResidencePrefecture = caseregistryv1.Prefecture_PREFECTURE_DURRES
	r.Profile.PrimaryLanguage = "sq"
	r.Profile.EducationLevel = caseregistryv1.EducationLevel_EDUCATION_LEVEL_LOWER_SECONDARY
	r.Trafficking.Scope = caseregistryv1.TraffickingScope_TRAFFICKING_SCOPE_TRANSNATIONAL
	r.Trafficking.RecruitmentCountries = []string{"AL"}
	r.Trafficking.ExploitationCountries = []string{"IT", "GR"}
	r.Trafficking.RecruitmentMethod = caseregistryv1.RecruitmentMethod_RECRUITMENT_METHOD_ROMANTIC_RELATIONSHIP
	r.Trafficking.MeansOfControl = []caseregistryv1.MeansOfControl{
		caseregistryv1.MeansOfControl_MEANS_OF_CONTROL_THREATS, caseregistryv1.MeansOfControl_MEANS_OF_CONTROL_WITHHELD_DOCUMENTS}
	r.Trafficking.RecruiterRelation = caseregistryv1.RecruiterRelation_RECRUITER_RELATION_INTIMATE_PARTNER
	r.Trafficking.ExploitationPeriod = &caseregistryv1.DatePeriod{StartDate: "2025-06-01", EndDate: "2026-09-30"}
	r.Identification.ReferringInstitution = "KKSAT"
	r.Identification.Place = "Vlorë"
	r.Identification.Channel = caseregistryv1.IdentificationChannel_IDENTIFICATION_CHANNEL_MOBILE_UNIT
	r.Identity = &caseregistryv1.Identity{GivenName: "Ëndrit", FamilyName: "Çela", DateOfBirth: "2009-05-01",
		ContactDetails: "+355 69 000 0000", Address: "Rruga 1\nDurrës", FamilyContacts: "mother:\t+355 68 000 0000\nbrother"}
	return r
}

func TestNewRegistrationStoresEveryHeading(t *testing.T) {
	c, id, err := NewRegistration(fullRequest(), today)
	if err != nil {
		t.Fatal(err)
	}
	age := int32(17)
	want := Case{
		State: "CASE_STATE_OPEN",
		Profile: Profile{Sex: "SEX_FEMALE", AgeAtIdentification: &age, Citizenships: []string{"AL"},
			ResidenceMunicipality: "Durrës", ResidencePrefecture: "PREFECTURE_DURRES", PrimaryLanguage: "sq",
			EducationLevel: "EDUCATION_LEVEL_LOWER_SECONDARY"},
		Trafficking: Trafficking{Status: "TRAFFICKING_STATUS_POTENTIAL_VICTIM", ExploitationTypes: []string{"EXPLOITATION_TYPE_SEXUAL"},
			Scope: "TRAFFICKING_SCOPE_TRANSNATIONAL", RecruitmentCountries: []string{"AL"}, ExploitationCountries: []string{"IT", "GR"},
			RecruitmentMethod: "RECRUITMENT_METHOD_ROMANTIC_RELATIONSHIP",
			MeansOfControl:    []string{"MEANS_OF_CONTROL_THREATS", "MEANS_OF_CONTROL_WITHHELD_DOCUMENTS"},
			RecruiterRelation: "RECRUITER_RELATION_INTIMATE_PARTNER", ExploitationPeriod: &Period{Start: "2025-06-01", End: "2026-09-30"}},
		Identification: Identification{IdentifyingInstitution: "ASP-ANTITRAF", Date: "2026-10-02", ReferringInstitution: "KKSAT",
			Place: "Vlorë", Channel: "IDENTIFICATION_CHANNEL_MOBILE_UNIT"},
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("case\n got %+v\nwant %+v", c, want)
	}
	wantID := Identity{GivenName: "Ëndrit", FamilyName: "Çela", DateOfBirth: "2009-05-01", ContactDetails: "+355 69 000 0000",
		Address: "Rruga 1\nDurrës", FamilyContacts: "mother:\t+355 68 000 0000\nbrother"}
	if id == nil || *id != wantID {
		t.Errorf("identity %+v", id)
	}
}

func TestHeadingRules(t *testing.T) {
	type req = caseregistryv1.RegisterCaseRequest
	tooMany := []string{"AL", "GR", "IT", "XK", "MK", "RS", "ME", "BA", "HR", "SI", "AT"}
	tests := []struct {
		name   string
		change func(r *req)
		want   string // "" accepted, else "invalid: <field paths>"
	}{
		// profile
		{"municipality of 100 characters", func(r *req) { r.Profile.ResidenceMunicipality = strings.Repeat("ë", 100) }, ""},
		{"municipality too long", func(r *req) { r.Profile.ResidenceMunicipality = strings.Repeat("ë", 101) }, "invalid: profile.residence_municipality"},
		{"municipality with a newline", func(r *req) { r.Profile.ResidenceMunicipality = "Durrës\nport" }, "invalid: profile.residence_municipality"},
		{"municipality not UTF-8", func(r *req) { r.Profile.ResidenceMunicipality = "D\xff" }, "invalid: profile.residence_municipality"},
		{"prefecture not recorded", func(r *req) { r.Profile.ResidencePrefecture = 0 }, ""},
		{"prefecture abroad", func(r *req) { r.Profile.ResidencePrefecture = caseregistryv1.Prefecture_PREFECTURE_ABROAD }, ""},
		{"prefecture unknown number", func(r *req) { r.Profile.ResidencePrefecture = 15 }, "invalid: profile.residence_prefecture"},
		{"language not recorded", func(r *req) { r.Profile.PrimaryLanguage = "" }, ""},
		{"language en", func(r *req) { r.Profile.PrimaryLanguage = "en" }, ""},
		{"language upper case", func(r *req) { r.Profile.PrimaryLanguage = "SQ" }, "invalid: profile.primary_language"},
		{"language three letters", func(r *req) { r.Profile.PrimaryLanguage = "sqi" }, "invalid: profile.primary_language"},
		{"language unknown", func(r *req) { r.Profile.PrimaryLanguage = "zz" }, "invalid: profile.primary_language"},
		{"language one letter", func(r *req) { r.Profile.PrimaryLanguage = "s" }, "invalid: profile.primary_language"},
		{"language tag with region", func(r *req) { r.Profile.PrimaryLanguage = "sq-AL" }, "invalid: profile.primary_language"},
		{"education unknown number", func(r *req) { r.Profile.EducationLevel = 8 }, "invalid: profile.education_level"},
		// trafficking
		{"scope unknown number", func(r *req) { r.Trafficking.Scope = 4 }, "invalid: trafficking.scope"},
		{"method unknown number", func(r *req) { r.Trafficking.RecruitmentMethod = 10 }, "invalid: trafficking.recruitment_method"},
		{"relation unknown number", func(r *req) { r.Trafficking.RecruiterRelation = -1 }, "invalid: trafficking.recruiter_relation"},
		{"recruitment country lower case", func(r *req) { r.Trafficking.RecruitmentCountries = []string{"AL", "al"} }, "invalid: trafficking.recruitment_countries[1]"},
		{"recruitment country repeated", func(r *req) { r.Trafficking.RecruitmentCountries = []string{"AL", "XK", "AL"} }, "invalid: trafficking.recruitment_countries[2]"},
		{"recruitment countries 11", func(r *req) { r.Trafficking.RecruitmentCountries = tooMany }, "invalid: trafficking.recruitment_countries"},
		{"recruitment countries 10", func(r *req) { r.Trafficking.RecruitmentCountries = tooMany[:10] }, ""},
		{"exploitation country alpha-3", func(r *req) { r.Trafficking.ExploitationCountries = []string{"ITA"} }, "invalid: trafficking.exploitation_countries[0]"},
		{"exploitation country repeated", func(r *req) { r.Trafficking.ExploitationCountries = []string{"IT", "IT"} }, "invalid: trafficking.exploitation_countries[1]"},
		{"exploitation countries 11", func(r *req) { r.Trafficking.ExploitationCountries = tooMany }, "invalid: trafficking.exploitation_countries"},
		{"means unspecified", func(r *req) { r.Trafficking.MeansOfControl = []caseregistryv1.MeansOfControl{0} }, "invalid: trafficking.means_of_control[0]"},
		{"means unknown number", func(r *req) { r.Trafficking.MeansOfControl = []caseregistryv1.MeansOfControl{1, 14} }, "invalid: trafficking.means_of_control[1]"},
		{"means repeated", func(r *req) { r.Trafficking.MeansOfControl = []caseregistryv1.MeansOfControl{3, 5, 3} }, "invalid: trafficking.means_of_control[2]"},
		{"means none", func(r *req) { r.Trafficking.MeansOfControl = nil }, ""},
		{"period not recorded", func(r *req) { r.Trafficking.ExploitationPeriod = nil }, ""},
		{"period without start", func(r *req) { r.Trafficking.ExploitationPeriod = &caseregistryv1.DatePeriod{} }, "invalid: trafficking.exploitation_period.start_date"},
		{"period start not a date", func(r *req) { r.Trafficking.ExploitationPeriod.StartDate = "2025-13-01" }, "invalid: trafficking.exploitation_period.start_date"},
		{"period start before 1990", func(r *req) { r.Trafficking.ExploitationPeriod.StartDate = "1989-12-31" }, "invalid: trafficking.exploitation_period.start_date"},
		{"period start in the future", func(r *req) {
			r.Trafficking.ExploitationPeriod = &caseregistryv1.DatePeriod{StartDate: "2026-11-28"}
		}, "invalid: trafficking.exploitation_period.start_date"},
		{"period start after identification", func(r *req) {
			r.Trafficking.ExploitationPeriod = &caseregistryv1.DatePeriod{StartDate: "2026-10-03"}
		}, "invalid: trafficking.exploitation_period.start_date"},
		{"period start on identification, still lasting", func(r *req) {
			r.Trafficking.ExploitationPeriod = &caseregistryv1.DatePeriod{StartDate: "2026-10-02"}
		}, ""},
		{"period of one day", func(r *req) { r.Trafficking.ExploitationPeriod.EndDate = "2025-06-01" }, ""},
		{"period end after identification, today", func(r *req) { r.Trafficking.ExploitationPeriod.EndDate = today }, ""},
		{"period end before start", func(r *req) { r.Trafficking.ExploitationPeriod.EndDate = "2025-05-31" }, "invalid: trafficking.exploitation_period.end_date"},
		{"period end in the future", func(r *req) { r.Trafficking.ExploitationPeriod.EndDate = "2026-11-28" }, "invalid: trafficking.exploitation_period.end_date"},
		{"period end not a date", func(r *req) { r.Trafficking.ExploitationPeriod.EndDate = "30.09.2026" }, "invalid: trafficking.exploitation_period.end_date"},
		{"internal in one country", func(r *req) {
			r.Trafficking.Scope = caseregistryv1.TraffickingScope_TRAFFICKING_SCOPE_INTERNAL
			r.Trafficking.RecruitmentCountries, r.Trafficking.ExploitationCountries = []string{"AL"}, []string{"AL"}
		}, ""},
		{"internal in two countries", func(r *req) { r.Trafficking.Scope = caseregistryv1.TraffickingScope_TRAFFICKING_SCOPE_INTERNAL }, "invalid: trafficking.scope"},
		{"internal without countries", func(r *req) {
			r.Trafficking.Scope = caseregistryv1.TraffickingScope_TRAFFICKING_SCOPE_INTERNAL
			r.Trafficking.RecruitmentCountries, r.Trafficking.ExploitationCountries = nil, nil
		}, ""},
		{"transnational in one country", func(r *req) {
			r.Trafficking.RecruitmentCountries, r.Trafficking.ExploitationCountries = []string{"AL"}, []string{"AL"}
		}, "invalid: trafficking.scope"},
		{"transnational with one country named", func(r *req) { r.Trafficking.ExploitationCountries = nil }, "invalid: trafficking.scope"},
		{"transnational without countries", func(r *req) {
			r.Trafficking.RecruitmentCountries, r.Trafficking.ExploitationCountries = nil, nil
		}, ""},
		{"scope unknown with countries", func(r *req) { r.Trafficking.Scope = caseregistryv1.TraffickingScope_TRAFFICKING_SCOPE_UNKNOWN }, ""},
		// identification
		{"no referring institution", func(r *req) { r.Identification.ReferringInstitution = "" }, ""},
		{"referring institution lower case", func(r *req) { r.Identification.ReferringInstitution = "kksat" }, "invalid: identification.referring_institution"},
		{"referring institution too long", func(r *req) { r.Identification.ReferringInstitution = strings.Repeat("K", 33) }, "invalid: identification.referring_institution"},
		{"place too long", func(r *req) { r.Identification.Place = strings.Repeat("v", 101) }, "invalid: identification.place"},
		{"place with a tab", func(r *req) { r.Identification.Place = "Vlorë\tport" }, "invalid: identification.place"},
		{"channel unknown number", func(r *req) { r.Identification.Channel = 13 }, "invalid: identification.channel"},
		{"every heading wrong, in heading order", func(r *req) {
			r.Identification.Channel = 13
			r.Trafficking.Scope = 4
			r.Profile.EducationLevel = 8
		}, "invalid: profile.education_level,trafficking.scope,identification.channel"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := fullRequest()
			tt.change(r)
			_, _, err := NewRegistration(r, today)
			if got := outcome(t, err); got != tt.want {
				t.Errorf("got %q, want %q (%v)", got, tt.want, err)
			}
		})
	}
}

func TestHeadingsIgnoreOutputOnlyStatusDecisions(t *testing.T) {
	r := fullRequest()
	r.Trafficking.StatusDecisions = []*caseregistryv1.StatusDecision{{Status: caseregistryv1.TraffickingStatus_TRAFFICKING_STATUS_VICTIM}}
	c, _, err := NewRegistration(r, today)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Trafficking.StatusDecisions) != 0 {
		t.Errorf("decisions %v taken from a registration", c.Trafficking.StatusDecisions)
	}
}

func TestRegistrationDoesNotChangeItsRequest(t *testing.T) {
	r := fullRequest()
	before := proto.Clone(r)
	if _, _, err := NewRegistration(r, today); err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(r, before) {
		t.Error("the request was changed")
	}
}
