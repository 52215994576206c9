package server

import (
	"slices"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	referralv1 "github.com/nrm-albania/nrm/proto/nrm/referral/v1"
	"github.com/nrm-albania/nrm/services/platform/apierr"
	"github.com/nrm-albania/nrm/services/platform/pagination"
	"github.com/nrm-albania/nrm/services/referral/internal/catalogue"
)

func catalogueCodes() []string {
	var codes []string
	for _, e := range catalogue.All() {
		codes = append(codes, e.Code)
	}
	return codes
}

func codesOf(ts []*referralv1.ServiceTypeInfo) []string {
	var codes []string
	for _, e := range ts {
		codes = append(codes, e.GetCode())
	}
	return codes
}

func TestListServiceTypesPaging(t *testing.T) {
	all := catalogueCodes()
	last := all[len(all)-1]
	tests := []struct {
		name     string
		req      *referralv1.ListServiceTypesRequest
		badField string // the field InvalidArgument names; "" when the call must succeed
		want     []string
		wantNext bool
	}{
		{name: "negative size", req: &referralv1.ListServiceTypesRequest{PageSize: -1}, badField: "page_size"},
		{name: "size 0 means the default", req: &referralv1.ListServiceTypesRequest{}, want: all},
		{name: "size 1", req: &referralv1.ListServiceTypesRequest{PageSize: 1}, want: []string{"SHELTER"}, wantNext: true},
		{name: "size 100, the maximum", req: &referralv1.ListServiceTypesRequest{PageSize: 100}, want: all},
		{name: "size 101", req: &referralv1.ListServiceTypesRequest{PageSize: 101}, badField: "page_size"},
		{name: "size equal to the count", req: &referralv1.ListServiceTypesRequest{PageSize: int32(len(all))}, want: all},
		{name: "not a token", req: &referralv1.ListServiceTypesRequest{PageToken: "%%%"}, badField: "page_token"},
		{name: "token of a code the catalogue lacks", req: &referralv1.ListServiceTypesRequest{PageToken: pagination.Token("TELEPORT")}, badField: "page_token"},
		{name: "token of the last entry", req: &referralv1.ListServiceTypesRequest{PageToken: pagination.Token(last)}},
		{name: "token mid-way", req: &referralv1.ListServiceTypesRequest{PageSize: 2, PageToken: pagination.Token("LEGAL")}, want: []string{"EDUCATION", "VOCATIONAL_TRAINING"}, wantNext: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := New(Deps{}).ListServiceTypes(t.Context(), tt.req)
			if tt.badField != "" {
				if status.Code(err) != codes.InvalidArgument || !slices.Equal(apierr.ViolatedFields(err), []string{tt.badField}) {
					t.Fatalf("err = %v (violations %v), want InvalidArgument on %s", err, apierr.ViolatedFields(err), tt.badField)
				}
				return
			}
			if err != nil {
				t.Fatalf("ListServiceTypes: %v", err)
			}
			if got := codesOf(resp.GetServiceTypes()); !slices.Equal(got, tt.want) {
				t.Errorf("service types = %v, want %v", got, tt.want)
			}
			if hasNext := resp.GetNextPageToken() != ""; hasNext != tt.wantNext {
				t.Errorf("next_page_token = %q, want one: %v", resp.GetNextPageToken(), tt.wantNext)
			}
		})
	}
}

func TestListServiceTypesPagesThroughAllInOrder(t *testing.T) {
	var got []string
	var sizes []int
	req := &referralv1.ListServiceTypesRequest{PageSize: 5}
	for page := 0; ; page++ {
		if page > len(catalogueCodes()) {
			t.Fatal("paging does not end")
		}
		resp, err := New(Deps{}).ListServiceTypes(t.Context(), req)
		if err != nil {
			t.Fatalf("page %d: %v", page, err)
		}
		got = append(got, codesOf(resp.GetServiceTypes())...)
		sizes = append(sizes, len(resp.GetServiceTypes()))
		if resp.GetNextPageToken() == "" {
			break
		}
		req.PageToken = resp.GetNextPageToken()
	}
	if want := catalogueCodes(); !slices.Equal(got, want) {
		t.Errorf("paging by 5 gave %v, want the catalogue once in order: %v", got, want)
	}
	if !slices.Equal(sizes, []int{5, 5, 2}) {
		t.Errorf("page sizes %v, want 5, 5, 2", sizes)
	}
}

func TestListServiceTypesCarriesTheEntries(t *testing.T) {
	resp, err := New(Deps{}).ListServiceTypes(t.Context(), &referralv1.ListServiceTypesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range resp.GetServiceTypes() {
		if e.GetType().String() != "SERVICE_TYPE_"+e.GetCode() || e.GetName() == "" || e.GetDescription() == "" {
			t.Errorf("entry %v: type, code, name and description do not agree", e)
		}
		if e.GetChildrenOnly() != (e.GetType() == referralv1.ServiceType_SERVICE_TYPE_CHILD_PROTECTION) {
			t.Errorf("entry %s: children_only = %v", e.GetCode(), e.GetChildrenOnly())
		}
	}
}
