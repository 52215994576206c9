package reporting

import (
	"context"
	"fmt"

	reportingv1 "github.com/nrm-albania/nrm/proto/nrm/reporting/v1"
	"github.com/nrm-albania/nrm/services/platform/app"
	"github.com/nrm-albania/nrm/services/platform/config"
	"github.com/nrm-albania/nrm/services/reporting/internal/projection"
	"github.com/nrm-albania/nrm/services/reporting/internal/publication"
	"github.com/nrm-albania/nrm/services/reporting/internal/server"
)

// publications are the settings of the publications (Eurostat, SDG 16.2.2, the case-level file).
type publications struct {
	// population are the SDG 16.2.2 denominators, NRM_POPULATION; parsed once bound.
	population publication.Populations
}

func (s *Service) bindPublications(set *config.Set) {
	var text string
	set.String(&text, "population", publication.DefaultPopulation,
		`resident population by year for SDG 16.2.2: "YEAR:total=N,female=N,male=N,child=N,adult=N;…"`)
	set.Check(func() (err error) {
		if s.publications.population, err = publication.ParsePopulations(text); err != nil {
			return fmt.Errorf("%s: %w", config.EnvName("population"), err)
		}
		return nil
	})
}

// setupPublications serves the publications from the per-case projection.
func (s *Service) setupPublications(_ context.Context, rt *app.Runtime) {
	reportingv1.RegisterPublicationServiceServer(rt.GRPC, server.NewPublications(projection.New(rt.DB), s.publications.population))
}
