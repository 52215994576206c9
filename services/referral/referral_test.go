package referral_test

import (
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	referralv1 "github.com/nrm-albania/nrm/proto/nrm/referral/v1"
	"github.com/nrm-albania/nrm/services/platform/config"
	"github.com/nrm-albania/nrm/services/referral"
)

func serve(t *testing.T) referralv1.ReferralServiceClient {
	return referralv1.NewReferralServiceClient(served(t).Conn)
}

func TestListServiceTypesOverGRPC(t *testing.T) {
	client := serve(t)

	resp, err := client.ListServiceTypes(t.Context(), &referralv1.ListServiceTypesRequest{})
	if err != nil {
		t.Fatalf("ListServiceTypes: %v", err)
	}
	if n, want := len(resp.GetServiceTypes()), len(referralv1.ServiceType_name)-1; n != want {
		t.Errorf("%d service types, want %d", n, want)
	}
	if first := resp.GetServiceTypes()[0]; first.GetCode() != "SHELTER" || first.GetType() != referralv1.ServiceType_SERVICE_TYPE_SHELTER {
		t.Errorf("first entry %v, want SHELTER", first)
	}

	_, err = client.ListServiceTypes(t.Context(), &referralv1.ListServiceTypesRequest{PageSize: -1})
	if status.Code(err) != codes.InvalidArgument {
		t.Fatalf("page_size -1: err = %v, want InvalidArgument", err)
	}
	if !hasFieldViolation(err, "page_size") {
		t.Errorf("page_size -1: details %v lack a google.rpc.BadRequest violation on page_size", status.Convert(err).Details())
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

// A setting the service cannot use stops it at start, naming the setting.
func TestBadDeadlineSettingsAreNamed(t *testing.T) {
	for env, value := range map[string]string{
		"NRM_REFERRAL_DEADLINES":      "SERVICE_TYPE_MEDICAL:soon=1h",
		"NRM_PUBLIC_HOLIDAYS":         "28 November",
		"NRM_REFERRAL_STANDARD_DAYS":  "0",
		"NRM_REFERRAL_EXPIRY_GRACE":   "-1h",
		"NRM_REFERRAL_SWEEP_INTERVAL": "0s",
	} {
		var s referral.Service
		err := config.Apply("referral", map[string]string{env: value}, s.Bind)
		if err == nil || !strings.Contains(err.Error(), strings.ToLower(strings.TrimPrefix(strings.ReplaceAll(env, "_", "-"), "NRM-"))) && !strings.Contains(err.Error(), env) {
			t.Errorf("%s=%s: %v", env, value, err)
		}
	}
}
