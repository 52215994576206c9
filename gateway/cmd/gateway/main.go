// Command gateway serves the REST/JSON API in front of the services. Settings come from flags and
// NRM_* environment variables (gateway --help lists them).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/nrm-albania/nrm/gateway"
	"github.com/nrm-albania/nrm/services/platform/config"
)

func main() {
	cfg := gateway.Defaults()
	set := config.NewSet("gateway", nil)
	cfg.Bind(set)
	if err := set.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintf(os.Stderr, "gateway: invalid configuration:\n%v\n", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := gateway.Run(ctx, cfg, gateway.Options{})
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "gateway: %v\n", err)
		os.Exit(1)
	}
}
