// Package embedded starts, inside the current process, the two dependencies of the system: a
// NATS server with JetStream and FerretDB (the MongoDB wire protocol on SQLite or PostgreSQL).
// The dev launcher and the tests use it; production runs the real servers.
package embedded

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
	"github.com/nats-io/nats-server/v2/server"
)

// NATS is a running embedded NATS server.
type NATS struct{ srv *server.Server }

// StartNATS starts NATS with JetStream on addr ("127.0.0.1:4222"; port 0 picks a free one),
// storing streams under dir, which survives restarts.
func StartNATS(addr, dir string) (*NATS, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("nats address %q: %w", addr, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil, fmt.Errorf("nats port %q: %w", portStr, err)
	}
	if port == 0 {
		port = server.RANDOM_PORT
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	srv, err := server.NewServer(&server.Options{
		ServerName: "nrm-embedded",
		Host:       host,
		Port:       port,
		JetStream:  true,
		StoreDir:   dir,
		NoSigs:     true,
		// JetStream syncs its files to disk periodically; an acknowledged publish is in the
		// file (and the OS cache) already, so a killed process loses nothing acknowledged.
	})
	if err != nil {
		return nil, fmt.Errorf("nats server: %w", err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		srv.Shutdown()
		return nil, fmt.Errorf("nats server on %s did not start within 10s", addr)
	}
	return &NATS{srv: srv}, nil
}

// URL is the client URL of the server.
func (n *NATS) URL() string { return n.srv.ClientURL() }

// Stop shuts the server down and waits for it.
func (n *NATS) Stop() {
	n.srv.Shutdown()
	n.srv.WaitForShutdown()
}

// FerretDB is a running embedded FerretDB.
type FerretDB struct {
	f      *ferretdb.FerretDB
	cancel context.CancelFunc
	done   chan struct{}
	uri    string
	// index adds the indexes FerretDB's lookups by _id need (idindexes.go); indexing is closed
	// when the loop that runs it has stopped.
	index    func(context.Context) (int, error)
	indexing chan struct{}
}

// FerretDBOptions says where FerretDB listens and stores. Exactly one of SQLiteDir and
// PostgreSQLURL is set.
type FerretDBOptions struct {
	Addr          string // "127.0.0.1:27017"; port 0 picks a free one
	SQLiteDir     string
	PostgreSQLURL string
	Logger        *slog.Logger // nil: errors to standard error
}

// StartFerretDB starts FerretDB.
func StartFerretDB(o FerretDBOptions) (*FerretDB, error) {
	var sqliteDir string
	log := o.Logger
	if log == nil {
		// FerretDB warns about every MongoDB command it lacks (endSessions at each client's
		// disconnect, say); only its errors concern an operator.
		log = slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})).With("component", "ferretdb")
	}
	cfg := &ferretdb.Config{Listener: ferretdb.ListenerConfig{TCP: o.Addr}, Logger: slog.New(withoutDuplicateKeys{log.Handler()})}
	switch {
	case o.PostgreSQLURL != "" && o.SQLiteDir != "":
		return nil, fmt.Errorf("ferretdb: choose SQLite or PostgreSQL, not both")
	case o.PostgreSQLURL != "":
		pgURL, err := plannerSettings(o.PostgreSQLURL)
		if err != nil {
			return nil, err
		}
		cfg.Handler, cfg.PostgreSQLURL = "postgresql", pgURL
	case o.SQLiteDir != "":
		dir, err := filepath.Abs(o.SQLiteDir)
		if err != nil {
			return nil, err
		}
		sqliteDir = dir
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, err
		}
		cfg.Handler, cfg.SQLiteURL = "sqlite", "file:"+dir+"/"
	default:
		return nil, fmt.Errorf("ferretdb: a SQLite directory or a PostgreSQL URL is required")
	}
	// FerretDB leaves its backend open when it cannot bind, and its leak checker then panics at
	// the next garbage collection; so find out first whether the address is free.
	if probe, err := net.Listen("tcp", o.Addr); err != nil {
		return nil, fmt.Errorf("ferretdb cannot listen on %s: %w", o.Addr, err)
	} else if err := probe.Close(); err != nil {
		return nil, err
	}
	f, err := ferretdb.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("ferretdb: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = f.Run(ctx)
	}()
	fd := &FerretDB{f: f, cancel: cancel, done: done}
	if err := fd.waitListening(10 * time.Second); err != nil {
		fd.Stop()
		return nil, err
	}
	fd.index = func(ctx context.Context) (int, error) { return IndexSQLite(ctx, sqliteDir) }
	if o.PostgreSQLURL != "" {
		fd.index = func(ctx context.Context) (int, error) { return IndexPostgreSQL(ctx, o.PostgreSQLURL) }
	}
	fd.indexing = make(chan struct{})
	go func() {
		defer close(fd.indexing)
		indexLoop(ctx, fd.index, 5*time.Second, cfg.Logger)
	}()
	return fd, nil
}

// waitListening waits until FerretDB's listener is bound; its own accessor would block for ever
// if binding failed after all (the port taken between the probe and FerretDB's bind), hence the
// deadline.
func (f *FerretDB) waitListening(within time.Duration) error {
	bound := make(chan string, 1)
	go func() { bound <- f.f.MongoDBURI() }()
	select {
	case f.uri = <-bound:
		return nil
	case <-f.done:
		return fmt.Errorf("ferretdb stopped before listening")
	case <-time.After(within):
		return fmt.Errorf("ferretdb did not listen within %s (is the port taken?)", within)
	}
}

// URI is the MongoDB connection string of the server.
func (f *FerretDB) URI() string { return f.uri }

// IndexNow adds, without waiting for the next round of the loop, the indexes that the tables
// created since lack; for a benchmark that has just filled a collection.
func (f *FerretDB) IndexNow(ctx context.Context) error {
	_, err := f.index(ctx)
	return err
}

// Stop shuts FerretDB down and waits for it to close its storage.
func (f *FerretDB) Stop() {
	f.cancel()
	<-f.done
	<-f.indexing
}
