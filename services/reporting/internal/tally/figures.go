package tally

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Figures are counts per dimension and key, e.g. "by_state" → "REFERRAL_STATE_ACCEPTED" → 3.
// A count that falls to zero is removed, and a dimension left empty too, so that figures that
// followed every correction equal figures rebuilt from scratch.
type Figures map[string]map[string]int64

// Tally is what one document counts: its figures, in one bucket (a day "YYYY-MM-DD" or a month
// "YYYY-MM", whatever the kind of document orders its buckets by).
type Tally struct {
	Bucket  string  `bson:"bucket"`
	Figures Figures `bson:"figures"`
}

// Set counts n under dimension dim and key, replacing what was there; n 0 sets nothing.
func (f Figures) Set(dim, key string, n int64) {
	if n == 0 {
		return
	}
	if f[dim] == nil {
		f[dim] = make(map[string]int64)
	}
	f[dim][key] = n
}

// Add adds o's counts times sign (1 or -1) to f.
func (f Figures) Add(o Figures, sign int64) {
	for dim, keys := range o {
		for k, n := range keys {
			if f[dim] == nil {
				f[dim] = make(map[string]int64)
			}
			f[dim][k] += sign * n
			if f[dim][k] == 0 {
				delete(f[dim], k)
			}
		}
		if len(f[dim]) == 0 {
			delete(f, dim)
		}
	}
}

// clone returns figures that share no map with f.
func (f Figures) clone() Figures {
	out := make(Figures, len(f))
	out.Add(f, 1)
	return out
}

// equal reports whether f and o count the same: the store does not tell a nil map from an
// empty one, so neither does this.
func (f Figures) equal(o Figures) bool {
	if len(f) != len(o) {
		return false
	}
	for dim, keys := range f {
		if len(keys) != len(o[dim]) {
			return false
		}
		for k, n := range keys {
			if o[dim][k] != n {
				return false
			}
		}
	}
	return true
}

// maxKeyLen bounds a key; real ones (enum names, institution and provider codes, ids) are short.
const maxKeyLen = 64

// CheckKey reports why v cannot be a key of the figures. Keys become field names of stored
// documents, so they must be usable as such on MongoDB and FerretDB: not empty, valid UTF-8, no
// '.' or NUL, not starting with '$'.
func CheckKey(v string) error {
	switch {
	case v == "":
		return errors.New("is empty")
	case len(v) > maxKeyLen:
		return fmt.Errorf("is longer than %d bytes", maxKeyLen)
	case !utf8.ValidString(v):
		return errors.New("is not valid UTF-8")
	case strings.ContainsAny(v, ".\x00"), strings.HasPrefix(v, "$"):
		return errors.New("contains '.' or NUL, or starts with '$'")
	}
	return nil
}
