package projection

import (
	"reflect"
	"testing"
	"time"
)

func TestBucketWith(t *testing.T) {
	first := sample("case-1", "2025-03-09")
	second := sample("case-2", "2025-03-09")
	second.OccurredAt = first.OccurredAt.Add(-time.Hour) // arrives later, happened earlier

	b1 := bucket{}.with(first)
	b2 := b1.with(second)

	if !b2.counted(first) || !b2.counted(second) || b1.counted(second) {
		t.Errorf("markers: b1 %v, b2 %v", b1.Applied, b2.Applied)
	}
	if b1.Total != 1 || b1.BySex["SEX_FEMALE"] != 1 {
		t.Errorf("b1 changed by computing b2: %+v", b1.Counts)
	}
	if b2.Total != 2 || b2.BySex["SEX_FEMALE"] != 2 {
		t.Errorf("b2 counts %+v", b2.Counts)
	}
	if !b2.LastEventAt.Equal(first.OccurredAt) {
		t.Errorf("last_event_at %v, want the newest event's time %v", b2.LastEventAt, first.OccurredAt)
	}
	// Rolling forward from the journal must give what the writer computed.
	if again := b1.with(second); !reflect.DeepEqual(again, b2) {
		t.Errorf("with is not deterministic:\n%+v\n%+v", again, b2)
	}
}
