package server

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"google.golang.org/genproto/googleapis/api/httpbody"

	reportingv1 "github.com/nrm-albania/nrm/proto/nrm/reporting/v1"
	"github.com/nrm-albania/nrm/services/platform/apierr"
	"github.com/nrm-albania/nrm/services/platform/auth"
	"github.com/nrm-albania/nrm/services/platform/authz"
	"github.com/nrm-albania/nrm/services/reporting/internal/disclosure"
	"github.com/nrm-albania/nrm/services/reporting/internal/projection"
	"github.com/nrm-albania/nrm/services/reporting/internal/publication"
)

// CaseReader reads the latest facts of the cases identified in a period; projection.Projection
// is one.
type CaseReader interface {
	Cases(ctx context.Context, from, to string, visit func(projection.Facts) error) error
}

// Publications serves nrm.reporting.v1.PublicationService.
type Publications struct {
	reportingv1.UnimplementedPublicationServiceServer
	cases      CaseReader
	population publication.Populations
}

// NewPublications returns the publications of the cases in cases, with population's figures.
func NewPublications(cases CaseReader, population publication.Populations) *Publications {
	return &Publications{cases: cases, population: population}
}

// GetEurostatTables publishes the crim_thb tables of a year.
func (s *Publications) GetEurostatTables(ctx context.Context, req *reportingv1.GetEurostatTablesRequest) (*reportingv1.GetEurostatTablesResponse, error) {
	tables, err := s.eurostat(ctx, req.GetYear())
	if err != nil {
		return nil, err
	}
	publish, err := publisher(ctx, req.GetExact())
	if err != nil {
		return nil, err
	}
	published := []disclosure.Published{publish(tables.BySexAndAge), publish(tables.ByCitizenship), publish(tables.ByExploitation)}
	if err := unexposed(published, "Eurostat tables"); err != nil {
		return nil, err
	}
	return &reportingv1.GetEurostatTablesResponse{
		Year: req.GetYear(), Exact: req.GetExact(), Threshold: disclosure.DefaultThreshold,
		BySexAndAge:    toTable(published[0], "age_group", "sex"),
		ByCitizenship:  toTable(published[1], "citizenship_group", "sex"),
		ByExploitation: toTable(published[2], "exploitation", "sex"),
	}, nil
}

// GetSdgIndicator publishes SDG 16.2.2 for a year. Its counts are the margins of the Eurostat
// tables as published, so the two publications withhold the same cells and cannot be laid over
// each other to undo the suppression.
func (s *Publications) GetSdgIndicator(ctx context.Context, req *reportingv1.GetSdgIndicatorRequest) (*reportingv1.GetSdgIndicatorResponse, error) {
	tables, err := s.eurostat(ctx, req.GetYear())
	if err != nil {
		return nil, err
	}
	publish, err := publisher(ctx, req.GetExact())
	if err != nil {
		return nil, err
	}
	pop, popYear, ok := s.population.For(int(req.GetYear()))
	if !ok {
		return nil, apierr.FailedPrecondition("POPULATION_UNKNOWN",
			fmt.Sprintf("no population figures for %d or before: configure NRM_POPULATION", req.GetYear()), nil)
	}
	sexAge, forms := publish(tables.BySexAndAge), publish(tables.ByExploitation)
	if err := unexposed([]disclosure.Published{sexAge, forms}, "SDG 16.2.2 indicator"); err != nil {
		return nil, err
	}
	bySex := map[string]int64{publication.Female: pop.Female, publication.Male: pop.Male}
	byAge := map[string]int64{publication.Child: pop.Child, publication.Adult: pop.Adult}
	out := &reportingv1.GetSdgIndicatorResponse{
		Year: req.GetYear(), Exact: req.GetExact(), Threshold: disclosure.DefaultThreshold, PopulationYear: int32(popYear),
		Total: rate("TOTAL", sexAge.Total, pop.Total),
	}
	for i, sex := range sexAge.Cols {
		out.BySex = append(out.BySex, rate(sex, sexAge.ColTotals[i], bySex[sex]))
	}
	for i, age := range sexAge.Rows {
		out.ByAgeGroup = append(out.ByAgeGroup, rate(age, sexAge.RowTotals[i], byAge[age]))
	}
	for i, form := range forms.Rows {
		out.ByExploitation = append(out.ByExploitation, rate(form, forms.RowTotals[i], pop.Total))
	}
	return out, nil
}

