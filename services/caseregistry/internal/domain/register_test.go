package domain

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	caseregistryv1 "github.com/nrm-albania/nrm/proto/nrm/caseregistry/v1"
)

const today = "2026-11-27"

func validRequest() *caseregistryv1.RegisterCaseRequest {
	return &caseregistryv1.RegisterCaseRequest{
		Profile: &caseregistryv1.Profile{
			Sex:                 caseregistryv1.Sex_SEX_FEMALE,
			AgeAtIdentification: proto.Int32(17),
			Citizenships:        []string{"AL"},
		},
		Trafficking: &caseregistryv1.Trafficking{
			ExploitationTypes: []caseregistryv1.ExploitationType{caseregistryv1.ExploitationType_EXPLOITATION_TYPE_SEXUAL},
		},
		Identification: &caseregistryv1.Identification{
			IdentifyingInstitution: "ASP-ANTITRAF",
			IdentificationDate:     "2026-10-02",
		},
	}
}

// violations returns the field paths of an InvalidArgument error.
func violations(t *testing.T, err error) []string {
	t.Helper()
	st, ok := status.FromError(err)
	if !ok || st.Code() != codes.InvalidArgument {
		t.Fatalf("want InvalidArgument, got %v", err)
	}
	var fields []string
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.GetFieldViolations() {
				fields = append(fields, v.GetField())
			}
		}
	}
	return fields
}

func TestNewRegistrationAcceptsAValidRequest(t *testing.T) {
	c, _, err := NewRegistration(validRequest(), today)
	if err != nil {
		t.Fatal(err)
	}
	if c.State != "CASE_STATE_OPEN" || c.Trafficking.Status != "TRAFFICKING_STATUS_POTENTIAL_VICTIM" {
		t.Errorf("new case: state %s, status %s", c.State, c.Trafficking.Status)
	}
	if !c.Profile.Minor() || c.Profile.AgeBand() != "AGE_BAND_CHILD" {
		t.Errorf("17-year-old: minor %v, band %s", c.Profile.Minor(), c.Profile.AgeBand())
	}
}

