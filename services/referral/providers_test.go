package referral_test

import (
	"slices"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	caseregistryv1 "github.com/nrm-albania/nrm/proto/nrm/caseregistry/v1"
	eventsv1 "github.com/nrm-albania/nrm/proto/nrm/events/v1"
	referralv1 "github.com/nrm-albania/nrm/proto/nrm/referral/v1"
	"github.com/nrm-albania/nrm/services/platform/auth"
	"github.com/nrm-albania/nrm/services/platform/testenv"
)

// as is a client of the service for a caller of institution with roles.
func as(t *testing.T, s *testenv.Served, institution string, roles ...auth.Role) referralv1.ReferralServiceClient {
	t.Helper()
	return referralv1.NewReferralServiceClient(s.Dial(t, s.Issuer.Token(t, institution, roles...)))
}

func providerCodes(ps []*referralv1.Provider) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.GetCode())
	}
	return out
}

func vatra() *referralv1.Provider {
	return &referralv1.Provider{
		Code: "QENDRA-VATRA", Name: "Vatra Centre", Kind: referralv1.ProviderKind_PROVIDER_KIND_SHELTER,
		ServiceTypes: []referralv1.ServiceType{referralv1.ServiceType_SERVICE_TYPE_SHELTER},
		Prefectures:  []caseregistryv1.Prefecture{caseregistryv1.Prefecture_PREFECTURE_VLORE},
		Contact:      &referralv1.ProviderContact{Email: "office@vatra.example"},
	}
}

// reason is an error's ErrorInfo reason and metadata.
func reason(err error) (string, map[string]string) {
	for _, d := range status.Convert(err).Details() {
		if i, ok := d.(*errdetails.ErrorInfo); ok {
			return i.GetReason(), i.GetMetadata()
		}
	}
	return "", nil
}

func TestTheDirectoryStartsWithTheMembersThatProvideAndFilters(t *testing.T) {
	s := served(t)
	client := as(t, s, "ASP-ANTITRAF", auth.RoleCaseworker)
	ctx := t.Context()

	shelters, err := client.ListProviders(ctx, &referralv1.ListProvidersRequest{ServiceType: referralv1.ServiceType_SERVICE_TYPE_SHELTER})
	if err != nil {
		t.Fatal(err)
	}
	if got := providerCodes(shelters.GetProviders()); !slices.Equal(got, []string{"KKSAT", "SHSSH"}) {
		t.Errorf("shelters %v, want KKSAT and SHSSH", got)
	}
	var all []string
	req := &referralv1.ListProvidersRequest{PageSize: 3}
	for {
		page, err := client.ListProviders(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, providerCodes(page.GetProviders())...)
		if page.GetNextPageToken() == "" {
			break
		}
		req.PageToken = page.GetNextPageToken()
	}
	if want := []string{"AKPA", "ASHDMF", "KKSAT", "MAS", "MEPJ-KONSULLORE", "MSHMS", "SHSSH"}; !slices.Equal(all, want) {
		t.Errorf("pages %v, want %v", all, want)
	}
	var header metadata.MD
	got, err := client.GetProvider(ctx, &referralv1.GetProviderRequest{Code: "KKSAT"}, grpc.Header(&header))
	if err != nil || got.GetProvider().GetVersion() != 1 || !got.GetProvider().GetActive() || header.Get("etag")[0] != `"1"` {
		t.Fatalf("GetProvider: %v, %v, etag %v", got, err, header.Get("etag"))
	}
	for _, bad := range []*referralv1.ListProvidersRequest{
		{ServiceType: 99}, {Prefecture: 99}, {MinFreePlaces: -1}, {PageSize: 101}, {PageToken: "not a token"},
	} {
		if _, err := client.ListProviders(ctx, bad); status.Code(err) != codes.InvalidArgument {
			t.Errorf("ListProviders(%v): %v, want InvalidArgument", bad, err)
		}
	}
	for code, want := range map[string]codes.Code{"NOBODY": codes.NotFound, "not a code": codes.InvalidArgument} {
		if _, err := client.GetProvider(ctx, &referralv1.GetProviderRequest{Code: code}); status.Code(err) != want {
			t.Errorf("GetProvider(%q): %v, want %s", code, err, want)
		}
	}
	// Events name institutions only: one per seeded provider.
	eventsWhen(t, s, "7 provider_changed events after seeding", func(envs []*eventsv1.Envelope) bool { return len(envs) == 7 })
}

