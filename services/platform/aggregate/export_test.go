package aggregate

import "errors"

// ErrCrash is what a commit stopped by CrashAt returns.
var ErrCrash = errors.New("crashed here (injected by the test)")

// CrashAt makes s's commits stop at point, as if the process had died there: "committed" (the
// revision inserted, the current document not yet written) or "written" (the document written,
// the events not yet confirmed to the relay).
func CrashAt[T State[T], C Entry[C]](s *Store[T, C], point string) {
	s.crash = func(p string) error {
		if p == point {
			return ErrCrash
		}
		return nil
	}
}

// RevisionDoc is the stored form of a revision, for benchmarks that load history in bulk.
func RevisionDoc[T State[T], C Entry[C]](s *Store[T, C], a T, change C) any {
	return s.revisionDoc(a, change, nil)
}
