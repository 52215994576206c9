package projection

import (
	"reflect"
	"testing"
	"time"
)

func TestBucketWith(t *testing.T) {
	girl, boy := sample("2025-03-09"), sample("2025-03-09")
	boy.Sex = "SEX_MALE"
	first := change{CaseID: "case-1", Version: 1, Add: &girl, OccurredAt: occurred}
	second := change{CaseID: "case-2", Version: 1, Add: &girl, OccurredAt: occurred.Add(-time.Hour)} // arrives later, happened earlier
	corrected := change{CaseID: "case-2", Version: 2, Remove: &girl, Add: &boy, OccurredAt: occurred.Add(time.Hour)}

	b1 := bucket{}.with(first)
	b2 := b1.with(second)
	b3 := b2.with(corrected)

	if !b3.applied(first) || !b3.applied(second) || !b3.applied(corrected) || b1.applied(second) {
		t.Errorf("markers: b1 %v, b3 %v", b1.Applied, b3.Applied)
	}
	if b1.Total != 1 || b1.BySex["SEX_FEMALE"] != 1 {
		t.Errorf("b1 changed by computing b2: %+v", b1.Counts)
	}
	if b2.Total != 2 || b2.BySex["SEX_FEMALE"] != 2 || !b2.LastEventAt.Equal(occurred) {
		t.Errorf("b2: %+v", b2)
	}
	if want := map[string]int64{"SEX_FEMALE": 1, "SEX_MALE": 1}; b3.Total != 2 || !reflect.DeepEqual(b3.BySex, want) {
		t.Errorf("b3 after a correction: total %d, by sex %v; want 2, %v", b3.Total, b3.BySex, want)
	}
	// Rolling forward from the journal must give what the writer computed.
	if again := b1.with(second); !reflect.DeepEqual(again, b2) {
		t.Errorf("with is not deterministic:\n%+v\n%+v", again, b2)
	}
}
