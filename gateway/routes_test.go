package gateway_test

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	caseregistryv1 "github.com/nrm-albania/nrm/proto/nrm/caseregistry/v1"
	referralv1 "github.com/nrm-albania/nrm/proto/nrm/referral/v1"
	reportingv1 "github.com/nrm-albania/nrm/proto/nrm/reporting/v1"
	secretariatv1 "github.com/nrm-albania/nrm/proto/nrm/secretariat/v1"
)

// lookup follows a dotted path ("case.profile.citizenships.0") through decoded JSON.
func lookup(v any, path string) (any, bool) {
	for key := range strings.SplitSeq(path, ".") {
		switch node := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = node[key]; !ok {
				return nil, false
			}
		case []any:
			i, err := strconv.Atoi(key)
			if err != nil || i < 0 || i >= len(node) {
				return nil, false
			}
			v = node[i]
		default:
			return nil, false
		}
	}
	return v, true
}

var snakeCaseKey = regexp.MustCompile(`"[a-z]+_[a-z_]+"\s*:`)

func TestRoutesReachTheirBackend(t *testing.T) {
	e := start(t, nil)
	tests := []struct {
		name, method, path, body string
		backend                  *backend
		rpc                      string
		wantReq                  proto.Message
		// want maps JSON paths of the response to their values; absent lists paths of fields
		// the backend left unset, which the response must omit, and empty those of lists the
		// backend left empty, which the response must write as [].
		want   map[string]any
		absent []string
		empty  []string
	}{
		{
			name: "register a case", method: http.MethodPost, path: "/v1/cases", body: registerBody,
			backend: e.cases, rpc: "RegisterCase",
			wantReq: &caseregistryv1.RegisterCaseRequest{
				Profile: &caseregistryv1.Profile{
					Sex:                 caseregistryv1.Sex_SEX_FEMALE,
					AgeAtIdentification: new(int32(17)),
					Citizenships:        []string{"AL"},
				},
				Trafficking: &caseregistryv1.Trafficking{
					ExploitationTypes: []caseregistryv1.ExploitationType{caseregistryv1.ExploitationType_EXPLOITATION_TYPE_SEXUAL},
				},
				Identification: &caseregistryv1.Identification{
					IdentifyingInstitution: "ASP-ANTITRAF",
					IdentificationDate:     "2026-10-02",
				},
			},
			want: map[string]any{
				"case.id":                                "c-0001",
				"case.version":                           "1", // int64 is a string in protojson
				"case.profile.sex":                       "SEX_FEMALE",
				"case.profile.ageAtIdentification":       17.0,
				"case.profile.citizenships.0":            "AL",
				"case.profile.minorAtIdentification":     true,
				"case.trafficking.exploitationTypes.0":   "EXPLOITATION_TYPE_SEXUAL",
				"case.identification.identificationDate": "2026-10-02",
				"case.registeredAt":                      "2026-10-03T09:30:00Z",
			},
			absent: []string{"case.updatedAt"},
		},
		{
			name: "get a case", method: http.MethodGet, path: "/v1/cases/c-0001",
			backend: e.cases, rpc: "GetCase",
			wantReq: &caseregistryv1.GetCaseRequest{Id: "c-0001"},
			want:    map[string]any{"case.id": "c-0001", "case.state": "CASE_STATE_OPEN", "case.ownerInstitution": "ASP-ANTITRAF"},
		},
		{
			name: "list members", method: http.MethodGet, path: "/v1/members?pageSize=10&pageToken=p1",
			backend: e.members, rpc: "ListMembers",
			wantReq: &secretariatv1.ListMembersRequest{PageSize: 10, PageToken: "p1"},
			want: map[string]any{
				"members.0.code": "MB-DAMP", "members.0.role": "MEMBER_ROLE_CHAIR", "members.0.chair": true,
				"nextPageToken": "p2",
			},
			absent: []string{"members.1.chair"},
			empty:  []string{"inviteeKinds"},
		},
		{
			name: "list service types", method: http.MethodGet, path: "/v1/service-types",
			backend: e.referral, rpc: "ListServiceTypes",
			wantReq: &referralv1.ListServiceTypesRequest{},
			want: map[string]any{
				"serviceTypes.0.type": "SERVICE_TYPE_SHELTER", "serviceTypes.1.childrenOnly": true,
			},
			absent: []string{"serviceTypes.0.childrenOnly", "nextPageToken"},
		},
		{
			name: "case statistics for a period", method: http.MethodGet, path: "/v1/statistics/cases?from=2026-01-01&to=2026-12-31",
			backend: e.stats, rpc: "GetCaseStatistics",
			wantReq: &reportingv1.GetCaseStatisticsRequest{From: "2026-01-01", To: "2026-12-31"},
			want: map[string]any{
				"total": "3", "bySex.0.key": "SEX_FEMALE", "bySex.0.count": "3", "from": "2026-01-01",
			},
			absent: []string{"asOf"},
			empty:  []string{"byExploitationType", "byAgeBand"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(tt.backend.recorded())
			r := e.do(t, tt.method, e.api+tt.path, tt.body)
			if r.status != http.StatusOK {
				t.Fatalf("status %d, want 200; body %s", r.status, r.body)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q, want application/json", ct)
			}
			calls := tt.backend.recorded()
			if len(calls) != before+1 {
				t.Fatalf("backend called %d times, want once", len(calls)-before)
			}
			got := calls[len(calls)-1]
			if got.method != tt.rpc {
				t.Errorf("backend method %s, want %s", got.method, tt.rpc)
			}
			if !proto.Equal(got.req, tt.wantReq) {
				t.Errorf("backend request\n got %v\nwant %v", got.req, tt.wantReq)
			}
			body := decode(t, r.body)
			for path, want := range tt.want {
				if v, ok := lookup(body, path); !ok || fmt.Sprint(v) != fmt.Sprint(want) {
					t.Errorf("%s = %v (present %t), want %v; body %s", path, v, ok, want, r.body)
				}
			}
			for _, path := range tt.absent {
				if v, ok := lookup(body, path); ok {
					t.Errorf("%s = %v, want it left out; body %s", path, v, r.body)
				}
			}
			for _, path := range tt.empty {
				if v, ok := lookup(body, path); !ok || fmt.Sprint(v) != "[]" {
					t.Errorf("%s = %v (present %t), want []; body %s", path, v, ok, r.body)
				}
			}
			if m := snakeCaseKey.Find(r.body); m != nil {
				t.Errorf("response uses a proto field name %s instead of its JSON name", m)
			}
		})
	}
}
