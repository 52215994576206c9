package domain

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	caseregistryv1 "github.com/nrm-albania/nrm/proto/nrm/caseregistry/v1"
	"github.com/nrm-albania/nrm/services/platform/apierr"
)

var decidedAt = time.Date(2026, 10, 20, 9, 0, 0, 0, time.UTC)

// current is a stored case as the caller renders it for ApplyUpdate: every heading recorded,
// the identity in clear, one status decision.
func current() *caseregistryv1.Case {
	r := fullRequest()
	r.Trafficking.Status = caseregistryv1.TraffickingStatus_TRAFFICKING_STATUS_VICTIM
	r.Trafficking.StatusDecisions = []*caseregistryv1.StatusDecision{{
		Status: caseregistryv1.TraffickingStatus_TRAFFICKING_STATUS_VICTIM, DecidingBody: caseregistryv1.DecidingBody_DECIDING_BODY_JOINT_INTERVIEW,
		DecisionDate: "2026-10-20", Basis: "joint interview", RecordedBy: "ASP-ANTITRAF", RecordedAt: timestamppb.New(decidedAt),
	}}
	return &caseregistryv1.Case{
		Id: "c1", Version: 3, Code: "VT-2026-00001", State: caseregistryv1.CaseState_CASE_STATE_OPEN,
		OwnerInstitution: "ASP-ANTITRAF", Profile: r.Profile, Trafficking: r.Trafficking, Identification: r.Identification,
		Identity: r.Identity,
	}
}

func update(c *caseregistryv1.Case, paths ...string) *caseregistryv1.UpdateCaseRequest {
	return &caseregistryv1.UpdateCaseRequest{Case: c, UpdateMask: &fieldmaskpb.FieldMask{Paths: paths}, ExpectedVersion: 3}
}

