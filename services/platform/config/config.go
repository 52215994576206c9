// Package config reads a binary's settings from command-line flags and NRM_* environment
// variables, flags winning, and validates them at start so that a bad setting stops the process
// with an error that names it.
package config

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Set binds settings to a flag set. Every setting has a flag name ("grpc-addr") and the
// environment variable derived from it ("NRM_GRPC_ADDR"); the variable provides the default,
// a flag given on the command line overrides it.
type Set struct {
	fs      *flag.FlagSet
	lookup  func(string) (string, bool)
	envErrs []error
	checks  []func() error
}

// NewSet returns a Set over a new flag set named after the binary. lookup reads the environment;
// nil means os.LookupEnv.
func NewSet(name string, lookup func(string) (string, bool)) *Set {
	if lookup == nil {
		lookup = os.LookupEnv
	}
	return &Set{fs: flag.NewFlagSet(name, flag.ContinueOnError), lookup: lookup}
}

// Apply binds a component's settings with bind and sets them from values, keyed by environment
// variable name, as if they were the whole environment: for launchers and tests that configure
// a component in code.
func Apply(name string, values map[string]string, bind func(*Set)) error {
	set := NewSet(name, func(env string) (string, bool) {
		v, ok := values[env]
		return v, ok
	})
	bind(set)
	return set.Parse(nil)
}

// EnvName is the environment variable that backs the flag name.
func EnvName(flagName string) string {
	return "NRM_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

func (s *Set) describe(name string) string {
	return fmt.Sprintf("%s (--%s)", EnvName(name), name)
}

func (s *Set) env(name string) (string, bool) {
	return s.lookup(EnvName(name))
}

// String binds a string setting.
func (s *Set) String(p *string, name, def, usage string) {
	if v, ok := s.env(name); ok {
		def = v
	}
	s.fs.StringVar(p, name, def, usage+" ["+EnvName(name)+"]")
}

// Duration binds a duration setting ("5s", "1m").
func (s *Set) Duration(p *time.Duration, name string, def time.Duration, usage string) {
	if v, ok := s.env(name); ok {
		d, err := time.ParseDuration(v)
		if err != nil {
			s.envErrs = append(s.envErrs, fmt.Errorf("%s: %q is not a duration such as 5s or 1m", s.describe(name), v))
		} else {
			def = d
		}
	}
	s.fs.DurationVar(p, name, def, usage+" ["+EnvName(name)+"]")
}

// Int binds an integer setting.
func (s *Set) Int(p *int, name string, def int, usage string) {
	if v, ok := s.env(name); ok {
		n, err := strconv.Atoi(v)
		if err != nil {
			s.envErrs = append(s.envErrs, fmt.Errorf("%s: %q is not an integer", s.describe(name), v))
		} else {
			def = n
		}
	}
	s.fs.IntVar(p, name, def, usage+" ["+EnvName(name)+"]")
}

// Bool binds a boolean setting.
func (s *Set) Bool(p *bool, name string, def bool, usage string) {
	if v, ok := s.env(name); ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			s.envErrs = append(s.envErrs, fmt.Errorf("%s: %q is not true or false", s.describe(name), v))
		} else {
			def = b
		}
	}
	s.fs.BoolVar(p, name, def, usage+" ["+EnvName(name)+"]")
}

// Check registers a validation that runs after parsing. It receives nothing: it closes over the
// bound variables. Use the helpers below to produce errors that name the setting.
func (s *Set) Check(f func() error) { s.checks = append(s.checks, f) }

// Parse parses args and runs every check, returning all problems at once.
func (s *Set) Parse(args []string) error {
	if err := s.fs.Parse(args); err != nil {
		return err
	}
	errs := append([]error(nil), s.envErrs...)
	for _, c := range s.checks {
		if err := c(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// FlagSet exposes the underlying flag set, e.g. for usage output.
func (s *Set) FlagSet() *flag.FlagSet { return s.fs }

// RequireAddr checks that a setting is a host:port address.
func (s *Set) RequireAddr(name string, value *string) {
	s.Check(func() error { return CheckAddr(name, *value) })
}

// RequireURL checks that a setting is a URL with one of the given schemes.
func (s *Set) RequireURL(name string, value *string, schemes ...string) {
	s.Check(func() error {
		u, err := url.Parse(*value)
		if err != nil || u.Host == "" {
			return fmt.Errorf("%s: %q is not a URL with a host", s.describe(name), *value)
		}
		for _, sc := range schemes {
			if u.Scheme == sc {
				return nil
			}
		}
		return fmt.Errorf("%s: scheme %q is not one of %s", s.describe(name), u.Scheme, strings.Join(schemes, ", "))
	})
}

// RequirePositive checks that a duration setting is greater than zero.
func (s *Set) RequirePositive(name string, value *time.Duration) {
	s.Check(func() error {
		if *value <= 0 {
			return fmt.Errorf("%s: must be greater than zero, got %s", s.describe(name), *value)
		}
		return nil
	})
}

// RequireOneOf checks that a string setting is one of the allowed values.
func (s *Set) RequireOneOf(name string, value *string, allowed ...string) {
	s.Check(func() error {
		for _, a := range allowed {
			if *value == a {
				return nil
			}
		}
		return fmt.Errorf("%s: %q is not one of %s", s.describe(name), *value, strings.Join(allowed, ", "))
	})
}

// RequireNonEmpty checks that a string setting is set.
func (s *Set) RequireNonEmpty(name string, value *string) {
	s.Check(func() error {
		if strings.TrimSpace(*value) == "" {
			return fmt.Errorf("%s: must be set", s.describe(name))
		}
		return nil
	})
}

// CheckAddr reports whether value is a host:port address, naming the setting if not.
func CheckAddr(name, value string) error {
	if _, _, err := net.SplitHostPort(value); err != nil {
		return fmt.Errorf("%s (--%s): %q is not a host:port address", EnvName(name), name, value)
	}
	return nil
}

// CheckRange reports whether value lies in [lo, hi], naming the setting if not.
func CheckRange(name string, value, lo, hi int) error {
	if value < lo || value > hi {
		return fmt.Errorf("%s (--%s): %d is outside %d..%d", EnvName(name), name, value, lo, hi)
	}
	return nil
}

// CheckPattern reports whether value matches the regular expression, naming the setting if not.
func CheckPattern(name, value, pattern string) error {
	if !regexp.MustCompile(pattern).MatchString(value) {
		return fmt.Errorf("%s (--%s): %q does not match %s", EnvName(name), name, value, pattern)
	}
	return nil
}