func TestTheStewardsKeepTheDirectory(t *testing.T) {
	s := served(t)
	stewards := referralv1.NewReferralServiceClient(s.Conn)
	police := as(t, s, "ASP-ANTITRAF", auth.RoleCaseworker)
	ctx := t.Context()

	if _, err := police.RegisterProvider(ctx, &referralv1.RegisterProviderRequest{Provider: vatra()}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("a caseworker registered a provider: %v", err)
	}
	invalid := vatra()
	invalid.Contact = nil
	if _, err := stewards.RegisterProvider(ctx, &referralv1.RegisterProviderRequest{Provider: invalid}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("without a contact: %v", err)
	}
	if _, err := stewards.GetProvider(ctx, &referralv1.GetProviderRequest{Code: "QENDRA-VATRA"}); status.Code(err) != codes.NotFound {
		t.Fatalf("a refused registration wrote something: %v", err)
	}
	withPlaces := vatra()
	withPlaces.Capacity = &referralv1.ProviderCapacity{PlacesTotal: 5}
	if _, err := stewards.RegisterProvider(ctx, &referralv1.RegisterProviderRequest{Provider: withPlaces}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("capacity set at registration: %v", err)
	}
	reg, err := stewards.RegisterProvider(ctx, &referralv1.RegisterProviderRequest{Provider: vatra()})
	if err != nil || !reg.GetProvider().GetActive() || reg.GetProvider().GetVersion() != 1 {
		t.Fatalf("RegisterProvider: %v, %v", reg, err)
	}
	if again, err := stewards.RegisterProvider(ctx, &referralv1.RegisterProviderRequest{Provider: vatra()}); err != nil || again.GetProvider().GetVersion() != 1 {
		t.Fatalf("a retried registration: %v, %v", again, err)
	}
	other := vatra()
	other.Name = "Another centre"
	if _, err := stewards.RegisterProvider(ctx, &referralv1.RegisterProviderRequest{Provider: other}); status.Code(err) != codes.AlreadyExists {
		t.Fatalf("a second registration of the code: %v", err)
	}

	inVlore := &referralv1.ListProvidersRequest{ServiceType: referralv1.ServiceType_SERVICE_TYPE_SHELTER, Prefecture: caseregistryv1.Prefecture_PREFECTURE_VLORE}
	if list, _ := police.ListProviders(ctx, inVlore); !slices.Equal(providerCodes(list.GetProviders()), []string{"KKSAT", "QENDRA-VATRA", "SHSSH"}) {
		t.Errorf("shelters serving Vlorë: %v", providerCodes(list.GetProviders()))
	}
	inTirane := &referralv1.ListProvidersRequest{ServiceType: referralv1.ServiceType_SERVICE_TYPE_SHELTER, Prefecture: caseregistryv1.Prefecture_PREFECTURE_TIRANE}
	if list, _ := police.ListProviders(ctx, inTirane); slices.Contains(providerCodes(list.GetProviders()), "QENDRA-VATRA") {
		t.Error("a shelter serving Vlorë only is listed for Tirana")
	}

	deactivate := &referralv1.UpdateProviderRequest{Code: "QENDRA-VATRA", Provider: &referralv1.Provider{Active: false},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"active"}}, ExpectedVersion: 1}
	if _, err := police.UpdateProvider(ctx, deactivate); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("a caseworker changed a provider: %v", err)
	}
	if up, err := stewards.UpdateProvider(ctx, deactivate); err != nil || up.GetProvider().GetActive() || up.GetProvider().GetVersion() != 2 {
		t.Fatalf("deactivation: %v, %v", up, err)
	}
	if _, err := stewards.UpdateProvider(ctx, deactivate); status.Code(err) != codes.Aborted {
		t.Fatalf("a change based on a past version: %v", err)
	} else if r, md := reason(err); r != "VERSION_CONFLICT" || md["current_version"] != "2" || md["provider_id"] != "QENDRA-VATRA" {
		t.Errorf("conflict %s %v", r, md)
	}
	if list, _ := police.ListProviders(ctx, inVlore); slices.Contains(providerCodes(list.GetProviders()), "QENDRA-VATRA") {
		t.Error("an inactive provider is listed")
	}
	inVlore.IncludeInactive = true
	if list, _ := police.ListProviders(ctx, inVlore); !slices.Contains(providerCodes(list.GetProviders()), "QENDRA-VATRA") {
		t.Error("include_inactive does not list the inactive provider")
	}
	for name, bad := range map[string]*referralv1.UpdateProviderRequest{
		"no mask":           {Code: "QENDRA-VATRA", Provider: &referralv1.Provider{}},
		"the code":          {Code: "QENDRA-VATRA", Provider: &referralv1.Provider{Code: "OTHER"}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"name"}}},
		"an unknown field":  {Code: "QENDRA-VATRA", Provider: &referralv1.Provider{}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"capacity"}}},
		"an invalid change": {Code: "QENDRA-VATRA", Provider: &referralv1.Provider{}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"service_types"}}},
	} {
		if _, err := stewards.UpdateProvider(ctx, bad); status.Code(err) != codes.InvalidArgument {
			t.Errorf("%s: %v, want InvalidArgument", name, err)
		}
	}
	if got, _ := stewards.GetProvider(ctx, &referralv1.GetProviderRequest{Code: "QENDRA-VATRA"}); got.GetProvider().GetVersion() != 2 {
		t.Errorf("refused changes moved the version to %d", got.GetProvider().GetVersion())
	}
}

