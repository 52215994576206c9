package authz

import (
	"context"
	"slices"
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/nrm-albania/nrm/services/platform/apierr"
)

func TestParsePurposes(t *testing.T) {
	for _, tt := range []struct {
		name, list string
		want       []string
		ok         bool
	}{
		{"the defaults", DefaultPurposes, []string{"case-management", "referral", "assistance", "duplicate-check", "status-decision", "erasure", "audit"}, true},
		{"spaces around codes", " referral , audit ", []string{"referral", "audit"}, true},
		{"empty", "", nil, false},
		{"only commas", ", ,", nil, false},
		{"an empty code", "referral,,audit", nil, false},
		{"repeated", "referral,referral", nil, false},
		{"prose", "referral to a shelter", nil, false},
		{"upper case", "Referral", nil, false},
		{"too long", strings.Repeat("a", 33), nil, false},
		{"reference syntax in a code", "referral;ref=1", nil, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ps, err := ParsePurposes(tt.list)
			if (err == nil) != tt.ok || (tt.ok && !slices.Equal(ps.Codes(), tt.want)) {
				t.Errorf("ParsePurposes(%q) = %v, %v; want %v, ok %v", tt.list, ps.Codes(), err, tt.want, tt.ok)
			}
		})
	}
}

func TestDefaultPurposesHoldExactlyTheAgreedCodes(t *testing.T) {
	ps, err := ParsePurposes(DefaultPurposes)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"assistance", "audit", "case-management", "duplicate-check", "erasure", "referral", "status-decision"}
	got := slices.Sorted(slices.Values(ps.Codes()))
	if !slices.Equal(got, want) {
		t.Errorf("default codes %v, want %v", got, want)
	}
}

func incoming(vals ...string) context.Context {
	md := metadata.MD{}
	for _, v := range vals {
		md.Append(PurposeKey, v)
	}
	return metadata.NewIncomingContext(context.Background(), md)
}

func TestStatedPurpose(t *testing.T) {
	ps, err := ParsePurposes(DefaultPurposes)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name     string
		ctx      context.Context
		required bool
		want     string
		code     codes.Code
	}{
		{"absent, optional", context.Background(), false, "", codes.OK},
		{"absent, required", context.Background(), true, "", codes.InvalidArgument},
		{"a code", incoming("referral"), true, "referral", codes.OK},
		{"trimmed", incoming("  audit  "), true, "audit", codes.OK},
		{"with a reference", incoming("referral;ref=REF-2026-0042"), true, "referral;ref=REF-2026-0042", codes.OK},
		{"reference with every allowed character", incoming("assistance;ref=a_b.c/d:e-1"), false, "assistance;ref=a_b.c/d:e-1", codes.OK},
		{"blank, required", incoming("   "), true, "", codes.InvalidArgument},
		{"blank, optional: none stated", incoming("   "), false, "", codes.OK},
		{"twice", incoming("referral", "audit"), false, "", codes.InvalidArgument},
		{"free text", incoming("referral to a shelter"), false, "", codes.InvalidArgument},
		{"a name after the code", incoming("referral of Arta Hoxha"), false, "", codes.InvalidArgument},
		{"unknown code", incoming("curiosity"), false, "", codes.InvalidArgument},
		{"code in another case", incoming("Referral"), false, "", codes.InvalidArgument},
		{"a name as reference", incoming("referral;ref=ArtaHoxha"), false, "", codes.InvalidArgument},
		{"prose as reference", incoming("referral;ref=Arta Hoxha 1"), false, "", codes.InvalidArgument},
		{"empty reference", incoming("referral;ref="), false, "", codes.InvalidArgument},
		{"reference too long", incoming("referral;ref=" + strings.Repeat("1", 65)), false, "", codes.InvalidArgument},
		{"another parameter", incoming("referral;note=1"), false, "", codes.InvalidArgument},
		{"two references", incoming("referral;ref=1;ref=2"), false, "", codes.InvalidArgument},
		{"control characters", incoming("referral;ref=1\t2"), false, "", codes.InvalidArgument},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ps.FromMetadata(tt.ctx, tt.required)
			if status.Code(err) != tt.code || got.String() != tt.want {
				t.Errorf("FromMetadata = %q, %v; want %q, %s", got, err, tt.want, tt.code)
			}
			if err != nil && !violates(err, PurposeKey) {
				t.Errorf("refusal %v has no field violation on %s", err, PurposeKey)
			}
		})
	}
}

// A refused purpose names the allowed codes and never repeats what was sent.
func TestRefusedPurposeNamesTheCodesNotTheValue(t *testing.T) {
	ps, err := ParsePurposes(DefaultPurposes)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"referral of Arta Hoxha", "referral;ref=ArtaHoxha", "Hoxha"} {
		_, err := ps.FromMetadata(incoming(v), false)
		s := status.Convert(err)
		text := s.Message()
		for _, fv := range apierr.FieldViolations(err) {
			text += fv.GetDescription()
		}
		if strings.Contains(text, "Hoxha") {
			t.Errorf("the refusal of %q quotes it: %s", v, text)
		}
		if !strings.Contains(text, "case-management, referral, assistance, duplicate-check, status-decision, erasure, audit") {
			t.Errorf("the refusal of %q does not name the codes: %s", v, text)
		}
	}
}

func violates(err error, field string) bool {
	return slices.ContainsFunc(apierr.FieldViolations(err), func(v *errdetails.BadRequest_FieldViolation) bool { return v.GetField() == field })
}
