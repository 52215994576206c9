// Command nrm is the developer's launcher and the operators' tool.
//
//	nrm run     the whole system on embedded defaults (what `make run` calls)
//	nrm store   FerretDB alone, e.g. on PostgreSQL for the external integration run in CI
//	nrm audit verify   prove a service's audit chain intact, or name the first bad record
//	nrm events list    events or dead letters of a stream as JSON lines, decoded
//	nrm events replay  republish dead letters to their original subjects, and remove them
//	nrm deploy-secrets the keys and tokens deploy/compose.yaml needs, into deploy/secrets
//
// Settings come from flags or NRM_* variables; `nrm run --help` lists them.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/nrm-albania/nrm/services/platform/audit"
	"github.com/nrm-albania/nrm/services/platform/auth"
	"github.com/nrm-albania/nrm/services/platform/config"
	"github.com/nrm-albania/nrm/services/platform/embedded"
	"github.com/nrm-albania/nrm/tools/stack"
)

func main() {
	cmd, args, err := command(os.Args[1:])
	if err != nil {
		fmt.Fprintf(os.Stderr, "nrm: %v\n", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch cmd {
	case "run":
		err = run(ctx, args)
	case "store":
		err = store(ctx, args)
	case "audit verify":
		err = verifyAudit(ctx, args)
	case "events list":
		err = listEventsCommand(ctx, args, os.Stdout, time.Now)
	case "events replay":
		err = replayEventCommand(ctx, args, os.Stdout)
	case "deploy-secrets":
		err = deploySecretsCommand(args, os.Stdout, time.Now)
	}
	switch {
	case errors.Is(err, flag.ErrHelp):
	case err != nil:
		fmt.Fprintf(os.Stderr, "nrm %s: %v\n", cmd, err)
		os.Exit(1)
	}
}

// commands are the commands nrm knows; none named (flags alone, or nothing) is "run".
var commands = []string{"run", "store", "audit verify", "events list", "events replay", "deploy-secrets"}

// command splits the arguments into the command they name and its own arguments. A first word
// that names no command is refused rather than taken for `run`'s, which would start the system.
func command(args []string) (string, []string, error) {
	for _, c := range commands {
		words := strings.Fields(c)
		if len(args) >= len(words) && slices.Equal(args[:len(words)], words) {
			return c, args[len(words):], nil
		}
	}
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return "run", args, nil
	}
	return "", nil, fmt.Errorf("unknown command %q; the commands are: %s", strings.Join(args, " "), strings.Join(commands, ", "))
}

func run(ctx context.Context, args []string) error {
	o := stack.Options{DataDir: ".nrm", EmbeddedMongoAddr: "127.0.0.1:27117", EmbeddedNATSAddr: "127.0.0.1:14222", MailCatcher: true}
	var logFile string
	set := config.NewSet("nrm run", nil)
	set.String(&o.DataDir, "data-dir", o.DataDir, "where the embedded FerretDB and NATS keep their data")
	set.String(&o.MongoURI, "mongo-uri", "", "external MongoDB or FerretDB instead of the embedded one")
	set.String(&o.FerretDBPostgreSQLURL, "ferretdb-postgres-url", "", "run the embedded FerretDB on this PostgreSQL instead of SQLite")
	set.String(&o.NATSURL, "nats-url", "", "external NATS (JetStream) instead of the embedded one")
	set.String(&o.EmbeddedMongoAddr, "embedded-mongo-addr", o.EmbeddedMongoAddr, "listen address of the embedded FerretDB")
	set.String(&o.EmbeddedNATSAddr, "embedded-nats-addr", o.EmbeddedNATSAddr, "listen address of the embedded NATS")
	set.String(&o.LogLevel, "log-level", "info", "log level of every component")
	set.String(&logFile, "log-file", "", "write the components' JSON logs here instead of standard output")
	set.Bool(&o.Ephemeral, "ephemeral-ports", false, "bind every service and the gateway to free ports (printed) instead of the fixed ones")
	set.RequireNonEmpty("data-dir", &o.DataDir)
	set.RequireAddr("embedded-mongo-addr", &o.EmbeddedMongoAddr)
	set.RequireAddr("embedded-nats-addr", &o.EmbeddedNATSAddr)
	if err := set.Parse(args); err != nil {
		return err
	}
	if err := os.MkdirAll(o.DataDir, 0o700); err != nil {
		return err
	}
	o.LogOutput = os.Stdout
	if logFile != "" {
		f, err := os.OpenFile(logFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err != nil {
			return err
		}
		defer f.Close()
		o.LogOutput = f
	}
	s, err := stack.Start(o)
	if err != nil {
		return err
	}
	banner(os.Stderr, s, o.DataDir)
	select {
	case <-ctx.Done():
		fmt.Fprintln(os.Stderr, "stopping…")
	case err = <-s.Err():
	}
	s.Stop()
	return err
}

func banner(w io.Writer, s *stack.Stack, dataDir string) {
	fmt.Fprintln(w, "\nThe Responsible Authority's system is running. Ctrl-C stops it.")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "component\tgRPC / HTTP\tadmin (healthz, readyz, metrics, pprof)")
	for _, svc := range s.Services {
		fmt.Fprintf(tw, "%s\t%s\thttp://%s\n", svc.Name, svc.GRPCAddr, svc.AdminAddr)
	}
	tw.Flush()
	fmt.Fprintf(w, "REST API:  %s/v1/...   OpenAPI: %s/openapi.json\n", s.GatewayURL, s.GatewayURL)
	fmt.Fprintf(w, "MongoDB:   %s\nNATS:      %s\nData:      %s\n", s.MongoURI, s.NATSURL, dataDir)
	if s.MailURL != "" {
		fmt.Fprintf(w, "Mail:      %s (SMTP %s; every message also in %s)\n", s.MailURL, s.MailSMTPAddr, s.MailDir)
	}
	fmt.Fprintf(w, "\nDevelopment tokens (also in %s; `source` it):\n", filepath.Join(dataDir, auth.DevTokensFile))
	for _, t := range s.Tokens {
		fmt.Fprintf(w, "  %s=%s\n", t.Name, t.Token)
	}
	fmt.Fprintf(w, "\ncurl -H \"Authorization: Bearer $NRM_TOKEN_SECRETARIAT\" %s/v1/members\n\n", s.GatewayURL)
}

func store(ctx context.Context, args []string) error {
	o := embedded.FerretDBOptions{Addr: "127.0.0.1:27018"}
	set := config.NewSet("nrm store", nil)
	set.String(&o.Addr, "embedded-mongo-addr", o.Addr, "listen address")
	set.String(&o.PostgreSQLURL, "ferretdb-postgres-url", "", "PostgreSQL backend (else SQLite under --data-dir)")
	set.String(&o.SQLiteDir, "data-dir", "", "SQLite backend directory")
	set.RequireAddr("embedded-mongo-addr", &o.Addr)
	if err := set.Parse(args); err != nil {
		return err
	}
	f, err := embedded.StartFerretDB(o)
	if err != nil {
		return err
	}
	defer f.Stop()
	fmt.Println(f.URI())
	<-ctx.Done()
	return nil
}

// errBroken is the exit of a verification that found the chain broken: the report says where.
var errBroken = errors.New("the audit chain is broken")

func verifyAudit(ctx context.Context, args []string) error {
	var uri, database, anchor, object string
	set := config.NewSet("nrm audit verify", nil)
	set.String(&uri, "mongo-uri", "mongodb://127.0.0.1:27117/", "the service's MongoDB")
	set.String(&database, "mongo-database", "nrm_caseregistry", "the service's database")
	set.String(&anchor, "anchor", "", "a head seen outside the database (seq:hash), to detect truncation")
	set.String(&object, "object", "", "verify only the records of this object (a case id), at the cost of its records")
	set.RequireNonEmpty("mongo-database", &database)
	if err := set.Parse(args); err != nil {
		return err
	}
	var anchors []audit.Anchor
	if anchor != "" {
		if object != "" {
			return errors.New("--anchor applies to the whole chain, not to --object")
		}
		a, err := audit.ParseAnchor(anchor)
		if err != nil {
			return fmt.Errorf("--anchor: %w", err)
		}
		anchors = append(anchors, a)
	}
	var intact bool
	var err error
	if object != "" {
		intact, err = audit.VerifyObjectCommand(ctx, uri, database, object, os.Stdout)
	} else {
		intact, err = audit.VerifyCommand(ctx, uri, database, os.Stdout, anchors...)
	}
	if err != nil {
		return err
	}
	if !intact {
		return errBroken
	}
	return nil
}