func TestAShelterRecordsItsOwnPlaces(t *testing.T) {
	s := served(t)
	kksat := as(t, s, "KKSAT", auth.RoleCaseworker, auth.RoleMember)
	police := as(t, s, "ASP-ANTITRAF", auth.RoleCaseworker)
	stewards := referralv1.NewReferralServiceClient(s.Conn)
	ctx := t.Context()

	places := &referralv1.UpdateProviderCapacityRequest{Code: "KKSAT", PlacesTotal: 40, PlacesFree: 3}
	got, err := kksat.UpdateProviderCapacity(ctx, places)
	if err != nil || got.GetProvider().GetCapacity().GetPlacesFree() != 3 || got.GetProvider().GetCapacity().GetUpdatedAt().AsTime().Before(time.Now().Add(-time.Minute)) {
		t.Fatalf("UpdateProviderCapacity: %v, %v", got, err)
	}
	_, err = police.UpdateProviderCapacity(ctx, places)
	if r, _ := reason(err); status.Code(err) != codes.PermissionDenied || r != "NOT_THE_PROVIDER" {
		t.Fatalf("the police recorded a shelter's places: %v", err)
	}
	if _, err := stewards.UpdateProviderCapacity(ctx, &referralv1.UpdateProviderCapacityRequest{Code: "AKPA", PlacesTotal: 1}); status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("places of a provider without shelter: %v", err)
	}
	if _, err := kksat.UpdateProviderCapacity(ctx, &referralv1.UpdateProviderCapacityRequest{Code: "KKSAT", PlacesTotal: 2, PlacesFree: 3}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("more free places than places: %v", err)
	}
	for minFree, want := range map[int32]bool{3: true, 4: false} {
		list, err := police.ListProviders(ctx, &referralv1.ListProvidersRequest{MinFreePlaces: minFree})
		if err != nil || slices.Contains(providerCodes(list.GetProviders()), "KKSAT") != want {
			t.Errorf("min_free_places %d: %v, %v", minFree, providerCodes(list.GetProviders()), err)
		}
	}
	envs := eventsWhen(t, s, "the capacity's event", func(envs []*eventsv1.Envelope) bool { return len(envs) == 8 }) // 7 seeded
	last := envs[len(envs)-1]
	var changed referralv1.ProviderChanged
	if err := last.GetPayload().UnmarshalTo(&changed); err != nil || last.GetType() != "referral.provider_changed" ||
		changed.GetCode() != "KKSAT" || changed.GetVersion() != 2 || changed.GetCapacity().GetPlacesFree() != 3 {
		t.Errorf("last event %s %v, %v", last.GetType(), &changed, err)
	}
}