// ExportCaseLevelFile returns the case-level file of a year, if k-anonymous.
func (s *Publications) ExportCaseLevelFile(ctx context.Context, req *reportingv1.ExportCaseLevelFileRequest) (*httpbody.HttpBody, error) {
	cases, err := s.year(ctx, req.GetYear())
	if err != nil {
		return nil, err
	}
	records := publication.CaseLevel(int(req.GetYear()), cases)
	if err := disclosure.KAnonymity(records, publication.QuasiIdentifiers, disclosure.DefaultK); err != nil {
		var ke *disclosure.KAnonymityError
		if errors.As(err, &ke) {
			sizes := make([]string, len(ke.Sizes))
			for i, n := range ke.Sizes {
				sizes[i] = strconv.Itoa(n)
			}
			return nil, apierr.FailedPrecondition("K_ANONYMITY", err.Error(), map[string]string{
				"k": strconv.Itoa(ke.K), "failing_groups": strconv.Itoa(len(ke.Sizes)), "group_sizes": strings.Join(sizes, ","),
				"quasi_identifiers": strings.Join(publication.QuasiIdentifiers, ","),
			})
		}
		return nil, err
	}
	return &httpbody.HttpBody{ContentType: "text/csv; charset=utf-8", Data: publication.CSV(records)}, nil
}

func (s *Publications) eurostat(ctx context.Context, year int32) (publication.Eurostat, error) {
	cases, err := s.year(ctx, year)
	if err != nil {
		return publication.Eurostat{}, err
	}
	return publication.EurostatTables(cases), nil
}

// year reads the cases identified in year.
func (s *Publications) year(ctx context.Context, year int32) ([]projection.Facts, error) {
	if year < 1900 || year > 9999 {
		return nil, apierr.InvalidField("year", "must be a year such as 2025; got %d", year)
	}
	y := fmt.Sprintf("%04d", year)
	var cases []projection.Facts
	err := s.cases.Cases(ctx, y+"-01-01", y+"-12-31", func(f projection.Facts) error {
		cases = append(cases, f)
		return nil
	})
	return cases, err
}

// publisher returns how tables leave the service for the caller: suppressed, or exact for the
// roles authz.ExactCounts names when the caller asks.
func publisher(ctx context.Context, exact bool) (func(disclosure.Table) disclosure.Published, error) {
	if !exact {
		return func(t disclosure.Table) disclosure.Published {
			return disclosure.Suppress(t, disclosure.DefaultThreshold)
		}, nil
	}
	p, _ := auth.FromContext(ctx)
	if !slices.ContainsFunc(authz.ExactCounts, p.Effective().Has) {
		return nil, apierr.PermissionDenied("EXACT_COUNTS_DENIED",
			"exact counts are for the chair, the secretariat and analysts; ask without exact for the published figures", nil)
	}
	return disclosure.Exact, nil
}

// unexposed refuses what a suppression could not protect (disclosure.Published.Exposed): the
// year's counts are too few to publish these tables without giving a count away.
func unexposed(ps []disclosure.Published, what string) error {
	for _, p := range ps {
		if p.Exposed {
			return apierr.FailedPrecondition("CANNOT_SUPPRESS",
				"the "+what+" of this year cannot be published: its counts are too few to withhold without one being worked out; "+
					"the Authority's members may read the exact figures (exact=true)", nil)
		}
	}
	return nil
}

// rate is a group's count as published with its rate per 100,000, left out when the count is
// withheld (the rate times the population would give it back) or there is no population.
func rate(group, victims string, population int64) *reportingv1.SdgRate {
	return &reportingv1.SdgRate{Group: group, Victims: victims, Population: population,
		RatePer_100K: publication.RatePer100K(victims, population)}
}

func toTable(p disclosure.Published, rows, cols string) *reportingv1.PublishedTable {
	t := &reportingv1.PublishedTable{RowsDimension: rows, ColumnsDimension: cols, Columns: p.Cols,
		Totals: &reportingv1.PublishedRow{Label: "TOTAL", Cells: p.ColTotals, Total: p.Total}}
	for i, label := range p.Rows {
		t.Rows = append(t.Rows, &reportingv1.PublishedRow{Label: label, Cells: p.Cells[i], Total: p.RowTotals[i]})
	}
	return t
}
