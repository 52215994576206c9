package server

import (
	"slices"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	caseregistryv1 "github.com/nrm-albania/nrm/proto/nrm/caseregistry/v1"
	"github.com/nrm-albania/nrm/services/caseregistry/internal/domain"
)

func TestListCasesFiltersAndPages(t *testing.T) {
	s, _, _ := newServer(t)
	register := func(age int32, exploitation caseregistryv1.ExploitationType, institution, date string) string {
		t.Helper()
		r := request()
		r.Profile.AgeAtIdentification = proto.Int32(age)
		r.Trafficking.ExploitationTypes = []caseregistryv1.ExploitationType{exploitation}
		r.Identification.IdentifyingInstitution, r.Identification.IdentificationDate = institution, date
		r.Identity = &caseregistryv1.Identity{GivenName: "MARKERLIST", FamilyName: institution + date}
		resp, err := s.RegisterCase(asCaller(), r)
		if err != nil {
			t.Fatal(err)
		}
		return resp.GetCase().GetCode()
	}
	sexual, labour := caseregistryv1.ExploitationType_EXPLOITATION_TYPE_SEXUAL, caseregistryv1.ExploitationType_EXPLOITATION_TYPE_FORCED_LABOUR
	a := register(16, sexual, "ASP-ANTITRAF", "2026-01-10")
	b := register(30, labour, "ISHPSHSH", "2026-03-05")
	c := register(17, labour, "ASP-KUFIRI", "2026-06-20")
	d := register(45, sexual, "ASP-ANTITRAF", "2026-09-01")

	codes := func(req *caseregistryv1.ListCasesRequest) []string {
		t.Helper()
		resp, err := s.ListCases(asCaller(), req)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, x := range resp.GetCases() {
			if x.GetIdentity() != nil {
				t.Errorf("a list carried an identity: %v", x)
			}
			out = append(out, x.GetCode())
		}
		return out
	}
	for _, tt := range []struct {
		name string
		req  *caseregistryv1.ListCasesRequest
		want []string
	}{
		{"all, in code order", &caseregistryv1.ListCasesRequest{}, []string{a, b, c, d}},
		{"exploitation", &caseregistryv1.ListCasesRequest{ExploitationType: labour}, []string{b, c}},
		{"identifying institution", &caseregistryv1.ListCasesRequest{IdentifyingInstitution: "ASP-ANTITRAF"}, []string{a, d}},
		{"children", &caseregistryv1.ListCasesRequest{Minor: proto.Bool(true)}, []string{a, c}},
		{"adults", &caseregistryv1.ListCasesRequest{Minor: proto.Bool(false)}, []string{b, d}},
		{"identified in spring", &caseregistryv1.ListCasesRequest{IdentifiedFrom: "2026-03-01", IdentifiedTo: "2026-06-20"}, []string{b, c}},
		{"registered today", &caseregistryv1.ListCasesRequest{RegisteredFrom: "2026-01-01", RegisteredTo: today()}, []string{a, b, c, d}},
		{"registered before this year", &caseregistryv1.ListCasesRequest{RegisteredTo: "2025-12-31"}, nil},
		{"potential victims", &caseregistryv1.ListCasesRequest{TraffickingStatus: caseregistryv1.TraffickingStatus_TRAFFICKING_STATUS_POTENTIAL_VICTIM}, []string{a, b, c, d}},
		{"victims", &caseregistryv1.ListCasesRequest{TraffickingStatus: caseregistryv1.TraffickingStatus_TRAFFICKING_STATUS_VICTIM}, nil},
		{"owner", &caseregistryv1.ListCasesRequest{OwnerInstitution: "KKSAT"}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := codes(tt.req); !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}

	// Paging through, two at a time, yields every case once, in order.
	var paged []string
	req := &caseregistryv1.ListCasesRequest{PageSize: 2}
	for {
		resp, err := s.ListCases(asCaller(), req)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range resp.GetCases() {
			paged = append(paged, x.GetCode())
		}
		if resp.GetNextPageToken() == "" {
			break
		}
		req.PageToken = resp.GetNextPageToken()
	}
	if !slices.Equal(paged, []string{a, b, c, d}) {
		t.Errorf("paged %v", paged)
	}
}

func TestListCasesRefusesBadFilters(t *testing.T) {
	s, _, _ := newServer(t)
	for name, req := range map[string]*caseregistryv1.ListCasesRequest{
		"page size":      {PageSize: 101},
		"token":          {PageToken: "garbage"},
		"unknown enum":   {State: 42},
		"institution":    {OwnerInstitution: "not a code"},
		"date":           {IdentifiedFrom: "2026-13-01"},
		"reversed range": {RegisteredFrom: "2026-05-01", RegisteredTo: "2026-04-01"},
	} {
		if _, err := s.ListCases(asCaller(), req); status.Code(err) != codes.InvalidArgument {
			t.Errorf("%s: %v, want InvalidArgument", name, err)
		}
	}
}

func today() string { return domain.Today(time.Now()) }
