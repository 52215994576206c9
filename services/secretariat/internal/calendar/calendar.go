// Package calendar writes the iCalendar (RFC 5545) invitations that go with the secretariat's
// meeting notices, so that a member's mail client offers to put the meeting in their calendar
// and to answer it.
package calendar

import (
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	ics "github.com/arran4/golang-ical"
)

// ProductID names the software that wrote an invitation (PRODID).
const ProductID = "-//NRM Albania//Secretariat//EN"

// Event is one meeting as an invitation describes it.
type Event struct {
	// UID identifies the meeting for good: every later invitation, change or cancellation of
	// the meeting carries the same UID, which is how a calendar updates the entry it has.
	UID string
	// Sequence counts the revisions of the meeting sent so far (0 for the first invitation); a
	// calendar applies a message only if its sequence is not older than what it holds.
	Sequence int
	// Start and End bound the meeting; their zone does not matter (see Invitation).
	Start, End time.Time
	// Summary is the title, Location the place, URL the online link, Description the free text
	// (the agenda, say). They name case codes, never a person.
	Summary, Location, URL, Description string
	// Organizer is the secretariat's e-mail address, where the answers go.
	Organizer string
	// Attendees are the invitees' e-mail addresses.
	Attendees []string
	// Cancelled makes the invitation a cancellation of the meeting.
	Cancelled bool
}

// Invitation returns e as a calendar object with one event: METHOD:REQUEST, or METHOD:CANCEL
// with STATUS:CANCELLED when e is cancelled. stamp is the DTSTAMP, when the object was made.
//
// Times are written in UTC (DTSTART:20261205T090000Z) rather than with TZID=Europe/Tirane. An
// RFC 5545 TZID must come with a VTIMEZONE that spells out the zone's rules; the library does not
// generate one, and one written here would duplicate the time zone database and go wrong the day
// Albania changes its rules. A UTC time is the same instant for every client, which shows it in
// the reader's own zone: in Tirana, Tirana's time.
func Invitation(e Event, stamp time.Time) ([]byte, error) {
	if err := e.validate(); err != nil {
		return nil, err
	}
	cal := ics.NewCalendarFor("NRM Albania")
	cal.SetProductId(ProductID)
	method, status := ics.MethodRequest, ics.ObjectStatusConfirmed
	if e.Cancelled {
		method, status = ics.MethodCancel, ics.ObjectStatusCancelled
	}
	cal.SetMethod(method)

	ev := cal.AddEvent(e.UID)
	ev.SetDtStampTime(stamp)
	ev.SetSequence(e.Sequence)
	ev.SetStartAt(e.Start)
	ev.SetEndAt(e.End)
	ev.SetStatus(status)
	ev.SetSummary(text(e.Summary))
	if e.Location != "" {
		ev.SetLocation(text(e.Location))
	}
	if e.URL != "" {
		ev.SetURL(e.URL)
	}
	if e.Description != "" {
		ev.SetDescription(text(e.Description))
	}
	ev.SetOrganizer("mailto:" + e.Organizer)
	for _, a := range e.Attendees {
		ev.AddAttendee("mailto:"+a,
			ics.ParticipationRoleReqParticipant,
			ics.ParticipationStatusNeedsAction,
			&ics.KeyValues{Key: string(ics.ParameterRsvp), Value: []string{"TRUE"}})
	}
	// RFC 5545 lines end in CRLF; the library's default is the platform's newline.
	return []byte(cal.Serialize(ics.WithNewLineWindows)), nil
}

func (e Event) validate() error {
	var errs []error
	if strings.TrimSpace(e.UID) == "" {
		errs = append(errs, errors.New("the event has no UID"))
	}
	if e.Start.IsZero() || e.End.IsZero() {
		errs = append(errs, errors.New("the event needs a start and an end"))
	} else if !e.Start.Before(e.End) {
		errs = append(errs, fmt.Errorf("the event ends (%s) before it starts (%s)", e.End.Format(time.RFC3339), e.Start.Format(time.RFC3339)))
	}
	if e.Sequence < 0 {
		errs = append(errs, fmt.Errorf("sequence %d is negative", e.Sequence))
	}
	if err := checkAddress(e.Organizer); err != nil {
		errs = append(errs, fmt.Errorf("organizer: %w", err))
	}
	for i, a := range e.Attendees {
		if err := checkAddress(a); err != nil {
			errs = append(errs, fmt.Errorf("attendee %d: %w", i+1, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("invitation %q: %w", e.UID, err)
	}
	return nil
}

// checkAddress accepts a bare e-mail address, the form a mailto: URI takes.
func checkAddress(s string) error {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s {
		return fmt.Errorf("%q is not an e-mail address such as sekretaria@mb.gov.al", s)
	}
	return nil
}

// text normalises line breaks to the "\n" the library escapes: a CR left in would end the line.
func text(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
}
