// Package providers keeps the directory of providers that cases are referred to: member
// institutions and other organisations (KKSAT's shelters, municipal child-protection units,
// health centres, NGOs), what each offers, where, its institutional contact, and a shelter's
// places. Each provider is an aggregate of the platform's store (services/platform/aggregate),
// so its changes are versioned, recorded in its history and published as
// referral.provider_changed.
package providers

import (
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/nrm-albania/nrm/services/platform/aggregate"

	caseregistryv1 "github.com/nrm-albania/nrm/proto/nrm/caseregistry/v1"
	referralv1 "github.com/nrm-albania/nrm/proto/nrm/referral/v1"
	"github.com/nrm-albania/nrm/services/platform/apierr"
	"github.com/nrm-albania/nrm/services/platform/auth"
)

// Provider is a provider as stored. Enumerations are stored by their proto names.
type Provider struct {
	Code           string    `bson:"_id"`
	Version        int64     `bson:"version"`
	Name           string    `bson:"name"`
	Kind           string    `bson:"kind"`
	ServiceTypes   []string  `bson:"service_types"`
	Prefectures    []string  `bson:"prefectures,omitempty"`
	Municipalities []string  `bson:"municipalities,omitempty"`
	Contact        Contact   `bson:"contact"`
	Active         bool      `bson:"active"`
	Capacity       *Capacity `bson:"capacity,omitempty"`
	UpdatedAt      time.Time `bson:"updated_at"`
}

// Contact is an institutional contact.
type Contact struct {
	Unit  string `bson:"unit,omitempty"`
	Email string `bson:"email,omitempty"`
	Phone string `bson:"phone,omitempty"`
}

// Capacity is a shelter's places as it last recorded them.
type Capacity struct {
	Total     int32     `bson:"total"`
	Free      int32     `bson:"free"`
	UpdatedAt time.Time `bson:"updated_at"`
}

// AggregateID, AggregateVersion and AtVersion make a provider an aggregate.
func (p Provider) AggregateID() string     { return p.Code }
func (p Provider) AggregateVersion() int64 { return p.Version }
func (p Provider) AtVersion(v int64, at time.Time) Provider {
	p.Version, p.UpdatedAt = v, at
	return p
}

// Change is one entry of its history.
type Change = aggregate.Change

// Change kinds.
const (
	ChangeRegistered = "REGISTERED"
	ChangeUpdated    = "UPDATED"
	ChangeCapacity   = "CAPACITY"
)

// Offers reports whether the provider offers the service type (its proto name).
func (p Provider) Offers(serviceType string) bool {
	return slices.Contains(p.ServiceTypes, serviceType)
}

// Serves reports whether the provider serves the prefecture (its proto name): one of its
// prefectures, or every prefecture when it names none.
func (p Provider) Serves(prefecture string) bool {
	return len(p.Prefectures) == 0 || slices.Contains(p.Prefectures, prefecture)
}

// FreePlaces is the number of free places a shelter last recorded; 0 when it recorded none.
func (p Provider) FreePlaces() int32 {
	if p.Capacity == nil {
		return 0
	}
	return p.Capacity.Free
}

// Limits of the free-text fields.
const (
	maxName           = 200
	maxMunicipalities = 100
	maxMunicipality   = 100
	maxUnit           = 200
	maxEmail          = 254
	maxPhone          = 32
)

// Editable are the fields UpdateProvider changes, as update_mask paths.
var Editable = []string{"name", "kind", "service_types", "prefectures", "municipalities", "contact", "active"}

