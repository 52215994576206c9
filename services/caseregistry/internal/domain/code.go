package domain

import (
	"fmt"
	"regexp"
)

// MaxCodeSequence is the last sequence number a year's codes can carry (five digits).
const MaxCodeSequence = 99999

// Code is the human-readable case code of the seq-th registration of year: "VT-2026-00042".
func Code(year int, seq int64) string { return fmt.Sprintf("VT-%04d-%05d", year, seq) }

// CodePrefix is what every code of year starts with.
func CodePrefix(year int) string { return fmt.Sprintf("VT-%04d-", year) }

var codePattern = regexp.MustCompile(`^VT-[0-9]{4}-[0-9]{5}$`)

// IsCode reports whether s has the shape of a case code.
func IsCode(s string) bool { return codePattern.MatchString(s) }
