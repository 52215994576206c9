package domain

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	caseregistryv1 "github.com/nrm-albania/nrm/proto/nrm/caseregistry/v1"
	"github.com/nrm-albania/nrm/services/platform/apierr"
)

// Update is the outcome of an UpdateCase request applied to a case.
type Update struct {
	Profile        Profile
	Trafficking    Trafficking // Status and StatusDecisions copied unchanged from cur
	Identification Identification
	Identity       *Identity // the identity after the change; nil when the case has none
	Fields         []string  // sorted leaf field paths whose value changed, e.g. "profile.education_level", "identity.address"
	Headings       []string  // sorted distinct headings changed: "profile", "trafficking", "identification", "identity"
}

// headings are the parts of a case that UpdateCase changes; every other field of a case is
// output only, so that a field added to Case later is protected until it is listed here.
var headings = map[protoreflect.Name]bool{"profile": true, "trafficking": true, "identification": true, "identity": true}

// outputOnly are the fields inside the headings that UpdateCase does not set, with the way to
// change them where there is one.
var outputOnly = map[string]string{
	"profile.age_band":                "is output only: it follows profile.age_at_identification",
	"profile.minor_at_identification": "is output only: it follows profile.age_at_identification",
	"trafficking.status":              "is output only: use DecideStatus to change the trafficking status",
	"trafficking.status_decisions":    "is output only: use DecideStatus to record a decision",
}

var caseFields = (&caseregistryv1.Case{}).ProtoReflect().Descriptor().Fields()

// maskPath is one resolved update_mask path: a whole heading (leaf nil) or one field of it.
type maskPath struct {
	heading, leaf protoreflect.FieldDescriptor
}

// ApplyUpdate applies an UpdateCase request to cur, the case as currently stored rendered as a
// proto with its identity in clear (nil when it has none), and validates the headings that
// result exactly as a registration is validated. The copy is done by reflection on the proto
// descriptors, so that every settable field is covered the same way. A request that changes
// nothing comes back with no Fields. Refused: an invalid mask or result (InvalidArgument) and a
// merged case (CASE_MERGED).
func ApplyUpdate(cur *caseregistryv1.Case, req *caseregistryv1.UpdateCaseRequest, today string) (Update, error) {
	if cur == nil {
		cur = &caseregistryv1.Case{}
	}
	var v apierr.Violations
	paths := resolveMask(&v, req.GetUpdateMask().GetPaths())
	if err := v.Err(); err != nil {
		return Update{}, err
	}
	next := proto.Clone(cur).(*caseregistryv1.Case)
	dst, src := next.ProtoReflect(), req.GetCase().ProtoReflect()
	for _, p := range paths {
		if p.leaf == nil {
			replaceHeading(&v, dst, src, p.heading)
			continue
		}
		copyField(dst.Mutable(p.heading).Message(), src.Get(p.heading).Message(), p.leaf)
	}
	if err := v.Err(); err != nil {
		return Update{}, err
	}
	if proto.Size(next.GetIdentity()) == 0 {
		next.Identity = nil // an identity with every field empty is no identity
	}
	p, tr, idf, id := validateHeadings(&v, next.GetProfile(), next.GetTrafficking(), next.GetIdentification(), next.GetIdentity(), today)
	if err := v.Err(); err != nil {
		return Update{}, err
	}
	if cur.GetMergedInto() != "" {
		return Update{}, mergedErr(cur.GetId(), cur.GetMergedInto())
	}
	tr.Status = enumName(cur.GetTrafficking().GetStatus())
	tr.StatusDecisions = decisionsOf(cur.GetTrafficking())
	u := Update{Profile: p, Trafficking: tr, Identification: idf, Identity: id}
	u.Fields, u.Headings = changes(cur, next)
	return u, nil
}