func TestApplyUpdateRefuses(t *testing.T) {
	type C = caseregistryv1.Case
	tests := []struct {
		name   string
		req    func() *caseregistryv1.UpdateCaseRequest
		cur    func(c *C)
		want   string
		detail string // a word the description must contain
	}{
		{"no mask", func() *caseregistryv1.UpdateCaseRequest { return &caseregistryv1.UpdateCaseRequest{Case: current()} }, nil, "invalid: update_mask", "required"},
		{"empty mask", func() *caseregistryv1.UpdateCaseRequest { return update(current()) }, nil, "invalid: update_mask", "required"},
		{"unknown top-level path", func() *caseregistryv1.UpdateCaseRequest { return update(current(), "profiles") }, nil, "invalid: update_mask.paths[0]", "profiles"},
		{"unknown leaf", func() *caseregistryv1.UpdateCaseRequest { return update(current(), "profile.shoe_size") }, nil, "invalid: update_mask.paths[0]", "profile.shoe_size"},
		{"path too deep", func() *caseregistryv1.UpdateCaseRequest {
			return update(current(), "trafficking.exploitation_period.start_date")
		}, nil, "invalid: update_mask.paths[0]", "not a field"},
		{"empty path", func() *caseregistryv1.UpdateCaseRequest { return update(current(), "") }, nil, "invalid: update_mask.paths[0]", "not a field"},
		{"JSON name", func() *caseregistryv1.UpdateCaseRequest { return update(current(), "profile.educationLevel") }, nil, "invalid: update_mask.paths[0]", "not a field"},
		{"second path wrong", func() *caseregistryv1.UpdateCaseRequest {
			return update(current(), "profile", "identity.shoe_size", "identity")
		}, nil, "invalid: update_mask.paths[1]", "not a field"},
		{"status", func() *caseregistryv1.UpdateCaseRequest { return update(current(), "trafficking.status") }, nil, "invalid: update_mask.paths[0]", "DecideStatus"},
		{"nested output-only", func() *caseregistryv1.UpdateCaseRequest { return update(current(), "closure.reason") }, nil, "invalid: update_mask.paths[0]", "output only"},
		{"profile removed", func() *caseregistryv1.UpdateCaseRequest {
			c := current()
			c.Profile = nil
			return update(c, "profile")
		}, nil, "invalid: profile", "required"},
		{"trafficking removed", func() *caseregistryv1.UpdateCaseRequest {
			c := current()
			c.Trafficking = nil
			return update(c, "trafficking")
		}, nil, "invalid: trafficking", "required"},
		{"identification removed", func() *caseregistryv1.UpdateCaseRequest {
			c := current()
			c.Identification = nil
			return update(c, "identification")
		}, nil, "invalid: identification", "required"},
		{"no case in the request", func() *caseregistryv1.UpdateCaseRequest { return update(nil, "profile") }, nil, "invalid: profile", "required"},
		{"sex cleared", func() *caseregistryv1.UpdateCaseRequest {
			c := current()
			c.Profile.Sex = 0
			return update(c, "profile.sex")
		}, nil, "invalid: profile.sex", "required"},
		{"citizenships cleared by an absent heading", func() *caseregistryv1.UpdateCaseRequest {
			return update(&C{}, "profile.citizenships")
		}, nil, "invalid: profile.citizenships", "at least one"},
		{"prefecture unknown number", func() *caseregistryv1.UpdateCaseRequest {
			c := current()
			c.Profile.ResidencePrefecture = 99
			return update(c, "profile.residence_prefecture")
		}, nil, "invalid: profile.residence_prefecture", "99"},
		{"exploitation type unspecified", func() *caseregistryv1.UpdateCaseRequest {
			c := current()
			c.Trafficking.ExploitationTypes = []caseregistryv1.ExploitationType{0}
			return update(c, "trafficking")
		}, nil, "invalid: trafficking.exploitation_types[0]", "UNSPECIFIED"},
		{"scope contradicts the countries already stored", func() *caseregistryv1.UpdateCaseRequest {
			c := current()
			c.Trafficking.Scope = caseregistryv1.TraffickingScope_TRAFFICKING_SCOPE_INTERNAL
			return update(c, "trafficking.scope")
		}, nil, "invalid: trafficking.scope", "INTERNAL"},
		{"period starts after the identification", func() *caseregistryv1.UpdateCaseRequest {
			c := current()
			c.Trafficking.ExploitationPeriod = &caseregistryv1.DatePeriod{StartDate: "2026-10-05"}
			return update(c, "trafficking.exploitation_period")
		}, nil, "invalid: trafficking.exploitation_period.start_date", "identification"},
		{"identification moved before the exploitation", func() *caseregistryv1.UpdateCaseRequest {
			c := current()
			c.Identification.IdentificationDate = "2025-01-01"
			return update(c, "identification.identification_date")
		}, nil, "invalid: trafficking.exploitation_period.start_date,identity.date_of_birth", "identification"},
		{"age disagrees with the stored birth date", func() *caseregistryv1.UpdateCaseRequest {
			c := current()
			c.Profile.AgeAtIdentification = proto.Int32(30)
			return update(c, "profile.age_at_identification")
		}, nil, "invalid: identity.date_of_birth", "age"},
		{"birth date disagrees with the stored age", func() *caseregistryv1.UpdateCaseRequest {
			c := current()
			c.Identity.DateOfBirth = "1990-01-01"
			return update(c, "identity.date_of_birth")
		}, nil, "invalid: identity.date_of_birth", "age"},
		{"names cleared while other identity fields stay", func() *caseregistryv1.UpdateCaseRequest {
			return update(&C{}, "identity.given_name", "identity.family_name")
		}, nil, "invalid: identity", "name"},
		{"address with NUL", func() *caseregistryv1.UpdateCaseRequest {
			c := current()
			c.Identity.Address = "a\x00b"
			return update(c, "identity.address")
		}, nil, "invalid: identity.address", "control"},
		{"referring institution lower case", func() *caseregistryv1.UpdateCaseRequest {
			c := current()
			c.Identification.ReferringInstitution = "kksat"
			return update(c, "identification.referring_institution")
		}, nil, "invalid: identification.referring_institution", "institution code"},
		{"merged case", func() *caseregistryv1.UpdateCaseRequest {
			c := current()
			c.Profile.PrimaryLanguage = "en"
			return update(c, "profile.primary_language")
		}, func(c *C) { c.MergedInto = "c2" }, "precondition: CASE_MERGED", "merged"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cur, req := current(), tt.req()
			if tt.cur != nil {
				tt.cur(cur)
			}
			curBefore, reqBefore := proto.Clone(cur), proto.Clone(req)
			u, err := ApplyUpdate(cur, req, today)
			if got := outcome(t, err); got != tt.want {
				t.Fatalf("got %q, want %q (%v)", got, tt.want, err)
			}
			if !strings.Contains(err.Error(), tt.detail) {
				t.Errorf("error %q does not say %q", err, tt.detail)
			}
			if !reflect.DeepEqual(u, Update{}) {
				t.Errorf("an update came back with the error: %+v", u)
			}
			if !proto.Equal(cur, curBefore) || !proto.Equal(req, reqBefore) {
				t.Error("the case or the request was changed")
			}
		})
	}
}

