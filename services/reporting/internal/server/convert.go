package server

import (
	"cmp"
	"slices"

	"google.golang.org/protobuf/types/known/timestamppb"

	reportingv1 "github.com/nrm-albania/nrm/proto/nrm/reporting/v1"
	"github.com/nrm-albania/nrm/services/reporting/internal/projection"
)

// toResponse renders statistics for callers, echoing the period asked for.
func toResponse(st projection.Statistics, from, to string) *reportingv1.GetCaseStatisticsResponse {
	resp := &reportingv1.GetCaseStatisticsResponse{
		Total:                    st.Total,
		ByExploitationType:       counts(st.ByExploitationType),
		BySex:                    counts(st.BySex),
		ByAgeBand:                counts(st.ByAgeBand),
		ByCitizenship:            counts(st.ByCitizenship),
		ByIdentifyingInstitution: counts(st.ByIdentifyingInstitution),
		ByStatus:                 counts(st.ByStatus),
		ByState:                  counts(st.ByState),
		ByScope:                  counts(st.ByScope),
		ByPrefecture:             counts(st.ByPrefecture),
		From:                     from,
		To:                       to,
	}
	if !st.AsOf.IsZero() {
		resp.AsOf = timestamppb.New(st.AsOf)
	}
	return resp
}

// counts lists a dimension largest first, ties by key, so that the order is stable.
func counts(m map[string]int64) []*reportingv1.Count {
	out := make([]*reportingv1.Count, 0, len(m))
	for k, n := range m {
		out = append(out, &reportingv1.Count{Key: k, Count: n})
	}
	slices.SortFunc(out, func(a, b *reportingv1.Count) int {
		return cmp.Or(cmp.Compare(b.GetCount(), a.GetCount()), cmp.Compare(a.GetKey(), b.GetKey()))
	})
	return out
}
