package domain

import (
	"reflect"
	"testing"

	caseregistryv1 "github.com/nrm-albania/nrm/proto/nrm/caseregistry/v1"
)

func consentReq(scope caseregistryv1.ConsentScope, decision caseregistryv1.ConsentDecision, by caseregistryv1.ConsentGiver) *caseregistryv1.RecordConsentRequest {
	return &caseregistryv1.RecordConsentRequest{Id: "c1", Consent: &caseregistryv1.ConsentRecord{
		Scope: scope, Decision: decision, GivenBy: by, Date: "2026-11-20",
		RecordedBy: "FORGED", // output only: the registry sets it
	}}
}

const (
	assistance = caseregistryv1.ConsentScope_CONSENT_SCOPE_ASSISTANCE
	processing = caseregistryv1.ConsentScope_CONSENT_SCOPE_DATA_PROCESSING
	referral   = caseregistryv1.ConsentScope_CONSENT_SCOPE_REFERRAL
	given      = caseregistryv1.ConsentDecision_CONSENT_DECISION_GIVEN
	refused    = caseregistryv1.ConsentDecision_CONSENT_DECISION_REFUSED
	withdrawn  = caseregistryv1.ConsentDecision_CONSENT_DECISION_WITHDRAWN
	person     = caseregistryv1.ConsentGiver_CONSENT_GIVER_PERSON
	guardian   = caseregistryv1.ConsentGiver_CONSENT_GIVER_GUARDIAN
	authority  = caseregistryv1.ConsentGiver_CONSENT_GIVER_CHILD_PROTECTION_AUTHORITY
)

// withConsents is stored (a child) with the given answers, oldest first, and the age given
// (nil: unknown).
func withConsents(age *int32, answers ...Consent) Case {
	c := stored()
	c.Profile.AgeAtIdentification = age
	c.Consents = append(c.Consents, answers...)
	return c
}

func answer(scope caseregistryv1.ConsentScope, decision caseregistryv1.ConsentDecision) Consent {
	return Consent{Scope: scope.String(), Decision: decision.String(), Date: "2026-10-05", GivenBy: guardian.String(),
		RecordedBy: "KKSAT", RecordedAt: decidedAt}
}

