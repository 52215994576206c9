package testenv

import (
	"context"
	"io"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/nrm-albania/nrm/services/platform/app"
)

// Serve runs a whole service as its binary does (app.Run, every interceptor, health and the
// admin port) on free local ports, connected to a fresh bus namespace, and returns a client
// connection to it. cfg's MongoURI and MongoDatabase are used as given, so a test can point the
// service at a store that is down; empty means the test store and a fresh database. The service
// stops, and must stop cleanly, when the test ends.
func Serve(t testing.TB, cfg app.Config, setup app.Setup) *grpc.ClientConn {
	t.Helper()
	bus := NewBus(t)
	cfg.GRPCAddr, cfg.AdminAddr = "127.0.0.1:0", "127.0.0.1:0"
	if cfg.MongoURI == "" || cfg.MongoURI == app.Defaults("", "", "").MongoURI {
		cfg.MongoURI, cfg.MongoDatabase = MongoURI(t), Name("t_")
	}
	cfg.NATSURL, cfg.NATSNamespace = bus.URL, string(bus.NS)
	cfg.ShutdownTimeout = 5 * time.Second

	ctx, stop := context.WithCancel(context.Background())
	listening := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() {
		done <- app.Run(ctx, cfg, setup, app.Options{
			LogOutput: io.Discard,
			Listening: func(grpcAddr, _ net.Addr) { listening <- grpcAddr },
		})
	}()
	var addr net.Addr
	select {
	case addr = <-listening:
	case err := <-done:
		stop()
		t.Fatalf("%s did not start: %v", cfg.Service, err)
	}
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("%s stopped with %v", cfg.Service, err)
		}
	})
	conn, err := grpc.NewClient(addr.String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}