// resolveMask checks every path of an update mask and resolves it to field descriptors.
func resolveMask(v *apierr.Violations, paths []string) []maskPath {
	if len(paths) == 0 {
		v.Add("update_mask", "is required: name the headings or fields to change, e.g. profile.education_level")
		return nil
	}
	var out []maskPath
	for i, path := range paths {
		field := fmt.Sprintf("update_mask.paths[%d]", i)
		head, rest, nested := strings.Cut(path, ".")
		hf := caseFields.ByName(protoreflect.Name(head))
		switch {
		case hf == nil:
			v.Add(field, "%q is not a field of a case", printable(path))
			continue
		case !headings[hf.Name()]:
			v.Add(field, "%q is output only", printable(path))
			continue
		case !nested:
			out = append(out, maskPath{heading: hf})
			continue
		}
		lf := hf.Message().Fields().ByName(protoreflect.Name(rest))
		switch {
		case lf == nil:
			v.Add(field, "%q is not a field of a case", printable(path))
		case outputOnly[path] != "":
			v.Add(field, "%q %s", path, outputOnly[path])
		default:
			out = append(out, maskPath{heading: hf, leaf: lf})
		}
	}
	return out
}

// replaceHeading sets a whole heading of dst to src's. Only the identity may be removed that way;
// the other headings are required.
func replaceHeading(v *apierr.Violations, dst, src protoreflect.Message, fd protoreflect.FieldDescriptor) {
	switch {
	case src.Has(fd):
		copyField(dst, src, fd)
	case fd.Name() == "identity":
		dst.Clear(fd)
	default:
		v.Add(string(fd.Name()), "is required")
	}
}

// copyField sets field fd of dst to src's, or clears it when src has none. Values are copied, so
// that the result never shares memory with the request.
func copyField(dst, src protoreflect.Message, fd protoreflect.FieldDescriptor) {
	if !src.Has(fd) {
		dst.Clear(fd)
		return
	}
	if fd.Message() != nil && !fd.IsList() {
		dst.Set(fd, protoreflect.ValueOfMessage(proto.Clone(src.Get(fd).Message().Interface()).ProtoReflect()))
		return
	}
	if !fd.IsList() {
		dst.Set(fd, src.Get(fd)) // a scalar: strings are immutable
		return
	}
	from := src.Get(fd).List()
	to := dst.NewField(fd).List()
	for i := 0; i < from.Len(); i++ {
		to.Append(from.Get(i)) // the settable lists hold strings and enumerations
	}
	dst.Set(fd, protoreflect.ValueOfList(to))
}

// changes lists the settable fields whose value differs between two versions of a case, and
// their headings. Presence counts: an age that becomes known as 0 is a change.
func changes(before, after *caseregistryv1.Case) (fields, changed []string) {
	b, a := before.ProtoReflect(), after.ProtoReflect()
	for i := 0; i < caseFields.Len(); i++ {
		hf := caseFields.Get(i)
		if !headings[hf.Name()] {
			continue
		}
		hb, ha := b.Get(hf).Message(), a.Get(hf).Message()
		leaves := hf.Message().Fields()
		for j := 0; j < leaves.Len(); j++ {
			lf := leaves.Get(j)
			path := string(hf.Name()) + "." + string(lf.Name())
			if outputOnly[path] != "" {
				continue
			}
			if hb.Has(lf) != ha.Has(lf) || !hb.Get(lf).Equal(ha.Get(lf)) {
				fields = append(fields, path)
				if !slices.Contains(changed, string(hf.Name())) {
					changed = append(changed, string(hf.Name()))
				}
			}
		}
	}
	slices.Sort(fields)
	slices.Sort(changed)
	return fields, changed
}

// decisionsOf turns the status decisions of a rendered case back into their stored form.
func decisionsOf(t *caseregistryv1.Trafficking) []StatusDecision {
	var out []StatusDecision
	for _, d := range t.GetStatusDecisions() {
		var at time.Time
		if d.GetRecordedAt() != nil {
			at = d.GetRecordedAt().AsTime()
		}
		out = append(out, StatusDecision{
			Status: enumName(d.GetStatus()), DecidingBody: enumName(d.GetDecidingBody()), Date: d.GetDecisionDate(),
			Basis: d.GetBasis(), RecordedBy: d.GetRecordedBy(), RecordedAt: at, Revision: d.GetRevision(),
		})
	}
	return out
}
