package authz

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"google.golang.org/grpc/metadata"

	"github.com/nrm-albania/nrm/services/platform/apierr"
)

// PurposeKey is the gRPC metadata key (REST header X-NRM-Purpose) in which a caller states why
// it reads personal data; the purpose goes into the audit trail.
const PurposeKey = "x-nrm-purpose"

// DefaultPurposes is the purpose list when none is configured (NRM_AUDIT_PURPOSES).
const DefaultPurposes = "case-management,referral,assistance,duplicate-check,status-decision,erasure,audit"

// refParam introduces the optional reference after the code: "referral;ref=REF-2026-0042".
const refParam = ";ref="

// maxRef bounds a reference.
const maxRef = 64

var (
	codePattern = regexp.MustCompile(`^[a-z][a-z0-9-]{0,31}$`)
	// A reference names a file or a decision, not a person: a short token that holds a digit,
	// so neither prose nor a bare name passes.
	refPattern = regexp.MustCompile(`^[A-Za-z0-9._/:-]*[0-9][A-Za-z0-9._/:-]*$`)
)

// Purposes is the closed list of codes in which callers state a purpose. A purpose is a code,
// never free text: whatever a caller writes there is kept in the audit trail, and on its stream,
// for as long as the trail is kept, so prose would sooner or later name a person.
type Purposes struct{ codes []string }

// ParsePurposes reads a comma-separated list of codes (lower-case letters, digits and hyphens,
// starting with a letter, at most 32 characters), in the order the refusals name them.
func ParsePurposes(list string) (Purposes, error) {
	var ps Purposes
	for c := range strings.SplitSeq(list, ",") {
		c = strings.TrimSpace(c)
		switch {
		case !codePattern.MatchString(c):
			return Purposes{}, fmt.Errorf("%q is not a purpose code (lower-case letters, digits and hyphens, at most 32)", c)
		case slices.Contains(ps.codes, c):
			return Purposes{}, fmt.Errorf("purpose code %q is listed twice", c)
		}
		ps.codes = append(ps.codes, c)
	}
	return ps, nil
}

// Codes returns the codes of the list.
func (ps Purposes) Codes() []string { return slices.Clone(ps.codes) }

// Purpose is a stated purpose: a code of the list and, optionally, a reference to the file or
// decision the access serves.
type Purpose struct {
	Code string
	Ref  string
}

// String is the purpose as it is sent and recorded: "referral" or "referral;ref=REF-2026-0042".
func (p Purpose) String() string {
	if p.Ref == "" {
		return p.Code
	}
	return p.Code + refParam + p.Ref
}

// FromMetadata reads the purpose the caller stated in the call's metadata and checks it against
// the list; required says whether it must be there. A refusal names the codes and never quotes
// the value, which may be exactly what must not be kept.
func (ps Purposes) FromMetadata(ctx context.Context, required bool) (Purpose, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	vals := md.Get(PurposeKey)
	switch {
	case len(vals) == 0 && required:
		return Purpose{}, ps.refuse("state why you need this data")
	case len(vals) == 0:
		return Purpose{}, nil
	case len(vals) > 1:
		return Purpose{}, ps.refuse("must be sent once")
	}
	v := strings.TrimSpace(vals[0])
	switch {
	case v == "" && required:
		return Purpose{}, ps.refuse("state why you need this data")
	case v == "": // a blank header states nothing
		return Purpose{}, nil
	}
	code, ref, hasRef := strings.Cut(v, refParam)
	if !slices.Contains(ps.codes, code) {
		return Purpose{}, ps.refuse("is not a purpose code")
	}
	if hasRef && (len(ref) > maxRef || !refPattern.MatchString(ref)) {
		return Purpose{}, ps.refuse(fmt.Sprintf("has a reference that is not one: up to %d letters, digits and . _ / : -, with at least one digit", maxRef))
	}
	return Purpose{Code: code, Ref: ref}, nil
}

func (ps Purposes) refuse(problem string) error {
	return apierr.InvalidField(PurposeKey, "%s; send one of the purpose codes %s, optionally followed by %s<reference> (REST header X-NRM-Purpose)",
		problem, strings.Join(ps.codes, ", "), refParam)
}

type purposeKey struct{}

// WithPurpose returns ctx carrying the purpose the guard admitted.
func WithPurpose(ctx context.Context, p Purpose) context.Context {
	return context.WithValue(ctx, purposeKey{}, p)
}

// StatedPurpose returns the purpose the call stated, as the guard admitted it; false when it
// stated none.
func StatedPurpose(ctx context.Context) (Purpose, bool) {
	p, ok := ctx.Value(purposeKey{}).(Purpose)
	return p, ok
}
