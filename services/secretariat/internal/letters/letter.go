// Package letters keeps the secretariat's correspondence register: the letters the Authority
// receives and sends, numbered MB-SEK-YYYY-NNNN, and their attachments. A letter is an aggregate
// of the platform's store (services/platform/aggregate) whose id is its protocol number, so that
// claiming a number and registering the letter are one insert: a number exists only if its letter
// does, and the register has no gaps. The attachments' content lives apart, one document each,
// so that reading and listing letters never loads it.
package letters

import (
	"fmt"
	"regexp"
	"strconv"
	"time"
	_ "time/tzdata" // Europe/Tirane must resolve in minimal containers too.

	secretariatv1 "github.com/nrm-albania/nrm/proto/nrm/secretariat/v1"
	"github.com/nrm-albania/nrm/services/platform/aggregate"
)

// Letter is a letter as stored: its metadata, the attachments described but not their content.
// Enumerations are stored by their proto names.
type Letter struct {
	// ID is the protocol number.
	ID      string `bson:"_id"`
	Version int64  `bson:"version"`
	// Registration identifies the registration that made the letter (a UUID, derived from the
	// idempotency key when there is one); the attachments' content is stored under it.
	Registration     string       `bson:"registration"`
	Direction        string       `bson:"direction"`
	Date             string       `bson:"date"`
	MemberCode       string       `bson:"member_code,omitempty"`
	OtherInstitution string       `bson:"other_institution,omitempty"`
	Subject          string       `bson:"subject"`
	MeetingIDs       []string     `bson:"meeting_ids,omitempty"`
	CaseCodes        []string     `bson:"case_codes,omitempty"`
	Attachments      []Attachment `bson:"attachments,omitempty"`
	RegisteredAt     time.Time    `bson:"registered_at"`
	RegisteredBy     string       `bson:"registered_by"`
	UpdatedAt        time.Time    `bson:"updated_at"`
}

// Attachment describes one attachment; its content is a File.
type Attachment struct {
	Name        string `bson:"name"`
	ContentType string `bson:"content_type"`
	Size        int64  `bson:"size"`
	SHA256      string `bson:"sha256"`
}

// AggregateID, AggregateVersion and AtVersion make a letter an aggregate.
func (l Letter) AggregateID() string     { return l.ID }
func (l Letter) AggregateVersion() int64 { return l.Version }
func (l Letter) AtVersion(v int64, at time.Time) Letter {
	l.Version, l.UpdatedAt = v, at
	return l
}

// Change is one entry of a letter's history.
type Change = aggregate.Change

// The directions, by their proto names.
var (
	In  = secretariatv1.LetterDirection_LETTER_DIRECTION_IN.String()
	Out = secretariatv1.LetterDirection_LETTER_DIRECTION_OUT.String()
)

// Tirana is the time zone of the letters' dates: "today" is today there.
var Tirana = mustLoad("Europe/Tirane")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// FirstYear is the earliest year a letter may be dated: the register starts long before the
// Authority (2023), for letters about older matters, and lists never look further back.
const FirstYear = 2000

// MaxPerYear bounds the numbers of one year; a list's position packs a year and a number into
// one integer (Position).
const MaxPerYear = 999_999

// Number is the protocol number of the n-th letter of year: "MB-SEK-2026-0042".
func Number(year int, n int64) string { return fmt.Sprintf("MB-SEK-%04d-%04d", year, n) }

var numberPattern = regexp.MustCompile(`^MB-SEK-([0-9]{4})-([0-9]{4,6})$`)

// ParseNumber returns the year and sequence of a protocol number, false for anything that is not
// one as Number writes it (so that "MB-SEK-2026-00042" does not name letter 42).
func ParseNumber(s string) (year int, n int64, ok bool) {
	m := numberPattern.FindStringSubmatch(s)
	if m == nil {
		return 0, 0, false
	}
	year, _ = strconv.Atoi(m[1])
	n, _ = strconv.ParseInt(m[2], 10, 64)
	if year < FirstYear || n < 1 || n > MaxPerYear || Number(year, n) != s {
		return 0, 0, false
	}
	return year, n, true
}

// Year is the year that numbers the letter: its date's.
func (l Letter) Year() int {
	year, _ := strconv.Atoi(l.Date[:4])
	return year
}

// Position is the place of letter n of year in the register, as one number that orders the
// register (newer is larger): what a list's page token carries.
func Position(year int, n int64) int64 { return int64(year)*(MaxPerYear+1) + n }

// AtPosition undoes Position; false for a number no letter can be at.
func AtPosition(p int64) (year int, n int64, ok bool) {
	year, n = int(p/(MaxPerYear+1)), p%(MaxPerYear+1)
	return year, n, year >= FirstYear && year <= 9999 && n >= 1
}
