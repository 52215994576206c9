package secretariat_test

import (
	"slices"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	secretariatv1 "github.com/nrm-albania/nrm/proto/nrm/secretariat/v1"
	"github.com/nrm-albania/nrm/services/platform/testenv"
	"github.com/nrm-albania/nrm/services/secretariat"
)

// serve runs the whole service against the given store.
func serve(t *testing.T, mongoURI, database string) secretariatv1.SecretariatServiceClient {
	cfg := secretariat.Defaults()
	cfg.MongoURI, cfg.MongoDatabase = mongoURI, database
	svc, err := secretariat.Configured(nil)
	if err != nil {
		t.Fatal(err)
	}
	return secretariatv1.NewSecretariatServiceClient(testenv.Serve(t, cfg, svc.Setup).Conn)
}

func TestListMembersOverGRPC(t *testing.T) {
	db := testenv.Database(t)
	client := serve(t, testenv.MongoURI(t), db.Name())

	resp, err := client.ListMembers(t.Context(), &secretariatv1.ListMembersRequest{})
	if err != nil {
		t.Fatalf("ListMembers: %v", err)
	}
	if n := len(resp.GetMembers()); n != 13 {
		t.Errorf("%d members, want 13", n)
	}
	var chairs []string
	for _, m := range resp.GetMembers() {
		if m.GetChair() {
			chairs = append(chairs, m.GetCode())
		}
	}
	if !slices.Equal(chairs, []string{"MB-DPAM"}) {
		t.Errorf("chairs %v, want MB-DPAM", chairs)
	}
	if len(resp.GetInviteeKinds()) == 0 {
		t.Error("no invitee kinds on the first page")
	}

	_, err = client.ListMembers(t.Context(), &secretariatv1.ListMembersRequest{PageSize: 101})
	if status.Code(err) != codes.InvalidArgument {
		t.Fatalf("page_size 101: err = %v, want InvalidArgument", err)
	}
	if !hasFieldViolation(err, "page_size") {
		t.Errorf("page_size 101: details %v lack a google.rpc.BadRequest violation on page_size", status.Convert(err).Details())
	}
}

func TestStartsAndAnswersUnavailableWhileTheStoreIsDown(t *testing.T) {
	// Nothing listens on port 1: the database is down for the whole test.
	client := serve(t, "mongodb://127.0.0.1:1/", testenv.Name("t_"))
	_, err := client.ListMembers(t.Context(), &secretariatv1.ListMembersRequest{})
	if status.Code(err) != codes.Unavailable {
		t.Fatalf("err = %v, want Unavailable", err)
	}
}

func hasFieldViolation(err error, field string) bool {
	for _, d := range status.Convert(err).Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.GetFieldViolations() {
				if v.GetField() == field {
					return true
				}
			}
		}
	}
	return false
}