// Apply sets the fields of p named by paths (Editable; all of them but active for a
// registration) from the request's provider, validating them. Violations name the request's
// field paths under prefix ("provider.").
func Apply(p Provider, from *referralv1.Provider, paths []string, prefix string) (Provider, error) {
	var v apierr.Violations
	for _, path := range paths {
		field := prefix + path
		switch path {
		case "name":
			p.Name = strings.TrimSpace(from.GetName())
			if p.Name == "" || utf8.RuneCountInString(p.Name) > maxName || !printable(p.Name) {
				v.Add(field, "is required: 1 to %d printable characters", maxName)
			}
		case "kind":
			p.Kind = from.GetKind().String()
			if !Known(referralv1.ProviderKind_name, from.GetKind()) {
				v.Add(field, "is required: a PROVIDER_KIND_* value")
			}
		case "service_types":
			p.ServiceTypes = nil
			for i, t := range from.GetServiceTypes() {
				if !Known(referralv1.ServiceType_name, t) {
					v.Add(fmt.Sprintf("%s[%d]", field, i), "must be a SERVICE_TYPE_* value")
					continue
				}
				if slices.Contains(p.ServiceTypes, t.String()) {
					v.Add(fmt.Sprintf("%s[%d]", field, i), "repeats %s", t)
					continue
				}
				p.ServiceTypes = append(p.ServiceTypes, t.String())
			}
			if len(from.GetServiceTypes()) == 0 {
				v.Add(field, "is required: at least one service the provider offers")
			}
		case "prefectures":
			p.Prefectures = nil
			for i, pr := range from.GetPrefectures() {
				if !Known(caseregistryv1.Prefecture_name, pr) {
					v.Add(fmt.Sprintf("%s[%d]", field, i), "must be a PREFECTURE_* value")
					continue
				}
				if !slices.Contains(p.Prefectures, pr.String()) {
					p.Prefectures = append(p.Prefectures, pr.String())
				}
			}
		case "municipalities":
			p.Municipalities = nil
			if len(from.GetMunicipalities()) > maxMunicipalities {
				v.Add(field, "must name at most %d municipalities", maxMunicipalities)
				break
			}
			for i, m := range from.GetMunicipalities() {
				m = strings.TrimSpace(m)
				if m == "" || utf8.RuneCountInString(m) > maxMunicipality || !printable(m) {
					v.Add(fmt.Sprintf("%s[%d]", field, i), "must be a municipality's name, 1 to %d printable characters", maxMunicipality)
					continue
				}
				if !slices.Contains(p.Municipalities, m) {
					p.Municipalities = append(p.Municipalities, m)
				}
			}
		case "contact":
			p.Contact = contact(&v, field, from.GetContact())
		case "active":
			p.Active = from.GetActive()
		default:
			v.Add("update_mask", "cannot change %q: the fields that change are %s", path, strings.Join(Editable, ", "))
		}
	}
	return p, v.Err()
}

// contact validates an institutional contact: at least an e-mail address or a phone number.
func contact(v *apierr.Violations, field string, c *referralv1.ProviderContact) Contact {
	out := Contact{Unit: strings.TrimSpace(c.GetUnit()), Email: strings.TrimSpace(c.GetEmail()), Phone: strings.TrimSpace(c.GetPhone())}
	if utf8.RuneCountInString(out.Unit) > maxUnit || !printable(out.Unit) {
		v.Add(field+".unit", "must be at most %d printable characters", maxUnit)
	}
	if out.Email != "" {
		if a, err := mail.ParseAddress(out.Email); err != nil || a.Address != out.Email || len(out.Email) > maxEmail {
			v.Add(field+".email", "must be an e-mail address such as office@example.al")
		}
	}
	if out.Phone != "" && (len(out.Phone) > maxPhone || strings.Trim(out.Phone, "0123456789 +-()") != "") {
		v.Add(field+".phone", "must be digits, spaces and + - ( ), at most %d characters", maxPhone)
	}
	if out.Email == "" && out.Phone == "" {
		v.Add(field, "is required: an e-mail address or a phone number of the institution")
	}
	return out
}

// SetCapacity records a shelter's places.
func SetCapacity(p Provider, total, free int32, at time.Time) (Provider, error) {
	var v apierr.Violations
	if p.Kind != referralv1.ProviderKind_PROVIDER_KIND_SHELTER.String() && !p.Offers(referralv1.ServiceType_SERVICE_TYPE_SHELTER.String()) {
		return p, apierr.FailedPrecondition("NOT_A_SHELTER",
			fmt.Sprintf("provider %s offers no shelter: only shelters keep places", p.Code), map[string]string{"provider_code": p.Code})
	}
	if total < 0 {
		v.Add("places_total", "must not be negative, got %d", total)
	}
	if free < 0 || free > total {
		v.Add("places_free", "must be 0 to places_total (%d), got %d", total, free)
	}
	if err := v.Err(); err != nil {
		return p, err
	}
	p.Capacity = &Capacity{Total: total, Free: free, UpdatedAt: at.UTC()}
	return p, nil
}

// CheckCode validates a provider code: an institution code (docs/security.md), which it calls
// the API with.
func CheckCode(field, code string) error {
	if err := auth.CheckInstitution(code); err != nil {
		return apierr.InvalidField(field, "must be an institution code: %v", err)
	}
	return nil
}

// Known reports whether v is a value of its enum other than the unspecified zero: names is the
// enum's generated name map (referralv1.ServiceType_name, say).
func Known[E ~int32](names map[int32]string, v E) bool {
	_, ok := names[int32(v)]
	return ok && v != 0
}

func printable(s string) bool {
	return !strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f })
}