func TestNewRegistrationRejects(t *testing.T) {
	tests := []struct {
		name   string
		change func(r *caseregistryv1.RegisterCaseRequest)
		fields []string
	}{
		{"no profile", func(r *caseregistryv1.RegisterCaseRequest) { r.Profile = nil }, []string{"profile"}},
		{"no trafficking", func(r *caseregistryv1.RegisterCaseRequest) { r.Trafficking = nil }, []string{"trafficking.exploitation_types"}},
		{"no identification", func(r *caseregistryv1.RegisterCaseRequest) { r.Identification = nil }, []string{"identification"}},
		{"sex unspecified", func(r *caseregistryv1.RegisterCaseRequest) { r.Profile.Sex = 0 }, []string{"profile.sex"}},
		{"sex unknown number", func(r *caseregistryv1.RegisterCaseRequest) { r.Profile.Sex = 42 }, []string{"profile.sex"}},
		{"negative age", func(r *caseregistryv1.RegisterCaseRequest) { r.Profile.AgeAtIdentification = proto.Int32(-1) }, []string{"profile.age_at_identification"}},
		{"age 121", func(r *caseregistryv1.RegisterCaseRequest) { r.Profile.AgeAtIdentification = proto.Int32(121) }, []string{"profile.age_at_identification"}},
		{"no citizenship", func(r *caseregistryv1.RegisterCaseRequest) { r.Profile.Citizenships = nil }, []string{"profile.citizenships"}},
		{"lower-case country", func(r *caseregistryv1.RegisterCaseRequest) { r.Profile.Citizenships = []string{"al"} }, []string{"profile.citizenships[0]"}},
		{"unassigned country", func(r *caseregistryv1.RegisterCaseRequest) { r.Profile.Citizenships = []string{"AL", "QQ"} }, []string{"profile.citizenships[1]"}},
		{"alpha-3 country", func(r *caseregistryv1.RegisterCaseRequest) { r.Profile.Citizenships = []string{"ALB"} }, []string{"profile.citizenships[0]"}},
		{"repeated country", func(r *caseregistryv1.RegisterCaseRequest) { r.Profile.Citizenships = []string{"AL", "AL"} }, []string{"profile.citizenships[1]"}},
		{"too many countries", func(r *caseregistryv1.RegisterCaseRequest) {
			r.Profile.Citizenships = []string{"AL", "GR", "IT", "XK", "MK", "RS"}
		}, []string{"profile.citizenships"}},
		{"no exploitation type", func(r *caseregistryv1.RegisterCaseRequest) { r.Trafficking.ExploitationTypes = nil }, []string{"trafficking.exploitation_types"}},
		{"unspecified exploitation", func(r *caseregistryv1.RegisterCaseRequest) {
			r.Trafficking.ExploitationTypes = []caseregistryv1.ExploitationType{0}
		}, []string{"trafficking.exploitation_types[0]"}},
		{"unknown exploitation number", func(r *caseregistryv1.RegisterCaseRequest) {
			r.Trafficking.ExploitationTypes = []caseregistryv1.ExploitationType{1, 99}
		}, []string{"trafficking.exploitation_types[1]"}},
		{"repeated exploitation", func(r *caseregistryv1.RegisterCaseRequest) {
			r.Trafficking.ExploitationTypes = []caseregistryv1.ExploitationType{2, 2}
		}, []string{"trafficking.exploitation_types[1]"}},
		{"unknown with known", func(r *caseregistryv1.RegisterCaseRequest) {
			r.Trafficking.ExploitationTypes = []caseregistryv1.ExploitationType{
				caseregistryv1.ExploitationType_EXPLOITATION_TYPE_UNKNOWN, caseregistryv1.ExploitationType_EXPLOITATION_TYPE_SEXUAL}
		}, []string{"trafficking.exploitation_types"}},
		{"no institution", func(r *caseregistryv1.RegisterCaseRequest) { r.Identification.IdentifyingInstitution = "" }, []string{"identification.identifying_institution"}},
		{"institution lower case", func(r *caseregistryv1.RegisterCaseRequest) { r.Identification.IdentifyingInstitution = "asp" }, []string{"identification.identifying_institution"}},
		{"institution too long", func(r *caseregistryv1.RegisterCaseRequest) {
			r.Identification.IdentifyingInstitution = strings.Repeat("A", 33)
		}, []string{"identification.identifying_institution"}},
		{"institution invalid UTF-8", func(r *caseregistryv1.RegisterCaseRequest) { r.Identification.IdentifyingInstitution = "A\xff" }, []string{"identification.identifying_institution"}},
		{"no date", func(r *caseregistryv1.RegisterCaseRequest) { r.Identification.IdentificationDate = "" }, []string{"identification.identification_date"}},
		{"future date", func(r *caseregistryv1.RegisterCaseRequest) { r.Identification.IdentificationDate = "2026-11-28" }, []string{"identification.identification_date"}},
		{"impossible date", func(r *caseregistryv1.RegisterCaseRequest) { r.Identification.IdentificationDate = "2026-02-30" }, []string{"identification.identification_date"}},
		{"date with time", func(r *caseregistryv1.RegisterCaseRequest) {
			r.Identification.IdentificationDate = "2026-10-02T10:00:00Z"
		}, []string{"identification.identification_date"}},
		{"european date format", func(r *caseregistryv1.RegisterCaseRequest) { r.Identification.IdentificationDate = "02.10.2026" }, []string{"identification.identification_date"}},
		{"date before 1990", func(r *caseregistryv1.RegisterCaseRequest) { r.Identification.IdentificationDate = "1989-12-31" }, []string{"identification.identification_date"}},
		{"everything wrong at once", func(r *caseregistryv1.RegisterCaseRequest) {
			r.Profile.Sex = 0
			r.Profile.Citizenships = nil
			r.Identification.IdentificationDate = "x"
		}, []string{"profile.sex", "profile.citizenships", "identification.identification_date"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := validRequest()
			tt.change(r)
			_, _, err := NewRegistration(r, today)
			got := violations(t, err)
			if strings.Join(got, ",") != strings.Join(tt.fields, ",") {
				t.Errorf("violations on %v, want %v (error: %v)", got, tt.fields, err)
			}
		})
	}
}

