package server

import (
	"slices"
	"testing"
	"time"

	secretariatv1 "github.com/nrm-albania/nrm/proto/nrm/secretariat/v1"
	"github.com/nrm-albania/nrm/services/secretariat/internal/meetings"
)

// A meeting's event tells who was present, by institution code and sorted, so that the reporting
// service can count attendance per member; absent members are not named.
func TestChangedCarriesTheAttendance(t *testing.T) {
	present := func(inst, presence string) meetings.Attendance {
		return meetings.Attendance{Institution: inst, Presence: presence}
	}
	for _, tc := range []struct {
		name       string
		attendance []meetings.Attendance
		want       []string
	}{
		{"nobody recorded", nil, nil},
		{"representatives and substitutes, not the absent", []meetings.Attendance{
			present("SHSSH", secretariatv1.Presence_PRESENCE_SUBSTITUTE.String()),
			present("MAS", secretariatv1.Presence_PRESENCE_ABSENT.String()),
			present("ASP", secretariatv1.Presence_PRESENCE_REPRESENTATIVE.String()),
		}, []string{"ASP", "SHSSH"}},
	} {
		m := meetings.Meeting{ID: "m1", Version: 7, Kind: "MEETING_KIND_REGULAR", State: "MEETING_STATE_HELD",
			Start: time.Date(2025, 3, 12, 10, 0, 0, 0, time.UTC), Attendance: tc.attendance}
		got := changed(m, "closed", "MEETING_STATE_IN_SESSION").Payload.(*secretariatv1.MeetingChanged).GetAttendance()
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: attendance %v, want %v", tc.name, got, tc.want)
		}
	}
}
