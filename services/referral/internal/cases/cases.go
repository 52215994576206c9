// Package cases asks the case registry what a referral needs to know of a case, on behalf of
// the caller: the registry authorizes and audits the read as the caller's, and the referral
// service never holds more of the case than its pseudonymous facts.
package cases

import (
	"context"
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	caseregistryv1 "github.com/nrm-albania/nrm/proto/nrm/caseregistry/v1"
	"github.com/nrm-albania/nrm/services/platform/apierr"
	"github.com/nrm-albania/nrm/services/platform/peer"
)

// Case is what a referral needs to know of a case.
type Case struct {
	ID   string
	Code string
	// Child: a minor at identification, for whom the child-protection authorities decide.
	Child  bool
	Closed bool
	// ReferralConsent is the answer in force about referral: the latest one's decision
	// ("CONSENT_DECISION_GIVEN", …), "" when none was recorded.
	ReferralConsent string
	// The pseudonymous profile a recipient decides on, by proto names.
	Sex, AgeBand, Language string
	ExploitationTypes      []string
}

// Registry looks cases up: the case registry over gRPC, or a test's own.
type Registry interface {
	Case(ctx context.Context, id string) (Case, error)
}

// Client is the case registry over gRPC.
type Client struct {
	conn   *grpc.ClientConn
	client caseregistryv1.CaseRegistryServiceClient
}

// Dial returns a client of the registry at addr that authenticates as the service with the
// bearer token token returns, forwarding the caller's (package peer).
func Dial(addr string, t peer.TLS, token func(context.Context) (string, error)) (*Client, error) {
	conn, err := peer.Dial("case registry", addr, t, token)
	if err != nil {
		return nil, err
	}
	return &Client{conn: conn, client: caseregistryv1.NewCaseRegistryServiceClient(conn)}, nil
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// Case looks the case up as the caller in ctx. The registry's refusals reach the caller as they
// are (NOT_FOUND, PERMISSION_DENIED); a registry that does not answer is UNAVAILABLE.
func (c *Client) Case(ctx context.Context, id string) (Case, error) {
	resp, err := c.client.GetCase(ctx, &caseregistryv1.GetCaseRequest{Id: id})
	switch status.Code(err) {
	case codes.OK:
	case codes.NotFound, codes.PermissionDenied, codes.InvalidArgument:
		return Case{}, err
	case codes.Unavailable, codes.DeadlineExceeded, codes.Canceled:
		return Case{}, apierr.Unavailable("the case registry did not answer about case " + id + "; nothing was made, try again")
	default:
		return Case{}, fmt.Errorf("ask the case registry about case %s: %w", id, err)
	}
	cs := resp.GetCase()
	out := Case{
		ID: cs.GetId(), Code: cs.GetCode(), Child: cs.GetProfile().GetMinorAtIdentification(),
		Closed: cs.GetState() == caseregistryv1.CaseState_CASE_STATE_CLOSED,
		Sex:    cs.GetProfile().GetSex().String(), AgeBand: cs.GetProfile().GetAgeBand().String(),
		Language: cs.GetProfile().GetPrimaryLanguage(),
	}
	for _, t := range cs.GetTrafficking().GetExploitationTypes() {
		out.ExploitationTypes = append(out.ExploitationTypes, t.String())
	}
	for _, k := range cs.GetConsents() {
		if k.GetScope() == caseregistryv1.ConsentScope_CONSENT_SCOPE_REFERRAL {
			out.ReferralConsent = k.GetDecision().String()
		}
	}
	return out, nil
}
