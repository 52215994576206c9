package providers

import (
	"slices"
	"testing"
	"time"

	caseregistryv1 "github.com/nrm-albania/nrm/proto/nrm/caseregistry/v1"
	referralv1 "github.com/nrm-albania/nrm/proto/nrm/referral/v1"
	"github.com/nrm-albania/nrm/services/platform/apierr"
)

func shelter() *referralv1.Provider {
	return &referralv1.Provider{
		Code: "QENDRA-VATRA", Name: "Vatra Centre", Kind: referralv1.ProviderKind_PROVIDER_KIND_SHELTER,
		ServiceTypes:   []referralv1.ServiceType{referralv1.ServiceType_SERVICE_TYPE_SHELTER, referralv1.ServiceType_SERVICE_TYPE_PSYCHOLOGICAL},
		Prefectures:    []caseregistryv1.Prefecture{caseregistryv1.Prefecture_PREFECTURE_VLORE},
		Municipalities: []string{"Vlorë"},
		Contact:        &referralv1.ProviderContact{Unit: "Reception", Email: "office@vatra.example", Phone: "+355 33 222 111"},
	}
}

var registration = []string{"name", "kind", "service_types", "prefectures", "municipalities", "contact"}

func TestApplyTakesValidFieldsAndNamesEveryViolation(t *testing.T) {
	cases := []struct {
		name   string
		edit   func(p *referralv1.Provider)
		paths  []string
		fields []string // violated, by the request's paths; none: valid
	}{
		{"a valid registration", func(*referralv1.Provider) {}, registration, nil},
		{"no name", func(p *referralv1.Provider) { p.Name = "  " }, registration, []string{"provider.name"}},
		{"a name with a control character", func(p *referralv1.Provider) { p.Name = "Vatra\nCentre" }, registration, []string{"provider.name"}},
		{"no kind", func(p *referralv1.Provider) { p.Kind = 0 }, registration, []string{"provider.kind"}},
		{"an unknown kind", func(p *referralv1.Provider) { p.Kind = 99 }, registration, []string{"provider.kind"}},
		{"no service", func(p *referralv1.Provider) { p.ServiceTypes = nil }, registration, []string{"provider.service_types"}},
		{"an unknown service", func(p *referralv1.Provider) { p.ServiceTypes = append(p.ServiceTypes, 77) }, registration, []string{"provider.service_types[2]"}},
		{"a repeated service", func(p *referralv1.Provider) { p.ServiceTypes = append(p.ServiceTypes, p.ServiceTypes[0]) }, registration, []string{"provider.service_types[2]"}},
		{"an unknown prefecture", func(p *referralv1.Provider) { p.Prefectures = []caseregistryv1.Prefecture{0} }, registration, []string{"provider.prefectures[0]"}},
		{"an empty municipality", func(p *referralv1.Provider) { p.Municipalities = []string{"Vlorë", ""} }, registration, []string{"provider.municipalities[1]"}},
		{"no contact", func(p *referralv1.Provider) { p.Contact = nil }, registration, []string{"provider.contact"}},
		{"a bad e-mail", func(p *referralv1.Provider) { p.Contact.Email = "Vatra <office@vatra.example>" }, registration, []string{"provider.contact.email"}},
		{"a bad phone", func(p *referralv1.Provider) { p.Contact.Phone = "call 0692" }, registration, []string{"provider.contact.phone"}},
		{"a field that does not change", func(*referralv1.Provider) {}, []string{"code"}, []string{"update_mask"}},
		{"several at once", func(p *referralv1.Provider) { p.Name, p.Kind = "", 0 }, registration, []string{"provider.name", "provider.kind"}},
		{"only the masked field is read", func(p *referralv1.Provider) { p.Name = "" }, []string{"active"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := shelter()
			c.edit(in)
			got, err := Apply(Provider{Code: in.GetCode(), Name: "kept"}, in, c.paths, "provider.")
			violated := apierr.ViolatedFields(err)
			slices.Sort(violated)
			want := slices.Sorted(slices.Values(c.fields))
			if !slices.Equal(violated, want) || (len(want) == 0) != (err == nil) {
				t.Fatalf("violations %v (%v), want %v", violated, err, want)
			}
			if err == nil && slices.Equal(c.paths, registration) &&
				(got.Name != "Vatra Centre" || !got.Offers("SERVICE_TYPE_SHELTER") || !got.Serves("PREFECTURE_VLORE") || got.Serves("PREFECTURE_TIRANE")) {
				t.Errorf("applied %+v", got)
			}
		})
	}
}

func TestSetCapacity(t *testing.T) {
	at := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	home, _ := Apply(Provider{Code: "QENDRA-VATRA"}, shelter(), registration, "")
	school := home
	school.Kind, school.ServiceTypes = referralv1.ProviderKind_PROVIDER_KIND_NGO.String(), []string{"SERVICE_TYPE_EDUCATION"}
	cases := []struct {
		name        string
		p           Provider
		total, free int32
		violated    []string
		refused     bool
	}{
		{"a shelter's places", home, 12, 3, nil, false},
		{"full", home, 12, 0, nil, false},
		{"more free than in total", home, 12, 13, []string{"places_free"}, false},
		{"negative", home, -1, -1, []string{"places_free", "places_total"}, false},
		{"not a shelter", school, 5, 5, nil, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := SetCapacity(c.p, c.total, c.free, at)
			violated := apierr.ViolatedFields(err)
			slices.Sort(violated)
			switch {
			case c.refused:
				if err == nil || len(violated) != 0 {
					t.Fatalf("err = %v, want NOT_A_SHELTER", err)
				}
			case !slices.Equal(violated, c.violated):
				t.Fatalf("violations %v (%v), want %v", violated, err, c.violated)
			case err == nil && (got.FreePlaces() != c.free || got.Capacity.Total != c.total || !got.Capacity.UpdatedAt.Equal(at)):
				t.Errorf("capacity %+v", got.Capacity)
			}
		})
	}
}
