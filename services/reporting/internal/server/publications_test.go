package server

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	reportingv1 "github.com/nrm-albania/nrm/proto/nrm/reporting/v1"
	"github.com/nrm-albania/nrm/services/platform/auth"
	"github.com/nrm-albania/nrm/services/platform/journal"
	"github.com/nrm-albania/nrm/services/platform/testenv"
	"github.com/nrm-albania/nrm/services/reporting/internal/projection"
	"github.com/nrm-albania/nrm/services/reporting/internal/publication"
)

// feed applies to a fresh projection, for each group, n cases of 2025 with the group's facts,
// as the case events would: registered, then the status decided.
func feed(t *testing.T, groups []group) *projection.Projection {
	t.Helper()
	p := projection.New(testenv.Database(t))
	id := 0
	for _, g := range groups {
		for range g.n {
			id++
			f := projection.Facts{Day: "2025-05-01", Sex: g.sex, AgeBand: g.age, Citizenships: []string{g.citizenship},
				ExploitationTypes: []string{"EXPLOITATION_TYPE_SEXUAL"}, Status: "TRAFFICKING_STATUS_POTENTIAL_VICTIM",
				State: "CASE_STATE_OPEN", IdentifyingInstitution: "ASP-ANTITRAF", Prefecture: "PREFECTURE_TIRANE", Scope: "TRAFFICKING_SCOPE_INTERNAL"}
			caseID := fmt.Sprintf("c%03d", id)
			at := time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)
			applyEvent(t, p, projection.Event{CaseID: caseID, Version: 1, Facts: f, OccurredAt: at})
			f.Status = g.status
			applyEvent(t, p, projection.Event{CaseID: caseID, Version: 2, Facts: f, OccurredAt: at.Add(time.Hour)})
		}
	}
	return p
}

type group struct {
	n                     int
	sex, age, citizenship string
	status                string
}

func applyEvent(t *testing.T, p *projection.Projection, e projection.Event) {
	t.Helper()
	_, err := p.Apply(context.Background(), e)
	for errors.Is(err, journal.ErrBusy) {
		_, err = p.Apply(context.Background(), e)
	}
	if err != nil {
		t.Fatal(err)
	}
}

const (
	victim    = "TRAFFICKING_STATUS_VICTIM"
	potential = "TRAFFICKING_STATUS_POTENTIAL_VICTIM"
	notVictim = "TRAFFICKING_STATUS_NOT_A_VICTIM"
)

// The year's cases: 20 Albanian girls, 12 Albanian women, 3 Italian men (a small cell), and 4
// cases decided not to be victims, which count nowhere.
var year2025 = []group{
	{20, "SEX_FEMALE", "AGE_BAND_CHILD", "AL", victim},
	{12, "SEX_FEMALE", "AGE_BAND_ADULT", "AL", potential},
	{3, "SEX_MALE", "AGE_BAND_ADULT", "IT", victim},
	{4, "SEX_MALE", "AGE_BAND_ADULT", "AL", notVictim},
}

func as(role auth.Role) context.Context {
	return auth.NewContext(context.Background(), &auth.Principal{Institution: "MB-DPAM", Subject: "s", Roles: []auth.Role{role}, Method: "jwt"})
}

func rows(t *reportingv1.PublishedTable) map[string][]string {
	out := map[string][]string{}
	for _, r := range append(t.GetRows(), t.GetTotals()) {
		out[r.GetLabel()] = append(append([]string{}, r.GetCells()...), r.GetTotal())
	}
	return out
}

func TestEurostatTables(t *testing.T) {
	s := NewPublications(feed(t, year2025), publication.Populations{2024: {Total: 2400000, Female: 1200000, Male: 1200000, Child: 480000, Adult: 1920000}})
	for _, tc := range []struct {
		name        string
		exact       bool
		role        auth.Role
		age, citizn map[string][]string // label: FEMALE, MALE, UNKNOWN, total
	}{
		{
			// The 3 men are one cell, "<5", with the men's total; the women's cells that would give
			// it back (35 - women) are withheld too.
			name: "published", role: auth.RoleMember,
			age: map[string][]string{
				"CHILD": {"20", "0", "0", "20"}, "ADULT": {"x", "<5", "0", "15"},
				"UNKNOWN": {"0", "0", "0", "0"}, "TOTAL": {"x", "<5", "0", "35"},
			},
			citizn: map[string][]string{
				"AL": {"x", "0", "0", "x"}, "EU": {"0", "<5", "0", "<5"}, "NON_EU": {"0", "0", "0", "0"},
				"UNKNOWN": {"0", "0", "0", "0"}, "TOTAL": {"x", "<5", "0", "35"},
			},
		},
		{
			name: "exact for an analyst", exact: true, role: auth.RoleAnalyst,
			age: map[string][]string{
				"CHILD": {"20", "0", "0", "20"}, "ADULT": {"12", "3", "0", "15"},
				"UNKNOWN": {"0", "0", "0", "0"}, "TOTAL": {"32", "3", "0", "35"},
			},
			citizn: map[string][]string{
				"AL": {"32", "0", "0", "32"}, "EU": {"0", "3", "0", "3"}, "NON_EU": {"0", "0", "0", "0"},
				"UNKNOWN": {"0", "0", "0", "0"}, "TOTAL": {"32", "3", "0", "35"},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := s.GetEurostatTables(as(tc.role), &reportingv1.GetEurostatTablesRequest{Year: 2025, Exact: tc.exact})
			if err != nil {
				t.Fatal(err)
			}
			if got := rows(res.GetBySexAndAge()); !reflect.DeepEqual(got, tc.age) {
				t.Errorf("by sex and age = %v; want %v", got, tc.age)
			}
			if got := rows(res.GetByCitizenship()); !reflect.DeepEqual(got, tc.citizn) {
				t.Errorf("by citizenship = %v; want %v", got, tc.citizn)
			}
		})
	}
	_, err := s.GetEurostatTables(as(auth.RoleMember), &reportingv1.GetEurostatTablesRequest{Year: 2025, Exact: true})
	if status.Code(err) != codes.PermissionDenied {
		t.Errorf("exact for a member: %v; want PermissionDenied", err)
	}
}

