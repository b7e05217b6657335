package main

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/trustbot/trustbot/bot"
	"github.com/trustbot/trustbot/scheduler"
)

// Config is trustbot's one config file. Every key is documented in
// config.example.toml.
type Config struct {
	Storage   StorageConfig   `toml:"storage"`
	Content   ContentConfig   `toml:"content"`
	Scheduler SchedulerConfig `toml:"scheduler"`
	Telegram  TelegramConfig  `toml:"telegram"`
	Discord   DiscordConfig   `toml:"discord"`
	Admin     AdminConfig     `toml:"admin"` // see ops.go
	Log       LogConfig       `toml:"log"`   // see log.go
	HTTP      HTTPConfig      `toml:"http"`  // see http.go
}

type StorageConfig struct {
	Path string `toml:"path"`
	// EncryptionKeyFile seals journals at rest with the key in it (made by
	// trustbot keygen); empty stores them in the clear.
	EncryptionKeyFile string `toml:"encryption_key_file"`
	// Plaintext lets serve run Telegram without a key, on purpose.
	Plaintext bool `toml:"plaintext"`
}

// TelegramConfig is the [telegram] table; serve_telegram.go turns it into
// the adapter's options. TELEGRAM_BOT_TOKEN and TELEGRAM_WEBHOOK_SECRET
// override token and secret, so that neither needs to be in the file.
type TelegramConfig struct {
	Enabled   bool   `toml:"enabled"`
	Token     string `toml:"token"`
	APIURL    string `toml:"api_url"`
	Mode      string `toml:"mode"` // "polling" or "webhook"
	Listen    string `toml:"listen"`
	PublicURL string `toml:"public_url"`
	Secret    string `toml:"secret"`
	RateLimit int    `toml:"rate_limit"` // messages per second; 0 = no pacing
}

// DiscordConfig is the [discord] table; serve_discord.go turns it into the
// adapter's options. DISCORD_BOT_TOKEN overrides token.
type DiscordConfig struct {
	Enabled       bool   `toml:"enabled"`
	Token         string `toml:"token"`
	ApplicationID string `toml:"application_id"`
	GuildID       string `toml:"guild_id"`
	APIURL        string `toml:"api_url"`
	GatewayURL    string `toml:"gateway_url"`
}

type ContentConfig struct {
	Program string `toml:"program"` // a program file; empty means the embedded one
}

type SchedulerConfig struct {
	Tick            string `toml:"tick"`
	DefaultTime     string `toml:"default_time"`
	DefaultTimezone string `toml:"default_timezone"`
	QuietStart      string `toml:"quiet_start"`
	QuietEnd        string `toml:"quiet_end"`
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
		Scheduler: SchedulerConfig{Tick: "@every 1m", DefaultTime: "20:00", DefaultTimezone: "UTC", QuietStart: "22:00", QuietEnd: "08:00"},
		Telegram:  defaultTelegramConfig(),
		Discord:   defaultDiscordConfig(),
		Log:       LogConfig{Format: "text", Level: "info"},
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
	cfg.Telegram.fromEnv()
	cfg.Discord.fromEnv()
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
	if err := scheduler.CheckTick(c.Scheduler.Tick); err != nil {
		return configErrorf("%s: scheduler.tick: %q is not a robfig/cron schedule, like \"@every 1m\" or \"*/5 * * * *\" (%v)", name, c.Scheduler.Tick, err)
	}
	for _, k := range []struct{ key, v string }{{"quiet_start", c.Scheduler.QuietStart}, {"quiet_end", c.Scheduler.QuietEnd}} {
		if _, err := bot.ParseClock(k.v); err != nil {
			return configErrorf("%s: scheduler.%s: %q is not a 24-hour HH:MM time, like \"22:00\"", name, k.key, k.v)
		}
	}
	if strings.TrimSpace(c.Storage.Path) == "" {
		return configErrorf("%s: storage.path: must not be empty (a file path such as \"trustbot.db\")", name)
	}
	if err := c.validateOps(name); err != nil {
		return err
	}
	if err := c.Log.validate(name); err != nil {
		return err
	}
	if err := c.HTTP.validate(name); err != nil {
		return err
	}
	if err := c.Telegram.validate(); err != nil {
		return configErrorf("%s: %v", name, err) // names the key; never quotes the token
	}
	if err := c.Discord.validate(); err != nil {
		return configErrorf("%s: %v", name, err) // names the key; never quotes the token
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