func TestApplyUpdateRefusesEveryOutputOnlyPath(t *testing.T) {
	for _, path := range []string{"profile.age_band", "profile.minor_at_identification", "trafficking.status",
		"trafficking.status_decisions", "id", "version", "code", "state", "owner_institution", "registered_at",
		"updated_at", "identity_view", "consents", "closure", "merged_into", "merged_case_ids", "etag"} {
		t.Run(path, func(t *testing.T) {
			_, err := ApplyUpdate(current(), update(current(), "profile", path), today)
			if got := outcome(t, err); got != "invalid: update_mask.paths[1]" {
				t.Fatalf("got %q (%v)", got, err)
			}
			if !strings.Contains(err.Error(), "output only") || !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not say %s is output only", err, path)
			}
		})
	}
}

func TestApplyUpdateChanges(t *testing.T) {
	type C = caseregistryv1.Case
	tests := []struct {
		name     string
		req      func() *caseregistryv1.UpdateCaseRequest
		cur      func(c *C)
		fields   []string
		headings []string
		check    func(t *testing.T, u Update)
	}{
		{"one leaf", func() *caseregistryv1.UpdateCaseRequest {
			c := current()
			c.Profile.EducationLevel = caseregistryv1.EducationLevel_EDUCATION_LEVEL_TERTIARY
			c.Profile.PrimaryLanguage = "en" // not in the mask: ignored
			return update(c, "profile.education_level")
		}, nil, []string{"profile.education_level"}, []string{"profile"}, func(t *testing.T, u Update) {
			if u.Profile.EducationLevel != "EDUCATION_LEVEL_TERTIARY" || u.Profile.PrimaryLanguage != "sq" {
				t.Errorf("profile %+v", u.Profile)
			}
		}},
		{"a leaf cleared because the request lacks it", func() *caseregistryv1.UpdateCaseRequest {
			return update(&C{}, "profile.residence_municipality", "identification.channel")
		}, nil, []string{"identification.channel", "profile.residence_municipality"}, []string{"identification", "profile"}, func(t *testing.T, u Update) {
			if u.Profile.ResidenceMunicipality != "" || u.Identification.Channel != "" || u.Profile.ResidencePrefecture == "" {
				t.Errorf("profile %+v, identification %+v", u.Profile, u.Identification)
			}
		}},
		{"nothing changes", func() *caseregistryv1.UpdateCaseRequest {
			return update(current(), "profile", "trafficking", "identification", "identity")
		}, nil, nil, nil, nil},
		{"the same value", func() *caseregistryv1.UpdateCaseRequest {
			return update(current(), "trafficking.means_of_control", "identity.address")
		}, nil, nil, nil, nil},
		{"repeated paths", func() *caseregistryv1.UpdateCaseRequest {
			c := current()
			c.Identification.Place = "Sarandë"
			return update(c, "identification.place", "identification.place", "identification")
		}, nil, []string{"identification.place"}, []string{"identification"}, nil},
		{"a whole heading", func() *caseregistryv1.UpdateCaseRequest {
			c := current()
			c.Trafficking = &caseregistryv1.Trafficking{
				ExploitationTypes: []caseregistryv1.ExploitationType{caseregistryv1.ExploitationType_EXPLOITATION_TYPE_FORCED_LABOUR},
				Status:            caseregistryv1.TraffickingStatus_TRAFFICKING_STATUS_NOT_A_VICTIM, // output only: ignored
			}
			return update(c, "trafficking")
		}, nil, []string{"trafficking.exploitation_countries", "trafficking.exploitation_period", "trafficking.exploitation_types",
			"trafficking.means_of_control", "trafficking.recruiter_relation", "trafficking.recruitment_countries",
			"trafficking.recruitment_method", "trafficking.scope"}, []string{"trafficking"}, func(t *testing.T, u Update) {
			want := Trafficking{Status: "TRAFFICKING_STATUS_VICTIM", ExploitationTypes: []string{"EXPLOITATION_TYPE_FORCED_LABOUR"},
				StatusDecisions: []StatusDecision{{Status: "TRAFFICKING_STATUS_VICTIM", DecidingBody: "DECIDING_BODY_JOINT_INTERVIEW",
					Date: "2026-10-20", Basis: "joint interview", RecordedBy: "ASP-ANTITRAF", RecordedAt: decidedAt}}}
			if !reflect.DeepEqual(u.Trafficking, want) {
				t.Errorf("trafficking\n got %+v\nwant %+v", u.Trafficking, want)
			}
		}},
		{"the period", func() *caseregistryv1.UpdateCaseRequest {
			c := current()
			c.Trafficking.ExploitationPeriod.EndDate = ""
			return update(c, "trafficking.exploitation_period")
		}, nil, []string{"trafficking.exploitation_period"}, []string{"trafficking"}, func(t *testing.T, u Update) {
			if *u.Trafficking.ExploitationPeriod != (Period{Start: "2025-06-01"}) {
				t.Errorf("period %+v", u.Trafficking.ExploitationPeriod)
			}
		}},
		{"the identity removed", func() *caseregistryv1.UpdateCaseRequest {
			c := current()
			c.Identity = nil
			return update(c, "identity")
		}, nil, []string{"identity.address", "identity.contact_details", "identity.date_of_birth", "identity.family_contacts",
			"identity.family_name", "identity.given_name"}, []string{"identity"}, func(t *testing.T, u Update) {
			if u.Identity != nil {
				t.Errorf("identity %+v", u.Identity)
			}
		}},
		{"an empty identity is none", func() *caseregistryv1.UpdateCaseRequest {
			c := current()
			c.Identity = &caseregistryv1.Identity{}
			return update(c, "identity")
		}, nil, []string{"identity.address", "identity.contact_details", "identity.date_of_birth", "identity.family_contacts",
			"identity.family_name", "identity.given_name"}, []string{"identity"}, func(t *testing.T, u Update) {
			if u.Identity != nil {
				t.Errorf("identity %+v", u.Identity)
			}
		}},
		{"every identity field cleared one by one", func() *caseregistryv1.UpdateCaseRequest {
			return update(&C{}, "identity.given_name", "identity.family_name", "identity.date_of_birth", "identity.contact_details",
				"identity.address", "identity.family_contacts")
		}, nil, []string{"identity.address", "identity.contact_details", "identity.date_of_birth", "identity.family_contacts",
			"identity.family_name", "identity.given_name"}, []string{"identity"}, func(t *testing.T, u Update) {
			if u.Identity != nil {
				t.Errorf("identity %+v", u.Identity)
			}
		}},
		{"one identity field", func() *caseregistryv1.UpdateCaseRequest {
			c := current()
			c.Identity = &caseregistryv1.Identity{Address: "Rruga 2\nFier", GivenName: "ignored"}
			return update(c, "identity.address")
		}, nil, []string{"identity.address"}, []string{"identity"}, func(t *testing.T, u Update) {
			if u.Identity == nil || u.Identity.Address != "Rruga 2\nFier" || u.Identity.GivenName != "Ëndrit" {
				t.Errorf("identity %+v", u.Identity)
			}
		}},
		{"an identity recorded on a case without one", func() *caseregistryv1.UpdateCaseRequest {
			return update(&C{Identity: &caseregistryv1.Identity{FamilyName: "Hoxha"}}, "identity.family_name")
		}, func(c *C) { c.Identity = nil }, []string{"identity.family_name"}, []string{"identity"}, func(t *testing.T, u Update) {
			if u.Identity == nil || *u.Identity != (Identity{FamilyName: "Hoxha"}) {
				t.Errorf("identity %+v", u.Identity)
			}
		}},
		{"an identity removed from a case without one", func() *caseregistryv1.UpdateCaseRequest {
			return update(&C{}, "identity")
		}, func(c *C) { c.Identity = nil }, nil, nil, func(t *testing.T, u Update) {
			if u.Identity != nil {
				t.Errorf("identity %+v", u.Identity)
			}
		}},
		{"an age becomes known as 0", func() *caseregistryv1.UpdateCaseRequest {
			c := current()
			c.Profile.AgeAtIdentification = proto.Int32(0)
			return update(c, "profile.age_at_identification")
		}, func(c *C) { c.Profile.AgeAtIdentification, c.Identity = nil, nil }, []string{"profile.age_at_identification"}, []string{"profile"}, nil},
		{"age and birth date changed together", func() *caseregistryv1.UpdateCaseRequest {
			c := current()
			c.Profile.AgeAtIdentification = proto.Int32(16)
			c.Identity.DateOfBirth = "2010-01-01"
			return update(c, "identity.date_of_birth", "profile.age_at_identification")
		}, nil, []string{"identity.date_of_birth", "profile.age_at_identification"}, []string{"identity", "profile"}, nil},
		{"the age cleared", func() *caseregistryv1.UpdateCaseRequest {
			c := current()
			c.Profile.AgeAtIdentification = nil
			return update(c, "profile.age_at_identification")
		}, nil, []string{"profile.age_at_identification"}, []string{"profile"}, func(t *testing.T, u Update) {
			if u.Profile.AgeAtIdentification != nil || u.Profile.AgeBand() != "AGE_BAND_UNKNOWN" {
				t.Errorf("profile %+v", u.Profile)
			}
		}},
		{"output-only values of a replaced heading are ignored", func() *caseregistryv1.UpdateCaseRequest {
			c := current()
			c.Profile.AgeBand = caseregistryv1.AgeBand_AGE_BAND_ADULT
			c.Profile.MinorAtIdentification = false
			return update(c, "profile")
		}, nil, nil, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cur, req := current(), tt.req()
			if tt.cur != nil {
				tt.cur(cur)
			}
			curBefore, reqBefore := proto.Clone(cur), proto.Clone(req)
			u, err := ApplyUpdate(cur, req, today)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(u.Fields, tt.fields) || !slices.Equal(u.Headings, tt.headings) {
				t.Errorf("fields %v headings %v, want %v %v", u.Fields, u.Headings, tt.fields, tt.headings)
			}
			if tt.check != nil {
				tt.check(t, u)
			}
			revalidate(t, u)
			if !proto.Equal(cur, curBefore) || !proto.Equal(req, reqBefore) {
				t.Error("the case or the request was changed")
			}
		})
	}
}

