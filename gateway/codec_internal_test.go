package gateway

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	caseregistryv1 "github.com/nrm-albania/nrm/proto/nrm/caseregistry/v1"
)

// A full page of cases, written as protojson writes it and with the empty lists added: the cost
// of writing every list.
func BenchmarkMarshalListPage(b *testing.B) {
	page := &caseregistryv1.ListCasesResponse{NextPageToken: "next"}
	for i := range 100 {
		page.Cases = append(page.Cases, &caseregistryv1.Case{
			Id: fmt.Sprintf("c-%04d", i), Version: 3,
			Profile:        &caseregistryv1.Profile{Sex: caseregistryv1.Sex_SEX_FEMALE, AgeAtIdentification: new(int32(17)), Citizenships: []string{"AL"}},
			Trafficking:    &caseregistryv1.Trafficking{ExploitationTypes: []caseregistryv1.ExploitationType{caseregistryv1.ExploitationType_EXPLOITATION_TYPE_SEXUAL}},
			Identification: &caseregistryv1.Identification{IdentifyingInstitution: "ASP-ANTITRAF", IdentificationDate: "2026-10-02"},
			State:          caseregistryv1.CaseState_CASE_STATE_OPEN, OwnerInstitution: "ASP-ANTITRAF",
		})
	}
	c := newJSONCodec()
	b.Run("protojson", func(b *testing.B) {
		for b.Loop() {
			if _, err := c.MarshalOptions.Marshal(page); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("with empty lists", func(b *testing.B) {
		for b.Loop() {
			if _, err := c.Marshal(page); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func TestMarshalWritesEveryList(t *testing.T) {
	// Strings with the characters the reader must not take for structure.
	tricky := `a "quoted" {brace} [bracket], comma: colon \ backslash ë`
	c := &caseregistryv1.Case{
		Id:               tricky,
		Profile:          &caseregistryv1.Profile{Citizenships: []string{tricky, "AL"}},
		Identification:   &caseregistryv1.Identification{IdentifyingInstitution: tricky},
		MergedCaseIds:    nil,
		OwnerInstitution: "",
	}
	b, err := newJSONCodec().Marshal(&caseregistryv1.ListCasesResponse{Cases: []*caseregistryv1.Case{c, {}}})
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Cases []map[string]json.RawMessage `json:"cases"`
	}
	if err := json.Unmarshal(b, &got); err != nil || len(got.Cases) != 2 {
		t.Fatalf("not the page: %v; %s", err, b)
	}
	for i, want := range []map[string]string{
		{"id": strconv.Quote(tricky), "mergedCaseIds": "[]", "consents": "[]"},
		{"mergedCaseIds": "[]", "consents": "[]"},
	} {
		for k, v := range want {
			var a, b any
			_ = json.Unmarshal([]byte(v), &a)
			_ = json.Unmarshal(got.Cases[i][k], &b)
			if !reflect.DeepEqual(a, b) {
				t.Errorf("case %d: %s = %s, want %s", i, k, got.Cases[i][k], v)
			}
		}
		if _, ok := got.Cases[i]["ownerInstitution"]; ok {
			t.Errorf("case %d: an unset scalar written: %s", i, b)
		}
	}
	// What is written reads back as the same message.
	var back caseregistryv1.ListCasesResponse
	if err := protojson.Unmarshal(b, &back); err != nil || !proto.Equal(&back, &caseregistryv1.ListCasesResponse{Cases: []*caseregistryv1.Case{c, {}}}) {
		t.Errorf("does not read back: %v; %s", err, b)
	}
}

func TestJSONReaderRefusesWhatProtojsonDoesNotWrite(t *testing.T) {
	for _, in := range []string{``, `{`, `[`, `x`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{"a":1 "b":2}`, `{"a":"x`, `{a:1}`, `{"a":[1,2}`} {
		if _, err := members([]byte(in)); err == nil {
			t.Errorf("members(%q): no error", in)
		}
	}
	for _, in := range []string{``, `[`, `[1,`, `[1 2]`, `{}`, `["x]`} {
		if _, err := elements([]byte(in)); err == nil {
			t.Errorf("elements(%q): no error", in)
		}
	}
	ms, err := members([]byte(` { "a" : "}\"," , "b":[{"c":"]"}] } `))
	if err != nil || len(ms) != 2 || string(ms[0].value) != `"}\","` || string(ms[1].value) != `[{"c":"]"}]` {
		t.Errorf("members with spaces and tricky strings: %v, %v", ms, err)
	}
}
