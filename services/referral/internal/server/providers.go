package server

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"google.golang.org/protobuf/proto"

	caseregistryv1 "github.com/nrm-albania/nrm/proto/nrm/caseregistry/v1"
	referralv1 "github.com/nrm-albania/nrm/proto/nrm/referral/v1"
	"github.com/nrm-albania/nrm/services/platform/aggregate"
	"github.com/nrm-albania/nrm/services/platform/apierr"
	"github.com/nrm-albania/nrm/services/platform/auth"
	"github.com/nrm-albania/nrm/services/platform/pagination"
	"github.com/nrm-albania/nrm/services/referral/internal/providers"
)

// ListProviders returns a page of the directory in code order; the page token carries the last
// code returned.
func (s *Server) ListProviders(ctx context.Context, req *referralv1.ListProvidersRequest) (*referralv1.ListProvidersResponse, error) {
	var v apierr.Violations
	if t := req.GetServiceType(); t != 0 && !providers.Known(referralv1.ServiceType_name, t) {
		v.Add("service_type", "must be a SERVICE_TYPE_* value, got %d", t)
	}
	if p := req.GetPrefecture(); p != 0 && !providers.Known(caseregistryv1.Prefecture_name, p) {
		v.Add("prefecture", "must be a PREFECTURE_* value, got %d", p)
	}
	if req.GetMinFreePlaces() < 0 {
		v.Add("min_free_places", "must not be negative, got %d", req.GetMinFreePlaces())
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	size, after, err := pagination.Parse(req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	all, err := s.Providers.All(ctx)
	if err != nil {
		return nil, err
	}
	resp := &referralv1.ListProvidersResponse{Providers: []*referralv1.Provider{}}
	for _, p := range all {
		if p.Code <= after || !matches(p, req) {
			continue
		}
		if len(resp.Providers) == size {
			resp.NextPageToken = pagination.Token(resp.Providers[size-1].GetCode())
			break
		}
		resp.Providers = append(resp.Providers, providerProto(p))
	}
	return resp, nil
}

func matches(p providers.Provider, req *referralv1.ListProvidersRequest) bool {
	switch {
	case !p.Active && !req.GetIncludeInactive():
		return false
	case req.GetServiceType() != referralv1.ServiceType_SERVICE_TYPE_UNSPECIFIED && !p.Offers(req.GetServiceType().String()):
		return false
	case req.GetPrefecture() != caseregistryv1.Prefecture_PREFECTURE_UNSPECIFIED && !p.Serves(req.GetPrefecture().String()):
		return false
	}
	return req.GetMinFreePlaces() == 0 || p.FreePlaces() >= req.GetMinFreePlaces()
}

// GetProvider returns one provider with its etag.
func (s *Server) GetProvider(ctx context.Context, req *referralv1.GetProviderRequest) (*referralv1.GetProviderResponse, error) {
	if err := providers.CheckCode("code", req.GetCode()); err != nil {
		return nil, err
	}
	p, err := s.Providers.Get(ctx, req.GetCode())
	if errors.Is(err, aggregate.ErrNotFound) {
		return nil, apierr.NotFound("provider", req.GetCode())
	}
	if err != nil {
		return nil, err
	}
	return &referralv1.GetProviderResponse{Provider: s.respond(ctx, p)}, nil
}

// RegisterProvider adds a provider, active, at version 1. A retry of the same registration
// answers with what is stored; another registration of a code in the directory is
// ALREADY_EXISTS.
func (s *Server) RegisterProvider(ctx context.Context, req *referralv1.RegisterProviderRequest) (*referralv1.RegisterProviderResponse, error) {
	in := req.GetProvider()
	if err := providers.CheckCode("provider.code", in.GetCode()); err != nil {
		return nil, err
	}
	if in.GetCapacity() != nil || in.GetVersion() != 0 || in.GetEtag() != "" {
		return nil, apierr.InvalidField("provider", "capacity, version and etag are set by the service (capacity through UpdateProviderCapacity)")
	}
	fields := slices.DeleteFunc(slices.Clone(providers.Editable), func(f string) bool { return f == "active" })
	p, err := providers.Apply(providers.Provider{Code: in.GetCode(), Active: true}, in, fields, "provider.")
	if err != nil {
		return nil, err
	}
	now := s.stamp()
	p = p.AtVersion(1, now)
	events, err := aggregate.Envelop(ctx, p.Code, 1, []aggregate.Event{providers.Changed(p)}, now)
	if err != nil {
		return nil, err
	}
	who := caller(ctx)
	stored, err := s.Providers.Create(ctx, p, providers.Change{Kind: providers.ChangeRegistered}.By(who.Institution, who.Subject, now), events)
	switch {
	case errors.Is(err, aggregate.ErrExists):
		if !sameRegistration(stored, p) {
			return nil, apierr.AlreadyExists("PROVIDER_EXISTS",
				fmt.Sprintf("provider %s is in the directory already; change it with UpdateProvider", p.Code), map[string]string{"provider_code": p.Code})
		}
	case err != nil:
		return nil, err
	default:
		s.Relay.Notify()
		s.Log.InfoContext(ctx, "provider registered", "provider_code", p.Code, "kind", p.Kind)
	}
	return &referralv1.RegisterProviderResponse{Provider: s.respond(ctx, stored)}, nil
}

// sameRegistration reports whether stored is what registering p made, unchanged since.
func sameRegistration(stored, p providers.Provider) bool {
	return stored.Version == 1 && proto.Equal(providerProto(stored), providerProto(p.AtVersion(1, stored.UpdatedAt)))
}

// UpdateProvider changes the fields update_mask names.
func (s *Server) UpdateProvider(ctx context.Context, req *referralv1.UpdateProviderRequest) (*referralv1.UpdateProviderResponse, error) {
	if err := providers.CheckCode("code", req.GetCode()); err != nil {
		return nil, err
	}
	if c := req.GetProvider().GetCode(); c != "" && c != req.GetCode() {
		return nil, apierr.InvalidField("provider.code", "is %q but the request is for %q: a provider's code does not change", c, req.GetCode())
	}
	paths := req.GetUpdateMask().GetPaths()
	if len(paths) == 0 {
		return nil, apierr.InvalidField("update_mask", "is required: name the fields to change, e.g. contact")
	}
	expected, err := aggregate.ExpectedVersion(ctx, "expected_version", req.GetExpectedVersion())
	if err != nil {
		return nil, err
	}
	p, err := s.change(ctx, aggregate.Command[providers.Provider, providers.Change]{ID: req.GetCode(), Expected: expected,
		Decide: func(p providers.Provider) (aggregate.Outcome[providers.Provider, providers.Change], error) {
			next, err := providers.Apply(p, req.GetProvider(), paths, "provider.")
			if err != nil {
				return aggregate.Outcome[providers.Provider, providers.Change]{}, err
			}
			return s.changed(next, providers.Change{Kind: providers.ChangeUpdated, Fields: slices.Clone(paths)}), nil
		}})
	if err != nil {
		return nil, err
	}
	return &referralv1.UpdateProviderResponse{Provider: s.respond(ctx, p)}, nil
}

// UpdateProviderCapacity records a shelter's places: the provider itself, the chair or the
// secretariat.
func (s *Server) UpdateProviderCapacity(ctx context.Context, req *referralv1.UpdateProviderCapacityRequest) (*referralv1.UpdateProviderCapacityResponse, error) {
	if err := providers.CheckCode("code", req.GetCode()); err != nil {
		return nil, err
	}
	expected, err := aggregate.ExpectedVersion(ctx, "expected_version", req.GetExpectedVersion())
	if err != nil {
		return nil, err
	}
	who := caller(ctx)
	p, err := s.change(ctx, aggregate.Command[providers.Provider, providers.Change]{ID: req.GetCode(), Expected: expected,
		Admit: func(p providers.Provider) error {
			if who.Institution == p.Code || who.Has(auth.RoleChair) || who.Has(auth.RoleSecretariat) {
				return nil
			}
			return apierr.PermissionDenied("NOT_THE_PROVIDER",
				fmt.Sprintf("%s records the places of its own shelters only; %s's are its own, the chair's or the secretariat's to record", who.Institution, p.Code),
				map[string]string{"provider_code": p.Code})
		},
		Decide: func(p providers.Provider) (aggregate.Outcome[providers.Provider, providers.Change], error) {
			next, err := providers.SetCapacity(p, req.GetPlacesTotal(), req.GetPlacesFree(), s.now())
			if err != nil {
				return aggregate.Outcome[providers.Provider, providers.Change]{}, err
			}
			return s.changed(next, providers.Change{Kind: providers.ChangeCapacity, Fields: []string{"capacity"}}), nil
		}})
	if err != nil {
		return nil, err
	}
	return &referralv1.UpdateProviderCapacityResponse{Provider: s.respond(ctx, p)}, nil
}

// changed is the outcome of a change of a provider to next: the entry and the event. The event
// carries next's version, which Execute gives it.
func (s *Server) changed(next providers.Provider, change providers.Change) aggregate.Outcome[providers.Provider, providers.Change] {
	next.Version++
	return aggregate.Outcome[providers.Provider, providers.Change]{Next: next, Change: change,
		Events: []aggregate.Event{providers.Changed(next)}}
}

// change executes a command on a provider and wakes the relay once it committed.
func (s *Server) change(ctx context.Context, cmd aggregate.Command[providers.Provider, providers.Change]) (providers.Provider, error) {
	cmd.At = s.now()
	p, committed, err := s.Providers.Execute(ctx, cmd)
	if err != nil {
		return p, err
	}
	if committed {
		s.Relay.Notify()
		s.Log.InfoContext(ctx, "provider changed", "provider_code", p.Code, "version", p.Version)
	}
	return p, nil
}

// respond renders a provider and sends its etag as a response header.
func (s *Server) respond(ctx context.Context, p providers.Provider) *referralv1.Provider {
	aggregate.SendETag(ctx, p.Version)
	return providerProto(p)
}

func providerProto(p providers.Provider) *referralv1.Provider {
	out := &referralv1.Provider{
		Code: p.Code, Name: p.Name, Kind: referralv1.ProviderKind(referralv1.ProviderKind_value[p.Kind]),
		ServiceTypes: providers.ServiceTypes(p.ServiceTypes), Municipalities: p.Municipalities, Active: p.Active,
		Capacity: providers.CapacityProto(p.Capacity), Version: p.Version, Etag: aggregate.ETag(p.Version),
	}
	for _, pr := range p.Prefectures {
		out.Prefectures = append(out.Prefectures, caseregistryv1.Prefecture(caseregistryv1.Prefecture_value[pr]))
	}
	if p.Contact != (providers.Contact{}) {
		out.Contact = &referralv1.ProviderContact{Unit: p.Contact.Unit, Email: p.Contact.Email, Phone: p.Contact.Phone}
	}
	return out
}

// caller is the principal whose rights apply to the call.
func caller(ctx context.Context) *auth.Principal {
	p, _ := auth.FromContext(ctx)
	return p.Effective()
}