func TestApplyUpdateResultSharesNothingWithTheRequest(t *testing.T) {
	req := update(current(), "profile.citizenships", "trafficking.exploitation_period")
	u, err := ApplyUpdate(current(), req, today)
	if err != nil {
		t.Fatal(err)
	}
	req.Case.Profile.Citizenships[0] = "GR"
	req.Case.Trafficking.ExploitationPeriod.StartDate = "2020-01-01"
	if u.Profile.Citizenships[0] != "AL" || u.Trafficking.ExploitationPeriod.Start != "2025-06-01" {
		t.Errorf("the update follows the request: %+v %+v", u.Profile, u.Trafficking.ExploitationPeriod)
	}
}

// The fuzz test needs the headings back as protos, to validate an update's result again.

func enumOf(names map[string]int32, name string) int32 { return names[name] }

func profileProto(p Profile) *caseregistryv1.Profile {
	return &caseregistryv1.Profile{
		Sex: caseregistryv1.Sex(enumOf(caseregistryv1.Sex_value, p.Sex)), AgeAtIdentification: p.AgeAtIdentification,
		Citizenships: p.Citizenships, ResidenceMunicipality: p.ResidenceMunicipality,
		ResidencePrefecture: caseregistryv1.Prefecture(enumOf(caseregistryv1.Prefecture_value, p.ResidencePrefecture)),
		PrimaryLanguage:     p.PrimaryLanguage,
		EducationLevel:      caseregistryv1.EducationLevel(enumOf(caseregistryv1.EducationLevel_value, p.EducationLevel)),
	}
}

