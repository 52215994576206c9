package store

import (
	"slices"
	"time"

	"github.com/nrm-albania/nrm/services/caseregistry/internal/domain"
)

// Filter selects cases in a list. Zero fields do not filter.
type Filter struct {
	Status, State, ExploitationType  string
	IdentifyingInstitution, Owner    string
	Minor                            *bool     // by age at identification; an unknown age matches neither
	RegisteredFrom, RegisteredBefore time.Time // [from, before)
	IdentifiedFrom, IdentifiedTo     string    // inclusive, YYYY-MM-DD
}

// Matches reports whether the case l describes passes every filter set.
func (f Filter) Matches(l Listed) bool {
	eq := func(want, got string) bool { return want == "" || want == got }
	switch {
	case !eq(f.Status, l.Status), !eq(f.State, l.State),
		!eq(f.IdentifyingInstitution, l.IdentifyingInstitution), !eq(f.Owner, l.Owner):
		return false
	case f.ExploitationType != "" && !slices.Contains(l.ExploitationTypes, f.ExploitationType):
		return false
	case f.Minor != nil && (l.Age == nil || (*l.Age < domain.AdultAge) != *f.Minor):
		return false
	case !f.RegisteredFrom.IsZero() && l.RegisteredAt.Before(f.RegisteredFrom),
		!f.RegisteredBefore.IsZero() && !l.RegisteredAt.Before(f.RegisteredBefore):
		return false
	case f.IdentifiedFrom != "" && l.IdentifiedOn < f.IdentifiedFrom,
		f.IdentifiedTo != "" && l.IdentifiedOn > f.IdentifiedTo:
		return false
	}
	return true
}
