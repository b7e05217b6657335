package main

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/trustbot/trustbot/bot"
)

// Config is trustbot's one config file. Every key is documented in
// config.example.toml.
type Config struct {
	Storage   StorageConfig   `toml:"storage"`
	Content   ContentConfig   `toml:"content"`
	Scheduler SchedulerConfig `toml:"scheduler"`
}

type StorageConfig struct {
	Path string `toml:"path"`
}

type ContentConfig struct {
	Program string `toml:"program"` // a program file; empty means the embedded one
}

type SchedulerConfig struct {
	Tick            string `toml:"tick"`
	DefaultTime     string `toml:"default_time"`
	DefaultTimezone string `toml:"default_timezone"`
}

// configError is a problem with the config file or flags: exit code 2.
type configError struct{ msg string }

func (e *configError) Error() string { return e.msg }

func configErrorf(format string, args ...any) error {
	return &configError{msg: fmt.Sprintf(format, args...)}
}

func defaultConfig() Config {
	return Config{
		Storage:   StorageConfig{Path: "trustbot.db"},
		Scheduler: SchedulerConfig{Tick: "@every 1m", DefaultTime: "20:00", DefaultTimezone: "UTC"},
	}
}

// loadConfig reads path strictly: unknown keys are errors naming the file,
// line and key. An empty path gives the defaults.
func loadConfig(path string) (Config, error) {
	cfg := defaultConfig()
	if path == "" {
		return cfg, cfg.validate("defaults")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return cfg, configErrorf("read config: %v", err)
	}
	if err := parseConfig(path, data, &cfg); err != nil {
		return cfg, err
	}
	return cfg, cfg.validate(path)
}

func parseConfig(name string, data []byte, cfg *Config) error {
	md, err := toml.Decode(string(data), cfg)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return configErrorf("%s:%d: %s", name, pe.Position.Line, pe.Message)
		}
		return configErrorf("%s: %v", name, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		var msgs []string
		for _, k := range und {
			msgs = append(msgs, fmt.Sprintf("%s:%d: unknown key %q (see config.example.toml for the keys trustbot reads)", name, keyLine(data, k), k.String()))
		}
		sort.Strings(msgs)
		return configErrorf("%s", strings.Join(msgs, "\n"))
	}
	return nil
}

func (c Config) validate(name string) error {
	if _, err := bot.ParseClock(c.Scheduler.DefaultTime); err != nil {
		return configErrorf("%s: scheduler.default_time: %q is not a 24-hour HH:MM time, like \"20:00\"", name, c.Scheduler.DefaultTime)
	}
	if _, _, err := bot.ParseTimeZone(c.Scheduler.DefaultTimezone); err != nil {
		return configErrorf("%s: scheduler.default_timezone: %q is not an IANA time zone, like \"Europe/Berlin\"", name, c.Scheduler.DefaultTimezone)
	}
	if strings.TrimSpace(c.Storage.Path) == "" {
		return configErrorf("%s: storage.path: must not be empty (a file path such as \"trustbot.db\")", name)
	}
	return nil
}

// keyLine finds the line where key k is written, for error messages: the
// TOML library keeps key positions private. It returns 0 if not found.
func keyLine(data []byte, k toml.Key) int {
	if len(k) == 0 {
		return 0
	}
	table := strings.Join(k[:len(k)-1], ".")
	current := ""
	for i, line := range strings.Split(string(data), "\n") {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, "[") {
			name := strings.Trim(t, "[] \t")
			if j := strings.Index(name, "]"); j >= 0 {
				name = name[:j]
			}
			current = strings.TrimSpace(name)
			if current == k.String() { // an unknown table
				return i + 1
			}
			continue
		}
		key, _, ok := strings.Cut(t, "=")
		if !ok {
			continue
		}
		key = strings.Trim(strings.TrimSpace(key), `"'`)
		if current == table && key == k[len(k)-1] || current == "" && key == k.String() {
			return i + 1
		}
	}
	return 0
}