func traffickingProto(t Trafficking) *caseregistryv1.Trafficking {
	out := &caseregistryv1.Trafficking{
		Scope:                 caseregistryv1.TraffickingScope(enumOf(caseregistryv1.TraffickingScope_value, t.Scope)),
		RecruitmentCountries:  t.RecruitmentCountries,
		ExploitationCountries: t.ExploitationCountries,
		RecruitmentMethod:     caseregistryv1.RecruitmentMethod(enumOf(caseregistryv1.RecruitmentMethod_value, t.RecruitmentMethod)),
		RecruiterRelation:     caseregistryv1.RecruiterRelation(enumOf(caseregistryv1.RecruiterRelation_value, t.RecruiterRelation)),
	}
	for _, e := range t.ExploitationTypes {
		out.ExploitationTypes = append(out.ExploitationTypes, caseregistryv1.ExploitationType(enumOf(caseregistryv1.ExploitationType_value, e)))
	}
	for _, m := range t.MeansOfControl {
		out.MeansOfControl = append(out.MeansOfControl, caseregistryv1.MeansOfControl(enumOf(caseregistryv1.MeansOfControl_value, m)))
	}
	if p := t.ExploitationPeriod; p != nil {
		out.ExploitationPeriod = &caseregistryv1.DatePeriod{StartDate: p.Start, EndDate: p.End}
	}
	return out
}

