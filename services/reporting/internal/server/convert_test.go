package server

import (
	"strconv"
	"testing"
	"time"

	reportingv1 "github.com/nrm-albania/nrm/proto/nrm/reporting/v1"
	"github.com/nrm-albania/nrm/services/reporting/internal/projection"
)

func TestCountsOrder(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   map[string]int64
		want []string // "key=count" in order
	}{
		{"empty", nil, nil},
		{"largest first", map[string]int64{"AL": 1, "XK": 3, "GR": 2}, []string{"XK=3", "GR=2", "AL=1"}},
		{"ties by key", map[string]int64{"SHSSH": 2, "ASP-KUFIRI": 2, "ASP-ANTITRAF": 2, "KKSAT": 5}, []string{"KKSAT=5", "ASP-ANTITRAF=2", "ASP-KUFIRI=2", "SHSSH=2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := counts(tc.in)
			if len(got) != len(tc.want) {
				t.Fatalf("got %d counts, want %d", len(got), len(tc.want))
			}
			for i, c := range got {
				if s := c.GetKey() + "=" + strconv.FormatInt(c.GetCount(), 10); s != tc.want[i] {
					t.Errorf("[%d] = %s, want %s", i, s, tc.want[i])
				}
			}
		})
	}
}

func TestToResponse(t *testing.T) {
	empty := toResponse(projection.Statistics{}, "2025-01-01", "")
	if empty.GetAsOf() != nil || empty.GetTotal() != 0 || empty.GetFrom() != "2025-01-01" || empty.GetTo() != "" {
		t.Errorf("empty statistics rendered as %v", empty)
	}
	at := time.Date(2025, 3, 10, 9, 30, 0, 0, time.UTC)
	one := map[string]int64{"X": 2}
	st := projection.Statistics{Counts: projection.Counts{Total: 2, BySex: map[string]int64{"SEX_FEMALE": 2},
		ByStatus: one, ByState: one, ByScope: one, ByPrefecture: one}, AsOf: at}
	r := toResponse(st, "", "2025-12-31")
	if r.GetTotal() != 2 || len(r.GetBySex()) != 1 || !r.GetAsOf().AsTime().Equal(at) || r.GetTo() != "2025-12-31" {
		t.Errorf("rendered as %v", r)
	}
	for name, got := range map[string][]*reportingv1.Count{"by_status": r.GetByStatus(), "by_state": r.GetByState(), "by_scope": r.GetByScope(), "by_prefecture": r.GetByPrefecture()} {
		if len(got) != 1 || got[0].GetKey() != "X" || got[0].GetCount() != 2 {
			t.Errorf("%s rendered as %v", name, got)
		}
	}
}
