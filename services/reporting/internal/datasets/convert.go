package datasets

import (
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	reportingv1 "github.com/nrm-albania/nrm/proto/nrm/reporting/v1"
)

const crossCheckPrefix = "CROSS_CHECK_"

// Proto is the API's name of the cross-check.
func (c CrossCheck) Proto() reportingv1.CrossCheck {
	if c == "" {
		return reportingv1.CrossCheck_CROSS_CHECK_UNSPECIFIED
	}
	return reportingv1.CrossCheck(reportingv1.CrossCheck_value[crossCheckPrefix+string(c)])
}

func crossCheckFrom(c reportingv1.CrossCheck) CrossCheck {
	if c == reportingv1.CrossCheck_CROSS_CHECK_UNSPECIFIED {
		return ""
	}
	return CrossCheck(strings.TrimPrefix(c.String(), crossCheckPrefix))
}

// Proto is the API's name of the timeliness.
func (t Timeliness) Proto() reportingv1.Timeliness {
	return reportingv1.Timeliness(reportingv1.Timeliness_value["TIMELINESS_"+string(t)])
}

// Proto is the data set as the API shows it.
func (d DataSet) Proto() *reportingv1.DataSet {
	out := &reportingv1.DataSet{Member: d.Member, Version: d.Version, UpdatedAt: timestamp(d.UpdatedAt), UpdatedBy: d.UpdatedBy}
	for _, e := range d.Elements {
		pe := &reportingv1.DataElement{Code: e.Code, Name: e.Name, CrossCheck: e.CrossCheck.Proto()}
		for _, p := range e.Parts {
			pe.Parts = append(pe.Parts, &reportingv1.DataElementPart{Code: p.Code, Name: p.Name})
		}
		out.Elements = append(out.Elements, pe)
	}
	return out
}

// ElementsFromProto reads a form's elements from the API. An unknown cross-check number reads
// as a name ValidateElements refuses.
func ElementsFromProto(in []*reportingv1.DataElement) []Element {
	out := make([]Element, 0, len(in))
	for _, e := range in {
		el := Element{Code: e.GetCode(), Name: e.GetName(), CrossCheck: crossCheckFrom(e.GetCrossCheck())}
		for _, p := range e.GetParts() {
			el.Parts = append(el.Parts, Part{Code: p.GetCode(), Name: p.GetName()})
		}
		out = append(out, el)
	}
	return out
}

// ValuesFromProto reads a submission's values from the API.
func ValuesFromProto(in []*reportingv1.ElementValue) []Value {
	out := make([]Value, 0, len(in))
	for _, v := range in {
		val := Value{Element: v.GetElement(), Value: v.GetValue()}
		for _, p := range v.GetParts() {
			val.Parts = append(val.Parts, PartValue{Part: p.GetPart(), Value: p.GetValue()})
		}
		out = append(out, val)
	}
	return out
}

// ValuesProto is values as the API and the events show them.
func ValuesProto(in []Value) []*reportingv1.ElementValue {
	out := make([]*reportingv1.ElementValue, 0, len(in))
	for _, v := range in {
		pv := &reportingv1.ElementValue{Element: v.Element, Value: v.Value}
		for _, p := range v.Parts {
			pv.Parts = append(pv.Parts, &reportingv1.PartValue{Part: p.Part, Value: p.Value})
		}
		out = append(out, pv)
	}
	return out
}

// Proto is the submission as the API shows it, its timeliness by cal.
func (s Submission) Proto(cal Calendar, p Period) *reportingv1.Submission {
	out := &reportingv1.Submission{
		Member: s.Member, Period: s.Period, Submitted: s.Submitted, Values: ValuesProto(s.Values),
		DataSetVersion: s.DataSetVersion, SubmittedAt: timestamp(s.SubmittedAt), SubmittedBy: s.SubmittedBy,
		FirstSubmittedAt: timestamp(s.FirstSubmittedAt), Timeliness: cal.Timeliness(p, s.FirstSubmittedAt).Proto(),
		Reopened: s.Reopened, Version: s.Version,
	}
	for _, w := range s.Warnings {
		out.Warnings = append(out.Warnings, &reportingv1.CrossCheckWarning{
			Element: w.Element, CrossCheck: w.CrossCheck.Proto(), Reported: w.Reported, Registry: w.Registry, Message: w.Message(),
		})
	}
	for _, r := range s.Reopenings {
		out.Reopenings = append(out.Reopenings, &reportingv1.Reopening{At: timestamp(r.At), Institution: r.Institution, Subject: r.Subject, Reason: r.Reason})
	}
	return out
}

func timestamp(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}
