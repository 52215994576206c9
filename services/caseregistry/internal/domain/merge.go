package domain

import (
	"slices"

	"github.com/nrm-albania/nrm/services/platform/apierr"
)

// CheckMerge checks that duplicate may be merged into survivor. Repeating a merge already made
// is not an error (nil): the caller answers it as a no-op. A closed survivor is allowed: a
// duplicate may turn up after the person's case was closed. A merged case cannot take part in
// another merge, so that chains of merges never form.
func CheckMerge(survivor, duplicate Case) error {
	if survivor.ID == duplicate.ID {
		return apierr.InvalidField("duplicate_id", "must name another case than the one it is merged into")
	}
	if duplicate.MergedInto == survivor.ID {
		return nil
	}
	if err := CheckChangeable(survivor); err != nil {
		return err
	}
	return CheckChangeable(duplicate)
}

// MarkMerged is the duplicate once merged: closed as a duplicate on today, pointing to its
// survivor.
func MarkMerged(dup Case, survivorID, today string) Case {
	dup.State = stateClosed
	dup.Closure = &Closure{Reason: closeDuplicate, Date: today}
	dup.MergedInto = survivorID
	return dup
}

// Absorb is the survivor once dupID was merged into it; absorbing the same case twice lists it
// once.
func Absorb(survivor Case, dupID string) Case {
	if !slices.Contains(survivor.MergedCaseIDs, dupID) {
		survivor.MergedCaseIDs = append(slices.Clip(survivor.MergedCaseIDs), dupID)
	}
	return survivor
}
