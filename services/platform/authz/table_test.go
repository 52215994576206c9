package authz

import (
	"os"
	"strings"
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// Every method of every service of the API has a rule, and every rule names a real method: a
// new RPC cannot ship unprotected, and a renamed one cannot leave a stale rule behind.
func TestEveryMethodHasARule(t *testing.T) {
	seen := map[string]bool{}
	protoregistry.GlobalFiles.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
		if !strings.HasPrefix(string(fd.Package()), "nrm.") {
			return true
		}
		for i := range fd.Services().Len() {
			sd := fd.Services().Get(i)
			for j := range sd.Methods().Len() {
				m := "/" + string(sd.FullName()) + "/" + string(sd.Methods().Get(j).Name())
				seen[m] = true
				rule, ok := Table[m]
				if !ok {
					t.Errorf("%s has no rule in the permission table", m)
					continue
				}
				if len(rule.Roles) == 0 {
					t.Errorf("%s: a rule without roles; remove the method or name who may call it", m)
				}
			}
		}
		return true
	})
	if len(seen) == 0 {
		t.Fatal("no nrm services registered: the API packages are not linked in")
	}
	for m := range Table {
		if !seen[m] {
			t.Errorf("rule for %s, which no service has", m)
		}
	}
}

// docs/security.md shows the table; it must say what the code does.
func TestSecurityDocShowsTheTable(t *testing.T) {
	doc, err := os.ReadFile("../../../docs/security.md")
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "<!-- permission-table:begin -->\n", "<!-- permission-table:end -->"
	s := string(doc)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatalf("docs/security.md lacks the %q … %q markers", strings.TrimSpace(begin), end)
	}
	if got, want := s[i+len(begin):j], Markdown(); got != want {
		t.Errorf("docs/security.md's permission table differs from the code; replace it with:\n%s", want)
	}
}
