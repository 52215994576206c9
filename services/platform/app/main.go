package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/nrm-albania/nrm/services/platform/config"
)

// Main is the whole main function of a service binary: it reads the configuration from flags and
// NRM_* variables (the shared ones, and the service's own through binders), runs the service
// until SIGINT or SIGTERM, and exits non-zero on failure.
func Main(defaults Config, setup Setup, binders ...func(*config.Set)) {
	cfg := defaults
	set := config.NewSet(cfg.Service, nil)
	cfg.Bind(set)
	for _, bind := range binders {
		bind(set)
	}
	if err := set.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintf(os.Stderr, "%s: invalid configuration:\n%v\n", cfg.Service, err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := Run(ctx, cfg, setup, Options{}); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", cfg.Service, err)
		os.Exit(1)
	}
}
