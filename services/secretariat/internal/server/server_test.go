package server

import (
	"context"
	"slices"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	secretariatv1 "github.com/nrm-albania/nrm/proto/nrm/secretariat/v1"
	"github.com/nrm-albania/nrm/services/platform/apierr"
	"github.com/nrm-albania/nrm/services/platform/pagination"
	"github.com/nrm-albania/nrm/services/platform/testenv"
	"github.com/nrm-albania/nrm/services/secretariat/internal/members"
)

func seeded() bool { return true }

func newServer(t *testing.T) *Server {
	t.Helper()
	st := members.NewStore(testenv.Database(t))
	if err := st.Seed(t.Context()); err != nil {
		t.Fatalf("Seed: %v", err)
	}
	return New(st, seeded, Procedure{})
}

func sortedCodes() []string {
	var codes []string
	for _, m := range members.DefaultMembers() {
		codes = append(codes, m.Code)
	}
	slices.Sort(codes)
	return codes
}

func codesOf(ms []*secretariatv1.Member) []string {
	var codes []string
	for _, m := range ms {
		codes = append(codes, m.GetCode())
	}
	return codes
}

func TestListMembersPaging(t *testing.T) {
	s := newServer(t)
	all := sortedCodes()
	tests := []struct {
		name      string
		req       *secretariatv1.ListMembersRequest
		badField  string // the field InvalidArgument names; "" when the call must succeed
		want      []string
		wantNext  bool
		wantKinds bool
	}{
		{name: "negative size", req: &secretariatv1.ListMembersRequest{PageSize: -1}, badField: "page_size"},
		{name: "size 0 means the default", req: &secretariatv1.ListMembersRequest{}, want: all, wantKinds: true},
		{name: "size 1", req: &secretariatv1.ListMembersRequest{PageSize: 1}, want: all[:1], wantNext: true, wantKinds: true},
		{name: "size 100, the maximum", req: &secretariatv1.ListMembersRequest{PageSize: 100}, want: all, wantKinds: true},
		{name: "size 101", req: &secretariatv1.ListMembersRequest{PageSize: 101}, badField: "page_size"},
		{name: "size equal to the count", req: &secretariatv1.ListMembersRequest{PageSize: 13}, want: all, wantKinds: true},
		{name: "not a token", req: &secretariatv1.ListMembersRequest{PageToken: "not-a-token"}, badField: "page_token"},
		{name: "token past the end", req: &secretariatv1.ListMembersRequest{PageToken: pagination.Token("ZZZ")}},
		{name: "token of the last member", req: &secretariatv1.ListMembersRequest{PageToken: pagination.Token(all[12])}},
		{name: "token mid-way", req: &secretariatv1.ListMembersRequest{PageSize: 2, PageToken: pagination.Token(all[9])}, want: all[10:12], wantNext: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := s.ListMembers(t.Context(), tt.req)
			if tt.badField != "" {
				if status.Code(err) != codes.InvalidArgument || !slices.Equal(apierr.ViolatedFields(err), []string{tt.badField}) {
					t.Fatalf("err = %v (violations %v), want InvalidArgument on %s", err, apierr.ViolatedFields(err), tt.badField)
				}
				return
			}
			if err != nil {
				t.Fatalf("ListMembers: %v", err)
			}
			if got := codesOf(resp.GetMembers()); !slices.Equal(got, tt.want) {
				t.Errorf("members = %v, want %v", got, tt.want)
			}
			if hasNext := resp.GetNextPageToken() != ""; hasNext != tt.wantNext {
				t.Errorf("next_page_token = %q, want one: %v", resp.GetNextPageToken(), tt.wantNext)
			}
			if hasKinds := len(resp.GetInviteeKinds()) > 0; hasKinds != tt.wantKinds {
				t.Errorf("%d invitee kinds, want them: %v", len(resp.GetInviteeKinds()), tt.wantKinds)
			}
		})
	}
}

func TestListMembersPagesThroughAllInOrder(t *testing.T) {
	s := newServer(t)
	var got []string
	var sizes, kindsPages []int
	req := &secretariatv1.ListMembersRequest{PageSize: 5}
	for page := 0; ; page++ {
		if page > 13 {
			t.Fatal("paging does not end")
		}
		resp, err := s.ListMembers(t.Context(), req)
		if err != nil {
			t.Fatalf("page %d: %v", page, err)
		}
		got = append(got, codesOf(resp.GetMembers())...)
		sizes = append(sizes, len(resp.GetMembers()))
		if len(resp.GetInviteeKinds()) > 0 {
			kindsPages = append(kindsPages, page)
		}
		if resp.GetNextPageToken() == "" {
			break
		}
		req.PageToken = resp.GetNextPageToken()
	}
	if want := sortedCodes(); !slices.Equal(got, want) {
		t.Errorf("paging by 5 gave %v, want every member once in code order: %v", got, want)
	}
	if !slices.Equal(sizes, []int{5, 5, 3}) {
		t.Errorf("page sizes %v, want 5, 5, 3", sizes)
	}
	if !slices.Equal(kindsPages, []int{0}) {
		t.Errorf("invitee kinds on pages %v, want on the first only", kindsPages)
	}
}

func TestListMembersFirstPageCarriesTheComposition(t *testing.T) {
	resp, err := newServer(t).ListMembers(t.Context(), &secretariatv1.ListMembersRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range resp.GetMembers() {
		isChair := m.GetCode() == "MB-DPAM"
		wantRole := secretariatv1.MemberRole_MEMBER_ROLE_MEMBER
		if isChair {
			wantRole = secretariatv1.MemberRole_MEMBER_ROLE_CHAIR
		}
		if m.GetChair() != isChair || m.GetRole() != wantRole || m.GetName() == "" {
			t.Errorf("member %v: want chair=%v role=%v and a name", m, isChair, wantRole)
		}
	}
	var kinds []string
	for _, k := range resp.GetInviteeKinds() {
		kinds = append(kinds, k.GetCode())
	}
	if want := []string{"NJMF", "OJF-NJL", "PROKURORIA", "STREHEZA"}; !slices.Equal(kinds, want) {
		t.Errorf("invitee kinds %v, want %v in code order", kinds, want)
	}
}

func TestListMembersIsUnavailableUntilSeeded(t *testing.T) {
	s := New(members.NewStore(testenv.Database(t)), func() bool { return false }, Procedure{})
	_, err := s.ListMembers(t.Context(), &secretariatv1.ListMembersRequest{})
	if status.Code(err) != codes.Unavailable {
		t.Fatalf("err = %v, want Unavailable while the composition is not seeded", err)
	}
}

func TestListMembersIsUnavailableWhileTheStoreIsDown(t *testing.T) {
	// Nothing listens on port 1; a short selection timeout keeps the test quick.
	c, err := mongo.Connect(options.Client().ApplyURI("mongodb://127.0.0.1:1/").SetServerSelectionTimeout(200 * time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Disconnect(context.Background()) })
	s := New(members.NewStore(c.Database("down")), seeded, Procedure{})
	_, err = s.ListMembers(t.Context(), &secretariatv1.ListMembersRequest{})
	if status.Code(err) != codes.Unavailable {
		t.Fatalf("err = %v, want Unavailable", err)
	}
}
