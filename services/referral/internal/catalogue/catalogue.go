// Package catalogue is the catalogue of services a case can be referred to. It is reference
// data that follows the API's ServiceType enum: a service type the API can name but the
// catalogue cannot describe would be a referral nobody can explain, so the catalogue is built
// from the enum and refuses to exist with a gap.
package catalogue

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"

	referralv1 "github.com/nrm-albania/nrm/proto/nrm/referral/v1"
)

// Entry is one service of the catalogue.
type Entry struct {
	Type referralv1.ServiceType
	// Code is the enum value's name without its SERVICE_TYPE_ prefix, e.g. "SHELTER"; it is as
	// stable as the enum, which buf breaking guards.
	Code string
	// Name is the service's name in English.
	Name string
	// Description says what the service covers.
	Description string
	// ChildrenOnly marks services that only children receive, decided by the child-protection
	// authorities rather than by consent.
	ChildrenOnly bool
}

// about is what the catalogue says of one service type.
type about struct {
	name, description string
	childrenOnly      bool
}

const codePrefix = "SERVICE_TYPE_"

// entries panics at start, and so fails every test of the package, when the enum has a value
// that descriptions lacks: that is a programming error to catch before release, not a state to
// serve.
var entries = mustBuild(referralv1.ServiceType_SERVICE_TYPE_UNSPECIFIED.Descriptor().Values(), descriptions)

// All returns the catalogue in enum order.
func All() []Entry { return slices.Clone(entries) }

// build makes the catalogue from the enum's values and what is known about each; every value but
// UNSPECIFIED needs exactly one description, and no description may name a value the enum lacks.
func build(values protoreflect.EnumValueDescriptors, known map[referralv1.ServiceType]about) ([]Entry, error) {
	var out []Entry
	var errs []error
	for i := range values.Len() {
		v := values.Get(i)
		t := referralv1.ServiceType(v.Number())
		if t == referralv1.ServiceType_SERVICE_TYPE_UNSPECIFIED {
			continue
		}
		a, ok := known[t]
		if !ok {
			errs = append(errs, fmt.Errorf("%s has no catalogue entry", v.Name()))
			continue
		}
		out = append(out, Entry{
			Type: t, Code: strings.TrimPrefix(string(v.Name()), codePrefix),
			Name: a.name, Description: a.description, ChildrenOnly: a.childrenOnly,
		})
	}
	for t := range known {
		if values.ByNumber(protoreflect.EnumNumber(t)) == nil {
			errs = append(errs, fmt.Errorf("catalogue entry for service type %d, which the enum lacks", t))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b Entry) int { return cmp.Compare(a.Type, b.Type) })
	return out, nil
}

func mustBuild(values protoreflect.EnumValueDescriptors, known map[referralv1.ServiceType]about) []Entry {
	es, err := build(values, known)
	if err != nil {
		panic("service catalogue: " + err.Error())
	}
	return es
}
