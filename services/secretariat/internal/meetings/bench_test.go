package meetings_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nrm-albania/nrm/services/platform/testenv"
	"github.com/nrm-albania/nrm/services/platform/workdays"
	"github.com/nrm-albania/nrm/services/secretariat/internal/meetings"
)

// BenchmarkMeetingList measures the newest page of 20 meetings and one month's meetings (what
// the compliance view reads twelve times) with 100 and 1,000 meetings held, three a month from
// 2000 on: flat, each page read by _id (package lists).
//
//	go test -run '^$' -bench MeetingList -benchtime 100x ./services/secretariat/internal/meetings/
func BenchmarkMeetingList(b *testing.B) {
	ctx := context.Background()
	s := meetings.New(testenv.Database(b))
	start := time.Date(2000, 1, 10, 10, 0, 0, 0, workdays.Tirana)
	held := 0
	for _, n := range []int{100, 1000} {
		for ; held < n; held++ {
			at := start.AddDate(0, held/3, held%3*7)
			m := meetings.Meeting{ID: fmt.Sprintf("m-%05d", held), Version: 1, Kind: meetings.Regular, State: meetings.MinutesApproved,
				Start: at.UTC(), End: at.Add(2 * time.Hour).UTC(), Place: "room 3", CreatedAt: at.UTC(), UpdatedAt: at.UTC()}
			if err := s.Enlist(ctx, m, meetings.Month(at, workdays.Tirana)); err != nil {
				b.Fatal(err)
			}
			if _, err := s.Create(ctx, m, meetings.Change{Kind: "scheduled"}, nil); err != nil {
				b.Fatal(err)
			}
		}
		testenv.IndexStore(b)
		b.Run(fmt.Sprintf("newest/meetings=%d", n), func(b *testing.B) {
			for b.Loop() {
				page, _, more, err := s.Newest(ctx, 0, 20)
				if err != nil || len(page) != 20 || !more {
					b.Fatalf("%d meetings, more %v, %v", len(page), more, err)
				}
			}
		})
		b.Run(fmt.Sprintf("month/meetings=%d", n), func(b *testing.B) {
			month := meetings.Month(start.AddDate(0, n/3-1, 0), workdays.Tirana)
			for b.Loop() {
				if ms, err := s.OfMonth(ctx, month); err != nil || len(ms) != 3 {
					b.Fatalf("%s: %d meetings, %v", month, len(ms), err)
				}
			}
		})
	}
}
