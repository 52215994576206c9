package testenv

import (
	"bytes"
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/nrm-albania/nrm/services/platform/app"
)

// Served is a service running for a test.
type Served struct {
	// Conn is a client connection to the service's gRPC port.
	Conn *grpc.ClientConn
	// Bus is the service's NATS namespace, for publishing to it or reading what it published.
	Bus *Bus
	// DB is the name of the service's database.
	DB string
}

// Serve runs a whole service as its binary does (app.Run, every interceptor, health and the
// admin port) on free local ports, connected to a fresh bus namespace, and returns a client
// connection to it. cfg's MongoURI and MongoDatabase are used as given, so a test can point the
// service at a store that is down; empty means the test store and a fresh database. The service
// stops, and must stop cleanly, when the test ends; its log is shown if the test failed.
func Serve(t testing.TB, cfg app.Config, setup app.Setup) *Served {
	t.Helper()
	bus := NewBus(t)
	cfg.GRPCAddr, cfg.AdminAddr = "127.0.0.1:0", "127.0.0.1:0"
	if cfg.MongoURI == "" || cfg.MongoURI == app.Defaults("", "", "").MongoURI {
		cfg.MongoURI, cfg.MongoDatabase = MongoURI(t), Name("t_")
	}
	cfg.NATSURL, cfg.NATSNamespace = bus.URL, string(bus.NS)
	cfg.ShutdownTimeout = 5 * time.Second

	logs := &syncBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s log:\n%s", cfg.Service, logs.String())
		}
	})

	ctx, stop := context.WithCancel(context.Background())
	listening := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() {
		done <- app.Run(ctx, cfg, setup, app.Options{
			LogOutput: logs,
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
	return &Served{Conn: conn, Bus: bus, DB: cfg.MongoDatabase}
}

// syncBuffer is a bytes.Buffer safe for the service's concurrent log writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
