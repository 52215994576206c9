package referrals

import (
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestTransitions(t *testing.T) {
	sent := Referral{ID: "r1", State: Pending, SenderInstitution: "ASP-ANTITRAF", ProviderCode: "KKSAT"}
	accepted := sent
	accepted.State = Accepted
	cases := []struct {
		name        string
		t           Transition
		from        Referral
		institution string
		steward     bool
		want        string
		code        codes.Code
	}{
		{"the recipient accepts", Accept, sent, "KKSAT", false, Accepted, codes.OK},
		{"the sender may not accept", Accept, sent, "ASP-ANTITRAF", false, "", codes.PermissionDenied},
		{"a steward accepts for the recipient", Accept, sent, "MB-SEKRETARIATI", true, Accepted, codes.OK},
		{"the recipient declines", Decline, sent, "KKSAT", false, Declined, codes.OK},
		{"an accepted referral is not declined", Decline, accepted, "KKSAT", false, "", codes.FailedPrecondition},
		{"the recipient completes", Complete, accepted, "KKSAT", false, Completed, codes.OK},
		{"a pending referral is not completed", Complete, sent, "KKSAT", false, "", codes.FailedPrecondition},
		{"the sender cancels a pending one", Cancel, sent, "ASP-ANTITRAF", false, Cancelled, codes.OK},
		{"the sender cancels an accepted one", Cancel, accepted, "ASP-ANTITRAF", false, Cancelled, codes.OK},
		{"the recipient may not cancel", Cancel, sent, "KKSAT", false, "", codes.PermissionDenied},
		{"a completed referral is final", Cancel, func() Referral { r := accepted; r.State = Completed; return r }(), "ASP-ANTITRAF", false, "", codes.FailedPrecondition},
		{"a cancelled referral is final", Accept, func() Referral { r := sent; r.State = Cancelled; return r }(), "KKSAT", false, "", codes.FailedPrecondition},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.t.Apply(c.from, c.institution, c.steward)
			if status.Code(err) != c.code {
				t.Fatalf("Apply: %v, want %s", err, c.code)
			}
			if err == nil && got.State != c.want {
				t.Errorf("state %s, want %s", got.State, c.want)
			}
			if err != nil && got.State != c.from.State {
				t.Errorf("a refused transition moved the state to %s", got.State)
			}
		})
	}
}
