package piicrypto

import (
	"errors"
	"fmt"
	"io"

	"github.com/nrm-albania/nrm/services/platform/config"
)

// The settings Config binds, as flag names; the variables are NRM_PII_MASTER_KEYS and
// NRM_PII_INDEX_KEY.
const (
	MasterKeysSetting = "pii-master-keys"
	IndexKeySetting   = "pii-index-key"
)

// Config binds the key settings of a service that holds personal data, in the platform's
// config style: flag and NRM_* variable, validated at start with errors that name the setting.
// Unlike other settings, their values are secrets, so:
//
//   - a usage message (-h, or a mistyped flag) does not print them as defaults;
//   - the raw settings are dropped once parsed, and Config formats as a redacted description;
//   - there is no default: a key written in the source would be a key everyone knows.
//
// Set them through the environment (or a secret store that fills it): command-line flags are
// visible to every user of the machine in the process list.
type Config struct {
	// Behind pointers, so that no formatting of a Config can reach the values (see IndexKey).
	raw *rawSettings
	mk  *MasterKeys
	ik  *IndexKey
}

type rawSettings struct{ masterKeys, indexKey string }

// Settings are the key settings' values as environment variables, for a launcher or a test that
// configures a service in code (config.Apply).
func Settings(masterKeys, indexKey string) map[string]string {
	return map[string]string{config.EnvName(MasterKeysSetting): masterKeys, config.EnvName(IndexKeySetting): indexKey}
}

// Bind registers the key settings on s. After s.Parse succeeds, MasterKeys and IndexKey return
// the parsed keys.
func (c *Config) Bind(s *config.Set) {
	c.raw = &rawSettings{}
	s.String(&c.raw.masterKeys, MasterKeysSetting, "",
		"master keys wrapping the per-case data keys: id:base64-key[,id:base64-key…], the primary first (secret: set the variable, not the flag)")
	s.String(&c.raw.indexKey, IndexKeySetting, "",
		"key of the blind indexes for duplicate search, base64, distinct from the master keys (secret: set the variable, not the flag)")
	for _, name := range []string{MasterKeysSetting, IndexKeySetting} {
		// The variable's value became the flag's default, which usage messages print.
		s.FlagSet().Lookup(name).DefValue = ""
	}
	s.Check(c.load)
}

func (c *Config) load() error {
	var errs []error
	mk, err := ParseMasterKeys(c.raw.masterKeys)
	if err != nil {
		errs = append(errs, fmt.Errorf("%s (--%s): %w", config.EnvName(MasterKeysSetting), MasterKeysSetting, err))
	}
	ik, err := ParseIndexKey(c.raw.indexKey)
	if err != nil {
		errs = append(errs, fmt.Errorf("%s (--%s): %w", config.EnvName(IndexKeySetting), IndexKeySetting, err))
	}
	if mk != nil && ik != nil {
		if err := CheckSeparate(mk, ik); err != nil {
			errs = append(errs, fmt.Errorf("%s (--%s): %w", config.EnvName(IndexKeySetting), IndexKeySetting, err))
		}
	}
	// Drop the settings' text: the flag values point here, and nothing needs them any more.
	*c.raw = rawSettings{}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	c.mk, c.ik = mk, ik
	return nil
}

// MasterKeys returns the parsed master keys, nil before a successful Parse.
func (c *Config) MasterKeys() *MasterKeys { return c.mk }

// IndexKey returns the parsed index key, nil before a successful Parse.
func (c *Config) IndexKey() *IndexKey { return c.ik }

// String describes the configuration without key material.
func (c Config) String() string {
	if c.mk == nil {
		return "piicrypto.Config(not loaded)"
	}
	return fmt.Sprintf("piicrypto.Config{master keys: primary %q, ids %q; index key: REDACTED}", c.mk.primary, c.mk.ids)
}

// GoString is String, for %#v.
func (c Config) GoString() string { return c.String() }

// Format prints String for every verb.
func (c Config) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, c.String()) }
