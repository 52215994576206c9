package authz_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	caseregistryv1 "github.com/nrm-albania/nrm/proto/nrm/caseregistry/v1"
	"github.com/nrm-albania/nrm/services/platform/audit"
	"github.com/nrm-albania/nrm/services/platform/auth"
	"github.com/nrm-albania/nrm/services/platform/authz"
	"github.com/nrm-albania/nrm/services/platform/testenv"
)

type noRelay struct{}

func (noRelay) Notify() {}

// An id field that holds no id (a name typed into GET /v1/cases/{id}, say) is recorded as
// "invalid", never as given; ids and case codes are recorded as they are; the purpose recorded
// is the one the guard admitted.
func TestRecorderRecordsOnlyWellFormedIDs(t *testing.T) {
	db := testenv.Database(t)
	r := authz.NewRecorder(audit.NewTrail(db, "caseregistry", noRelay{}), authz.Table, slog.New(slog.DiscardHandler), prometheus.NewRegistry())
	ctx := auth.NewContext(context.Background(), &auth.Principal{Institution: "ASP-ANTITRAF", Subject: "officer-7", Roles: []auth.Role{auth.RoleCaseworker}})
	ctx = authz.WithPurpose(ctx, authz.Purpose{Code: "referral", Ref: "REF-2026-0042"})
	for _, tt := range []struct {
		id, want string
	}{
		{"Arta Hoxha", authz.InvalidObjectID},
		{"arta.hoxha@example.com", authz.InvalidObjectID},
		{"0192f0c1-7d5e-7a31-9c4b-2f1e8d6a5b40", "0192f0c1-7d5e-7a31-9c4b-2f1e8d6a5b40"},
		{"VT-2026-00042", "VT-2026-00042"},
		{"VT-2026-Hoxha", authz.InvalidObjectID},
		{"sha256:" + strings.Repeat("0f", 32), "sha256:" + strings.Repeat("0f", 32)},
		{"sha256:Arta", authz.InvalidObjectID},
		{"MB-SEK-2026-0001", "MB-SEK-2026-0001"},
		{"MB-SEK-2026-Hoxha", authz.InvalidObjectID},
		{"{0192f0c1-7d5e-7a31-9c4b-2f1e8d6a5b40}", authz.InvalidObjectID},
	} {
		if err := r.Audit(ctx, caseregistryv1.CaseRegistryService_GetCase_FullMethodName, &caseregistryv1.GetCaseRequest{Id: tt.id}, nil, nil); err != nil {
			t.Fatal(err)
		}
		var rec struct {
			ObjectIDs []string `bson:"object_ids"`
			Purpose   string   `bson:"purpose"`
		}
		cur, err := db.Collection(audit.Collection).Find(t.Context(), bson.D{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
		if err != nil {
			t.Fatal(err)
		}
		var all []bson.Raw
		if err := cur.All(t.Context(), &all); err != nil {
			t.Fatal(err)
		}
		if err := bson.Unmarshal(all[len(all)-1], &rec); err != nil {
			t.Fatal(err)
		}
		if len(rec.ObjectIDs) != 1 || rec.ObjectIDs[0] != tt.want || rec.Purpose != "referral;ref=REF-2026-0042" {
			t.Errorf("GetCase of %q recorded %+v, want object %q", tt.id, rec, tt.want)
		}
		for _, raw := range all {
			if strings.Contains(raw.String(), "Hoxha") {
				t.Errorf("a name reached the audit trail: %s", raw)
			}
		}
	}
}
