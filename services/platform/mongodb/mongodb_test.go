package mongodb_test

import (
	"context"
	"sync"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/nrm-albania/nrm/services/platform/mongodb"
	"github.com/nrm-albania/nrm/services/platform/testenv"
)

// sent records the commands a client sends.
type sent struct {
	mu       sync.Mutex
	commands map[string]bson.Raw
}

func (s *sent) started(_ context.Context, e *event.CommandStartedEvent) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.commands[e.CommandName] = e.Command
}

func (s *sent) command(t *testing.T, name string) bson.Raw {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.commands[name]
	if !ok {
		t.Fatalf("no %s command was sent", name)
	}
	return c
}

// The services' writes are acknowledged only once a majority of the replica set has them in its
// journal, and their reads see only what a majority has: "the insert is the commit" must not be
// undone by a failover. The client the services get from Options asks for both on every
// command, and the store the tests run against (FerretDB) accepts them.
func TestTheServicesClientWritesAndReadsMajorityCommittedData(t *testing.T) {
	ctx := context.Background()
	rec := &sent{commands: map[string]bson.Raw{}}
	opts := mongodb.Options(testenv.MongoURI(t), "nrm-test").SetMonitor(&event.CommandMonitor{Started: rec.started})
	client, err := mongo.Connect(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Disconnect(ctx)
	coll := client.Database(testenv.Name("t_")).Collection("things")
	defer coll.Database().Drop(ctx)

	if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: "a"}}); err != nil {
		t.Fatalf("insert with write concern majority: %v", err)
	}
	if _, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: "a"}}, bson.D{{Key: "$set", Value: bson.D{{Key: "x", Value: 1}}}}); err != nil {
		t.Fatalf("update with write concern majority: %v", err)
	}
	var got bson.M
	if err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: "a"}}).Decode(&got); err != nil {
		t.Fatalf("find with read concern majority: %v", err)
	}
	if got["x"] != int32(1) {
		t.Errorf("read %v, want the update", got)
	}

	for _, name := range []string{"insert", "update"} {
		wc, err := rec.command(t, name).LookupErr("writeConcern")
		if err != nil {
			t.Errorf("%s sent without a write concern", name)
			continue
		}
		if w, _ := wc.Document().Lookup("w").StringValueOK(); w != "majority" {
			t.Errorf("%s write concern %v, want w: majority", name, wc)
		}
		if j, _ := wc.Document().Lookup("j").BooleanOK(); !j {
			t.Errorf("%s write concern %v, want j: true", name, wc)
		}
	}
	rc, err := rec.command(t, "find").LookupErr("readConcern")
	if err != nil {
		t.Fatal("find sent without a read concern")
	}
	if level, _ := rc.Document().Lookup("level").StringValueOK(); level != "majority" {
		t.Errorf("find read concern %v, want level: majority", rc)
	}
}
