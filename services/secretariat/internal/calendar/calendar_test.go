package calendar

import (
	"bytes"
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"
)

var tirana = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Tirane")
	if err != nil {
		panic(err)
	}
	return loc
}()

func meeting() Event {
	start := time.Date(2026, 12, 3, 10, 0, 0, 0, tirana)
	return Event{
		UID: "meeting-2026-12@nrm-secretariat", Sequence: 0,
		Start: start, End: start.Add(2 * time.Hour),
		Summary:     "Mbledhja e rregullt, dhjetor 2026",
		Location:    "Ministria e Brendshme, salla 3",
		URL:         "https://meet.example.al/nrm-2026-12",
		Description: "Rendi i ditës:\n1. VT-2026-00017; VT-2026-00018, statusi\n2. Raportimi mujor",
		Organizer:   "sekretaria@mb.gov.al",
		Attendees:   []string{"perfaqesuesi@asp.gov.al", "zevendesi@asp.gov.al"},
	}
}

func parse(t *testing.T, b []byte) (*ics.Calendar, *ics.VEvent) {
	t.Helper()
	cal, err := ics.ParseCalendar(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("the invitation does not parse: %v\n%s", err, b)
	}
	events := cal.Events()
	if len(events) != 1 {
		t.Fatalf("%d events, want 1", len(events))
	}
	return cal, events[0]
}

func calendarProperty(cal *ics.Calendar, p ics.Property) string {
	for _, cp := range cal.CalendarProperties {
		if cp.IANAToken == string(p) {
			return cp.Value
		}
	}
	return ""
}

func eventProperty(ev *ics.VEvent, p ics.ComponentProperty) string {
	if prop := ev.GetProperty(p); prop != nil {
		return prop.Value
	}
	return ""
}

func TestInvitationParsesBackWithItsFields(t *testing.T) {
	stamp := time.Date(2026, 11, 20, 8, 30, 0, 0, time.UTC)
	tests := []struct {
		name   string
		edit   func(*Event)
		method string
		status string
		seq    string
	}{
		{"an invitation", func(*Event) {}, "REQUEST", "CONFIRMED", "0"},
		{"a change", func(e *Event) { e.Sequence = 2 }, "REQUEST", "CONFIRMED", "2"},
		{"a cancellation", func(e *Event) { e.Sequence, e.Cancelled = 3, true }, "CANCEL", "CANCELLED", "3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := meeting()
			tt.edit(&e)
			b, err := Invitation(e, stamp)
			if err != nil {
				t.Fatal(err)
			}
			for i, line := range strings.Split(strings.TrimSuffix(string(b), "\r\n"), "\r\n") {
				if strings.ContainsAny(line, "\r\n") || len(line) > 75 {
					t.Errorf("line %d is not a folded CRLF content line: %q", i+1, line)
				}
			}
			cal, ev := parse(t, b)
			for p, want := range map[ics.Property]string{
				ics.PropertyMethod: tt.method, ics.PropertyProductId: ProductID, ics.PropertyVersion: "2.0",
			} {
				if got := calendarProperty(cal, p); got != want {
					t.Errorf("%s = %q, want %q", p, got, want)
				}
			}
			if ev.Id() != e.UID {
				t.Errorf("UID = %q, want %q", ev.Id(), e.UID)
			}
			for p, want := range map[ics.ComponentProperty]string{
				ics.ComponentPropertySequence:  tt.seq,
				ics.ComponentPropertyStatus:    tt.status,
				ics.ComponentPropertyDtStart:   "20261203T090000Z", // 10:00 in Tirana, winter time
				ics.ComponentPropertyDtEnd:     "20261203T110000Z",
				ics.ComponentPropertyDtstamp:   "20261120T083000Z",
				ics.ComponentPropertyOrganizer: "mailto:sekretaria@mb.gov.al",
				ics.ComponentPropertyUrl:       e.URL,
			} {
				if got := eventProperty(ev, p); got != want {
					t.Errorf("%s = %q, want %q", p, got, want)
				}
			}
			if start, err := ev.GetStartAt(); err != nil || !start.Equal(e.Start) {
				t.Errorf("start %v (%v), want %v", start, err, e.Start)
			}
			attendees := ev.Attendees()
			if len(attendees) != len(e.Attendees) {
				t.Fatalf("%d attendees, want %d", len(attendees), len(e.Attendees))
			}
			for i, a := range attendees {
				if a.Email() != e.Attendees[i] || a.ICalParameters["RSVP"][0] != "TRUE" {
					t.Errorf("attendee %d = %s %v, want %s with RSVP=TRUE", i, a.Email(), a.ICalParameters, e.Attendees[i])
				}
			}
		})
	}
}

func TestTextRoundTrips(t *testing.T) {
	texts := map[string]string{
		"commas and semicolons": "Pika 1, pika 2; pika 3: fund",
		"newlines":              "rreshti 1\nrreshti 2\r\nrreshti 3",
		"Albanian letters":      "Përfaqësuesi i Drejtorisë së Përgjithshme; çështja ë Ç Ë",
		"a backslash":           `C:\dokumente\rendi`,
		"a long line":           strings.Repeat("ëç, ", 60),
	}
	for name, s := range texts {
		t.Run(name, func(t *testing.T) {
			e := meeting()
			e.Summary, e.Location, e.Description = s, s, s
			b, err := Invitation(e, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			_, ev := parse(t, b)
			want := strings.ReplaceAll(s, "\r\n", "\n")
			for _, p := range []ics.ComponentProperty{ics.ComponentPropertySummary, ics.ComponentPropertyLocation, ics.ComponentPropertyDescription} {
				if got := ics.FromText(eventProperty(ev, p)); got != want {
					t.Errorf("%s = %q, want %q", p, got, want)
				}
			}
		})
	}
}

func TestInvalidEventsAreRefused(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Event)
		want string
	}{
		{"no UID", func(e *Event) { e.UID = " " }, "no UID"},
		{"ends before it starts", func(e *Event) { e.End = e.Start.Add(-time.Hour) }, "ends"},
		{"ends as it starts", func(e *Event) { e.End = e.Start }, "ends"},
		{"no start", func(e *Event) { e.Start = time.Time{} }, "start and an end"},
		{"no organizer", func(e *Event) { e.Organizer = "" }, "organizer"},
		{"an organizer with a name", func(e *Event) { e.Organizer = "Sekretaria <sekretaria@mb.gov.al>" }, "organizer"},
		{"a bad attendee", func(e *Event) { e.Attendees = append(e.Attendees, "nobody") }, "attendee 3"},
		{"a negative sequence", func(e *Event) { e.Sequence = -1 }, "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := meeting()
			tt.edit(&e)
			b, err := Invitation(e, time.Now())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one saying %q", err, tt.want)
			}
			if b != nil {
				t.Errorf("an invitation came with the error")
			}
		})
	}
}