func TestRecordConsent(t *testing.T) {
	child, adult := int32(17), int32(18)
	type R = caseregistryv1.RecordConsentRequest
	tests := []struct {
		name   string
		c      Case
		req    *R
		change func(r *R)
		want   string
	}{
		{"a guardian for a child", withConsents(&child), consentReq(assistance, given, guardian), nil, ""},
		{"the authority for a child", withConsents(&child), consentReq(assistance, refused, authority), nil, ""},
		{"the authority on a child's referral", withConsents(&child), consentReq(referral, given, authority), nil, ""},
		{"a guardian on a child's referral", withConsents(&child), consentReq(referral, given, guardian), nil, ""},
		{"an adult", withConsents(&adult), consentReq(processing, given, person), nil, ""},
		{"a guardian for an adult", withConsents(&adult), consentReq(referral, refused, guardian), nil, ""},
		{"the person when the age is unknown", withConsents(nil), consentReq(referral, given, person), nil, ""},
		{"the authority when the age is unknown", withConsents(nil), consentReq(referral, given, authority), nil, ""},
		{"withdrawn after given", withConsents(&child, answer(assistance, given)), consentReq(assistance, withdrawn, guardian), nil, ""},
		{"withdrawn after given, refused and given again", withConsents(&child, answer(assistance, given), answer(assistance, refused),
			answer(assistance, given)), consentReq(assistance, withdrawn, authority), nil, ""},
		{"in a closed case", func() Case { c := closed(); c.Consents = []Consent{answer(processing, given)}; return c }(),
			consentReq(processing, withdrawn, guardian), nil, ""},
		{"on the identification date", withConsents(&child), consentReq(assistance, given, guardian), func(r *R) { r.Consent.Date = "2026-10-02" }, ""},
		{"no consent", withConsents(&child), &R{Id: "c1"}, nil, "invalid: consent"},
		{"scope unspecified", withConsents(&child), consentReq(0, given, guardian), nil, "invalid: consent.scope"},
		{"scope unknown number", withConsents(&child), consentReq(4, given, guardian), nil, "invalid: consent.scope"},
		{"decision unspecified", withConsents(&child), consentReq(assistance, 0, guardian), nil, "invalid: consent.decision"},
		{"decision unknown number", withConsents(&child), consentReq(assistance, 4, guardian), nil, "invalid: consent.decision"},
		{"giver unspecified", withConsents(&child), consentReq(assistance, given, 0), nil, "invalid: consent.given_by"},
		{"giver unknown number", withConsents(&child), consentReq(assistance, given, 4), nil, "invalid: consent.given_by"},
		{"no date", withConsents(&child), consentReq(assistance, given, guardian), func(r *R) { r.Consent.Date = "" }, "invalid: consent.date"},
		{"date not a date", withConsents(&child), consentReq(assistance, given, guardian), func(r *R) { r.Consent.Date = "2026-11" }, "invalid: consent.date"},
		{"date in the future", withConsents(&child), consentReq(assistance, given, guardian), func(r *R) { r.Consent.Date = "2026-11-28" }, "invalid: consent.date"},
		{"date before the identification", withConsents(&child), consentReq(assistance, given, guardian), func(r *R) { r.Consent.Date = "2026-10-01" }, "invalid: consent.date"},
		{"a child for itself", withConsents(&child), consentReq(assistance, given, person), nil, "invalid: consent.given_by"},
		{"a child for itself on referral", withConsents(&child), consentReq(referral, given, person), nil, "invalid: consent.given_by"},
		{"the authority for an adult", withConsents(&adult), consentReq(assistance, given, authority), nil, "invalid: consent.given_by"},
		{"every field wrong", withConsents(&child), consentReq(0, 0, 0), func(r *R) { r.Consent.Date = "x" },
			"invalid: consent.scope,consent.decision,consent.given_by,consent.date"},
		{"merged", func() Case { c := withConsents(&child); c.MergedInto = "c2"; return c }(), consentReq(assistance, given, guardian), nil, "precondition: CASE_MERGED"},
		{"withdrawn when never given", withConsents(&child), consentReq(assistance, withdrawn, guardian), nil, "precondition: CONSENT_NOT_GIVEN"},
		{"withdrawn after refused", withConsents(&child, answer(assistance, given), answer(assistance, refused)),
			consentReq(assistance, withdrawn, guardian), nil, "precondition: CONSENT_NOT_GIVEN"},
		{"withdrawn twice", withConsents(&child, answer(assistance, given), answer(assistance, withdrawn)),
			consentReq(assistance, withdrawn, guardian), nil, "precondition: CONSENT_NOT_GIVEN"},
		{"withdrawn when given for another scope", withConsents(&child, answer(referral, given)),
			consentReq(assistance, withdrawn, guardian), nil, "precondition: CONSENT_NOT_GIVEN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.change != nil {
				tt.change(tt.req)
			}
			before := clone(tt.c)
			got, rec, err := RecordConsent(tt.c, tt.req, today, "KKSAT", now)
			if o := outcome(t, err); o != tt.want {
				t.Fatalf("got %q, want %q (%v)", o, tt.want, err)
			}
			if !same(tt.c, before) {
				t.Error("the input case was changed")
			}
			if err != nil {
				if !reflect.DeepEqual(got, Case{}) || rec != (Consent{}) {
					t.Error("a result came back with the error")
				}
				if tt.want == "precondition: CONSENT_NOT_GIVEN" && errorInfo(t, err).GetMetadata()["scope"] != tt.req.GetConsent().GetScope().String() {
					t.Errorf("metadata %v", errorInfo(t, err).GetMetadata())
				}
				return
			}
			r := tt.req.GetConsent()
			wantRec := Consent{Scope: r.GetScope().String(), Decision: r.GetDecision().String(), Date: r.GetDate(),
				GivenBy: r.GetGivenBy().String(), RecordedBy: "KKSAT", RecordedAt: now}
			if rec != wantRec {
				t.Errorf("record\n got %+v\nwant %+v", rec, wantRec)
			}
			want := clone(tt.c)
			want.Consents = append(want.Consents, wantRec)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("case\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestLatestConsent(t *testing.T) {
	c := withConsents(nil, answer(assistance, given), answer(referral, refused), answer(assistance, withdrawn))
	if got := LatestConsent(c, assistance.String()); got == nil || got.Decision != withdrawn.String() {
		t.Errorf("assistance: %+v", got)
	}
	if got := LatestConsent(c, referral.String()); got == nil || got.Decision != refused.String() {
		t.Errorf("referral: %+v", got)
	}
	if got := LatestConsent(c, processing.String()); got != nil {
		t.Errorf("data processing: %+v", got)
	}
	LatestConsent(c, referral.String()).Decision = "CHANGED"
	if c.Consents[1].Decision != refused.String() {
		t.Error("LatestConsent returned the case's own record")
	}
}