func TestSdgIndicator(t *testing.T) {
	s := NewPublications(feed(t, year2025), publication.Populations{2024: {Total: 2400000, Female: 1200000, Male: 1200000, Child: 480000, Adult: 1920000}})
	res, err := s.GetSdgIndicator(as(auth.RoleAnalyst), &reportingv1.GetSdgIndicatorRequest{Year: 2025, Exact: true})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range append(append(append([]*reportingv1.SdgRate{res.GetTotal()}, res.GetBySex()...), res.GetByAgeGroup()...), res.GetByExploitation()...) {
		got[r.GetGroup()] = r.GetVictims() + " " + r.GetRatePer_100K()
	}
	want := map[string]string{
		"TOTAL":                    "35 1.46", // 35 × 100000 / 2400000
		"FEMALE":                   "32 2.67", // 32 / 1.2M
		"MALE":                     "3 0.25",
		"UNKNOWN":                  "0 ",      // no population to divide by
		"CHILD":                    "20 4.17", // 20 / 480000
		"ADULT":                    "15 0.78", // 15 / 1.92M
		"EXPLOITATION_TYPE_SEXUAL": "35 1.46",
	}
	if !reflect.DeepEqual(got, want) || res.GetPopulationYear() != 2024 {
		t.Errorf("SDG 16.2.2 = %v (population of %d); want %v (2024)", got, res.GetPopulationYear(), want)
	}
	published, err := s.GetSdgIndicator(as(auth.RoleMember), &reportingv1.GetSdgIndicatorRequest{Year: 2025})
	if err != nil {
		t.Fatal(err)
	}
	if m := published.GetBySex()[1]; m.GetVictims() != "<5" || m.GetRatePer_100K() != "" {
		t.Errorf("published men = %v; want <5 without a rate", m)
	}
	if _, err := s.GetSdgIndicator(as(auth.RoleMember), &reportingv1.GetSdgIndicatorRequest{Year: 2020}); status.Code(err) != codes.FailedPrecondition {
		t.Errorf("a year before any population: %v; want FailedPrecondition", err)
	}
}

func TestCaseLevelFile(t *testing.T) {
	t.Run("refused with the small groups' sizes", func(t *testing.T) {
		s := NewPublications(feed(t, year2025), nil)
		_, err := s.ExportCaseLevelFile(as(auth.RoleMember), &reportingv1.ExportCaseLevelFileRequest{Year: 2025})
		st, _ := status.FromError(err)
		if st.Code() != codes.FailedPrecondition {
			t.Fatalf("got %v; want FailedPrecondition", err)
		}
		var info *errdetails.ErrorInfo
		for _, d := range st.Details() {
			if i, ok := d.(*errdetails.ErrorInfo); ok {
				info = i
			}
		}
		// Groups: 20 girls (kept), 12 women (kept), 3 EU men: one group of 3.
		if info.GetReason() != "K_ANONYMITY" || info.GetMetadata()["group_sizes"] != "3" || info.GetMetadata()["k"] != "11" {
			t.Errorf("details = %v", info)
		}
	})
	t.Run("released", func(t *testing.T) {
		s := NewPublications(feed(t, year2025[:2]), nil)
		body, err := s.ExportCaseLevelFile(as(auth.RoleMember), &reportingv1.ExportCaseLevelFileRequest{Year: 2025})
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(body.GetData())), "\n")
		if body.GetContentType() != "text/csv; charset=utf-8" || len(lines) != 33 ||
			lines[0] != "year_of_identification,gender,age_group,citizenship_group,type_of_exploitation,trafficking_status" ||
			lines[1] != "2025,FEMALE,ADULT,AL,EXPLOITATION_TYPE_SEXUAL,POTENTIAL_VICTIM" {
			t.Errorf("file %s: %d lines, first %q", body.GetContentType(), len(lines), lines[:2])
		}
	})
	s := NewPublications(feed(t, nil), nil)
	if _, err := s.ExportCaseLevelFile(as(auth.RoleMember), &reportingv1.ExportCaseLevelFileRequest{Year: 12}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("year 12: %v; want InvalidArgument", err)
	}
}
