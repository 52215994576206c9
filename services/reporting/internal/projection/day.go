package projection

import "time"

// dayLayout is how an identification date is written, in events, in requests and as the _id of
// a bucket. Its fixed width makes string order equal to date order, so a range of days is a
// range of _id strings.
const dayLayout = "2006-01-02"

// ValidDay reports whether s is a calendar date written exactly as YYYY-MM-DD. time.Parse
// demands every digit of this layout, so an accepted s is also in the fixed-width form.
func ValidDay(s string) bool {
	_, err := time.Parse(dayLayout, s)
	return err == nil
}