func identificationProto(i Identification) *caseregistryv1.Identification {
	return &caseregistryv1.Identification{IdentifyingInstitution: i.IdentifyingInstitution, IdentificationDate: i.Date,
		ReferringInstitution: i.ReferringInstitution, Place: i.Place,
		Channel: caseregistryv1.IdentificationChannel(enumOf(caseregistryv1.IdentificationChannel_value, i.Channel))}
}

func identityProto(i *Identity) *caseregistryv1.Identity {
	if i == nil {
		return nil
	}
	return &caseregistryv1.Identity{GivenName: i.GivenName, FamilyName: i.FamilyName, DateOfBirth: i.DateOfBirth,
		DocumentNumber: i.DocumentNumber, Notes: i.Notes, ContactDetails: i.ContactDetails, Address: i.Address,
		FamilyContacts: i.FamilyContacts}
}

func FuzzApplyUpdate(f *testing.F) {
	whole, _ := proto.Marshal(current())
	f.Add("profile", "identity.address", "Tiranë", int32(3), "AL", "2026-01-01", []byte(nil))
	f.Add("trafficking", "trafficking.scope", "x", int32(1), "XK", "2025-06-01", []byte(nil))
	f.Add("identification", "identification.place", "", int32(0), "", "", []byte(nil))
	f.Add("identity", "profile.age_at_identification", "a\nb", int32(17), "IT", "2009-05-01", []byte(nil))
	f.Add("trafficking.exploitation_period", "profile.primary_language", "sq", int32(-1), "al", "2026-13-01", []byte(nil))
	f.Add("profile.citizenships", "trafficking.status", "\xff", int32(99), "GR", today, []byte(nil))
	f.Add("trafficking", "identity", "", int32(0), "", "", whole)
	// raw, when it is a Case, is sent as the request's case instead of the one built from the
	// other values.
	f.Fuzz(func(t *testing.T, p1, p2, text string, n int32, country, date string, raw []byte) {
		req := update(&caseregistryv1.Case{
			Profile: &caseregistryv1.Profile{Sex: caseregistryv1.Sex(n), AgeAtIdentification: proto.Int32(n), Citizenships: []string{country},
				ResidenceMunicipality: text, ResidencePrefecture: caseregistryv1.Prefecture(n), PrimaryLanguage: text,
				EducationLevel: caseregistryv1.EducationLevel(n)},
			Trafficking: &caseregistryv1.Trafficking{ExploitationTypes: []caseregistryv1.ExploitationType{caseregistryv1.ExploitationType(n)},
				Scope: caseregistryv1.TraffickingScope(n), RecruitmentCountries: []string{country}, ExploitationCountries: []string{"AL", country},
				MeansOfControl: []caseregistryv1.MeansOfControl{caseregistryv1.MeansOfControl(n)}, RecruitmentMethod: caseregistryv1.RecruitmentMethod(n),
				RecruiterRelation: caseregistryv1.RecruiterRelation(n), ExploitationPeriod: &caseregistryv1.DatePeriod{StartDate: date, EndDate: text}},
			Identification: &caseregistryv1.Identification{IdentifyingInstitution: text, IdentificationDate: date, ReferringInstitution: country,
				Place: text, Channel: caseregistryv1.IdentificationChannel(n)},
			Identity: &caseregistryv1.Identity{GivenName: text, DateOfBirth: date, Address: text, ContactDetails: country},
		}, p1, p2)
		var sent caseregistryv1.Case
		if len(raw) > 0 && proto.Unmarshal(raw, &sent) == nil {
			req.Case = &sent
		}
		u, err := ApplyUpdate(current(), req, today)
		if err != nil {
			if c := status.Code(err); c != codes.InvalidArgument {
				t.Fatalf("error %v", err)
			}
			return
		}
		if !slices.IsSorted(u.Fields) || !slices.IsSorted(u.Headings) {
			t.Fatalf("unsorted %v %v", u.Fields, u.Headings)
		}
		for _, f := range u.Fields {
			if h, _, _ := strings.Cut(f, "."); !slices.Contains(u.Headings, h) {
				t.Fatalf("field %s without its heading in %v", f, u.Headings)
			}
		}
		revalidate(t, u)
	})
}

// revalidate validates an update's headings again: they must pass, and come back unchanged.
func revalidate(t *testing.T, u Update) {
	t.Helper()
	var v apierr.Violations
	p, tr, idf, id := validateHeadings(&v, profileProto(u.Profile), traffickingProto(u.Trafficking),
		identificationProto(u.Identification), identityProto(u.Identity), today)
	if err := v.Err(); err != nil {
		t.Fatalf("the result does not validate again: %v", err)
	}
	tr.Status, tr.StatusDecisions = u.Trafficking.Status, u.Trafficking.StatusDecisions
	again := Update{Profile: p, Trafficking: tr, Identification: idf, Identity: id, Fields: u.Fields, Headings: u.Headings}
	if !reflect.DeepEqual(again, u) {
		t.Fatalf("validated again\n got %+v\nwant %+v", again, u)
	}
}
