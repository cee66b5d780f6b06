package cases

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/BurntSushi/toml"
)

// Config is STORE/config.toml: the server (and proxy) that reviewer init
// remembers, so a team member can simply run reviewer sync.
type Config struct {
	Server string `toml:"server"`
	Proxy  string `toml:"proxy,omitempty"`
	// TorControl and OnionAuthDir say where this computer's tor takes the
	// member's onion key for an onion server (TorOptions); empty means
	// the usual places.
	TorControl   string `toml:"tor_control,omitempty"`
	OnionAuthDir string `toml:"onion_auth_dir,omitempty"`
	// Lang is the language of the desk's guidance for the lead (reviewer
	// init --lang); empty means this computer's language, else English.
	Lang string `toml:"lang,omitempty"`
}

// Tor returns the config's TorOptions.
func (c Config) Tor() TorOptions {
	return TorOptions{Control: c.TorControl, OnionAuthDir: c.OnionAuthDir}
}

const configFile = "config.toml"

// LoadConfig reads STORE/config.toml; a missing file is an empty config.
func LoadConfig(dir string) (Config, error) {
	var c Config
	data, err := os.ReadFile(filepath.Join(dir, configFile))
	if errors.Is(err, os.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return c, fmt.Errorf("failed to read settings: %w", err)
	}
	if _, err := toml.Decode(string(data), &c); err != nil {
		return c, fmt.Errorf("the settings file %s is not valid; fix or remove it and run reviewer init again", filepath.Join(dir, configFile))
	}
	return c, nil
}

// SaveConfig writes STORE/config.toml, replacing it atomically.
func SaveConfig(dir string, c Config) error {
	var b bytes.Buffer
	b.WriteString("# Written by reviewer init. Server and proxy for reviewer sync; the desk's language.\n")
	if err := toml.NewEncoder(&b).Encode(c); err != nil {
		return err
	}
	return writeReplace(filepath.Join(dir, configFile), b.Bytes(), 0o600)
}

func writeReplace(path string, data []byte, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp := path + ".tmp"
	os.Remove(tmp)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fmt.Errorf("failed to write %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