func TestNewRegistrationAcceptsEdgeValues(t *testing.T) {
	tests := []struct {
		name   string
		change func(r *caseregistryv1.RegisterCaseRequest)
	}{
		{"age unknown", func(r *caseregistryv1.RegisterCaseRequest) { r.Profile.AgeAtIdentification = nil }},
		{"age 0", func(r *caseregistryv1.RegisterCaseRequest) { r.Profile.AgeAtIdentification = proto.Int32(0) }},
		{"age 120", func(r *caseregistryv1.RegisterCaseRequest) { r.Profile.AgeAtIdentification = proto.Int32(120) }},
		{"identified today", func(r *caseregistryv1.RegisterCaseRequest) { r.Identification.IdentificationDate = today }},
		{"stateless", func(r *caseregistryv1.RegisterCaseRequest) { r.Profile.Citizenships = []string{"XS"} }},
		{"Kosovo and Albania", func(r *caseregistryv1.RegisterCaseRequest) { r.Profile.Citizenships = []string{"XK", "AL"} }},
		{"only unknown exploitation", func(r *caseregistryv1.RegisterCaseRequest) {
			r.Trafficking.ExploitationTypes = []caseregistryv1.ExploitationType{caseregistryv1.ExploitationType_EXPLOITATION_TYPE_UNKNOWN}
		}},
		{"output-only fields are ignored", func(r *caseregistryv1.RegisterCaseRequest) {
			r.Profile.AgeBand = caseregistryv1.AgeBand_AGE_BAND_ADULT
			r.Trafficking.Status = caseregistryv1.TraffickingStatus_TRAFFICKING_STATUS_VICTIM
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := validRequest()
			tt.change(r)
			c, _, err := NewRegistration(r, today)
			if err != nil {
				t.Fatal(err)
			}
			if c.Trafficking.Status != "TRAFFICKING_STATUS_POTENTIAL_VICTIM" {
				t.Errorf("status %s: registration always starts as potential victim", c.Trafficking.Status)
			}
		})
	}
}

func TestAgeBand(t *testing.T) {
	for _, tt := range []struct {
		age   *int32
		band  string
		minor bool
	}{
		{nil, "AGE_BAND_UNKNOWN", false},
		{proto.Int32(0), "AGE_BAND_CHILD", true},
		{proto.Int32(17), "AGE_BAND_CHILD", true},
		{proto.Int32(18), "AGE_BAND_ADULT", false},
		{proto.Int32(64), "AGE_BAND_ADULT", false},
	} {
		p := Profile{AgeAtIdentification: tt.age}
		if p.AgeBand() != tt.band || p.Minor() != tt.minor {
			t.Errorf("age %v: band %s minor %v, want %s %v", tt.age, p.AgeBand(), p.Minor(), tt.band, tt.minor)
		}
	}
}

func TestTodayIsTiranaCalendarDay(t *testing.T) {
	// 23:30 UTC on 31 December is already 1 January in Tirana (UTC+1).
	now := time.Date(2026, 12, 31, 23, 30, 0, 0, time.UTC)
	if got := Today(now); got != "2027-01-01" {
		t.Errorf("Today = %s, want 2027-01-01", got)
	}
}

func FuzzNewRegistration(f *testing.F) {
	seed, _ := proto.Marshal(validRequest())
	f.Add(seed)
	full, _ := proto.Marshal(fullRequest())
	f.Add(full)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		var r caseregistryv1.RegisterCaseRequest
		if proto.Unmarshal(b, &r) != nil {
			return
		}
		c, id, err := NewRegistration(&r, today)
		if err != nil {
			if st, ok := status.FromError(err); !ok || st.Code() != codes.InvalidArgument {
				t.Fatalf("non-InvalidArgument error %v", err)
			}
			return
		}
		if c.Identification.Date > today || len(c.Profile.Citizenships) == 0 || c.Profile.Sex == "" {
			t.Fatalf("accepted an invalid case %+v", c)
		}
		revalidate(t, Update{Profile: c.Profile, Trafficking: c.Trafficking, Identification: c.Identification, Identity: id})
	})
}
