package reporting_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	reportingv1 "github.com/nrm-albania/nrm/proto/nrm/reporting/v1"
	"github.com/nrm-albania/nrm/services/platform/auth"
	"github.com/nrm-albania/nrm/services/platform/natsbus"
	"github.com/nrm-albania/nrm/services/platform/testenv"
	"github.com/nrm-albania/nrm/services/reporting"
)

func reasonOf(err error) string {
	for _, d := range status.Convert(err).Details() {
		if ei, ok := d.(*errdetails.ErrorInfo); ok {
			return ei.GetReason()
		}
	}
	return ""
}

// The whole service, as its binary runs it: the forms seeded, the guard's permission table,
// a locked month refused until the secretariat reopens it, and both changes published.
func TestDataReportedByMembers(t *testing.T) {
	t.Parallel()
	srv := testenv.Serve(t, reporting.Defaults(), mustConfigured(t).Setup)
	steward := reportingv1.NewDataSetServiceClient(srv.Conn) // every role, the secretariat's among them
	shelters := reportingv1.NewDataSetServiceClient(srv.Dial(t, srv.Issuer.TokenFor(t,
		auth.Principal{Institution: "KKSAT", Subject: "kksat-staff", Roles: []auth.Role{auth.RoleMember}}, time.Hour)))
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()

	list, err := shelters.ListDataSets(ctx, &reportingv1.ListDataSetsRequest{})
	if err != nil || len(list.GetDataSets()) != 13 {
		t.Fatalf("data sets: %d, %v; want the 13 members' defaults", len(list.GetDataSets()), err)
	}

	// A month long past is locked whatever the day the test runs.
	const period = "2024-01"
	values := []*reportingv1.ElementValue{
		{Element: "ADMISSIONS", Value: 2, Parts: []*reportingv1.PartValue{{Part: "SEX_FEMALE", Value: 2}}},
		{Element: "RESIDENTS_MONTH_END", Value: 9},
		{Element: "EXITS", Value: 0},
	}
	submit := func(c reportingv1.DataSetServiceClient, member string) (*reportingv1.SubmitDataResponse, error) {
		return c.SubmitData(ctx, &reportingv1.SubmitDataRequest{Member: member, Period: period, Values: values})
	}
	if _, err := submit(shelters, "KKSAT"); status.Code(err) != codes.FailedPrecondition || reasonOf(err) != "PERIOD_LOCKED" {
		t.Fatalf("a locked month: %v, want PERIOD_LOCKED", err)
	}
	if _, err := submit(shelters, "MAS"); status.Code(err) != codes.PermissionDenied || reasonOf(err) != "NOT_YOUR_INSTITUTION" {
		t.Fatalf("for another member: %v, want NOT_YOUR_INSTITUTION", err)
	}
	reopen := &reportingv1.ReopenSubmissionRequest{Member: "KKSAT", Period: period, Reason: "figures corrected after an audit"}
	if _, err := shelters.ReopenSubmission(ctx, reopen); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("a member reopening its own month: %v, want PermissionDenied", err)
	}
	if _, err := steward.ReopenSubmission(ctx, reopen); err != nil {
		t.Fatal(err)
	}
	r, err := submit(shelters, "KKSAT")
	if err != nil {
		t.Fatalf("after the reopening: %v", err)
	}
	if s := r.GetSubmission(); !s.GetSubmitted() || s.GetReopened() || s.GetSubmittedBy() != "KKSAT" || s.GetTimeliness() != reportingv1.Timeliness_TIMELINESS_LATE {
		t.Errorf("submission %v, want submitted late by KKSAT, locked again", s)
	}

	var types []string
	var submitted reportingv1.DataSubmitted
	testenv.Eventually(t, within, "both changes published on NRM_REPORT", func() bool {
		types = types[:0]
		for _, e := range srv.Bus.Envelopes(t, natsbus.StreamReport) {
			switch e.GetType() {
			case "report.data_missing", "report.drafted":
				continue // last month's, announced and drafted by the watches: other tests' matter
			}
			types = append(types, e.GetType())
			if e.GetType() == "report.data_submitted" {
				if err := e.GetPayload().UnmarshalTo(&submitted); err != nil {
					t.Fatal(err)
				}
			}
		}
		return len(types) == 2
	})
	if !slices.Equal(types, []string{"report.data_reopened", "report.data_submitted"}) {
		t.Errorf("events %v, want the reopening then the submission", types)
	}
	// The figures travel with the event: counts of the shelters' work, no person.
	if submitted.GetMember() != "KKSAT" || submitted.GetPeriod() != period || len(submitted.GetValues()) != 3 {
		t.Errorf("data_submitted %v, want KKSAT's %s figures", &submitted, period)
	}
}

func TestDataSetSettings(t *testing.T) {
	tests := []struct {
		values map[string]string
		err    string
	}{
		{nil, ""},
		{map[string]string{"NRM_DATASET_DUE_DAY": "10", "NRM_DATASET_LOCK_DAY": "10"}, ""},
		{map[string]string{"NRM_DATASET_DUE_DAY": "11"}, "NRM_DATASET_DUE_DAY (11) is after NRM_DATASET_LOCK_DAY (10)"},
		{map[string]string{"NRM_DATASET_LOCK_DAY": "31"}, "NRM_DATASET_LOCK_DAY"},
		{map[string]string{"NRM_DATASET_DUE_DAY": "0"}, "NRM_DATASET_DUE_DAY"},
	}
	for _, tt := range tests {
		_, err := reporting.Configured(tt.values)
		if (tt.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("%v: %v, want an error naming %q", tt.values, err, tt.err)
		}
	}
}
