package catalogue

import (
	"maps"
	"strings"
	"testing"

	referralv1 "github.com/nrm-albania/nrm/proto/nrm/referral/v1"
)

var serviceTypes = referralv1.ServiceType_SERVICE_TYPE_UNSPECIFIED.Descriptor().Values()

func TestEveryServiceTypeHasOneEntryInEnumOrder(t *testing.T) {
	all := All()
	if want := serviceTypes.Len() - 1; len(all) != want {
		t.Fatalf("%d entries, want %d (every ServiceType but UNSPECIFIED)", len(all), want)
	}
	codes := map[string]bool{}
	for i, e := range all {
		if i > 0 && e.Type <= all[i-1].Type {
			t.Errorf("entry %d (%s) is out of enum order", i, e.Code)
		}
		if want := strings.TrimPrefix(e.Type.String(), "SERVICE_TYPE_"); e.Code != want {
			t.Errorf("%v has code %q, want %q", e.Type, e.Code, want)
		}
		if codes[e.Code] {
			t.Errorf("code %s appears twice", e.Code)
		}
		codes[e.Code] = true
		if e.Name == "" || len(e.Description) < 40 {
			t.Errorf("%s: want a name and a real description, got %q / %q", e.Code, e.Name, e.Description)
		}
		if wantChildren := e.Type == referralv1.ServiceType_SERVICE_TYPE_CHILD_PROTECTION; e.ChildrenOnly != wantChildren {
			t.Errorf("%s: children_only = %v, want %v", e.Code, e.ChildrenOnly, wantChildren)
		}
	}
}

func TestBuildRefusesACatalogueThatDoesNotMatchTheEnum(t *testing.T) {
	missing := maps.Clone(descriptions)
	delete(missing, referralv1.ServiceType_SERVICE_TYPE_SAFE_RETURN)
	extra := maps.Clone(descriptions)
	extra[referralv1.ServiceType(99)] = about{name: "Teleportation", description: "Not a service the API knows."}

	tests := []struct {
		name  string
		known map[referralv1.ServiceType]about
		want  string
	}{
		{"a service type without an entry", missing, "SERVICE_TYPE_SAFE_RETURN has no catalogue entry"},
		{"an entry without a service type", extra, "service type 99, which the enum lacks"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := build(serviceTypes, tt.known)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("build = %v, want an error saying %q", err, tt.want)
			}
		})
	}
}

func TestAllReturnsACopy(t *testing.T) {
	All()[0].Name = "changed by a caller"
	if All()[0].Name == "changed by a caller" {
		t.Error("a caller changed the catalogue through the slice All returned")
	}
}
