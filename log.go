package main

// Logging: the [log] table and the one logger every part gets.

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
)

// LogConfig is the [log] table. Every package logs through the one
// *slog.Logger that openApp makes from it, to stderr.
type LogConfig struct {
	Format string `toml:"format"` // "text" (logfmt-style key=value) or "json"
	Level  string `toml:"level"`  // "debug", "info", "warn" or "error"
}

var logLevels = map[string]slog.Level{
	"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError,
}

func (c LogConfig) validate(name string) error {
	if c.Format != "text" && c.Format != "json" {
		return configErrorf("%s: log.format: %q is not \"text\" or \"json\"", name, c.Format)
	}
	if _, ok := logLevels[c.Level]; !ok {
		return configErrorf("%s: log.level: %q is not \"debug\", \"info\", \"warn\" or \"error\"", name, c.Level)
	}
	return nil
}

// redacted replaces a secret that reached a log attribute.
const redacted = "<redacted>"

// newLogger returns the logger for cfg, writing to w. Every attribute value is scrubbed of the
// config's secrets (the bot tokens, the webhook secret, the encryption
// key), as a second line of defence: no code path is meant to log them,
// and TestLogsKeepSecrets checks that none does.
func newLogger(cfg Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: logLevels[cfg.Log.Level], ReplaceAttr: scrubber(secretsOf(cfg))}
	if cfg.Log.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// secretsOf returns the secrets in cfg worth scrubbing from logs.
func secretsOf(cfg Config) []string {
	var out []string
	add := func(s string) {
		// Short values would scrub ordinary words; real secrets are long.
		if s = strings.TrimSpace(s); len(s) >= 8 {
			out = append(out, s)
		}
	}
	add(cfg.Telegram.Token)
	if _, secret, ok := strings.Cut(cfg.Telegram.Token, ":"); ok {
		add(secret) // the part of a bot token that matters, alone
	}
	add(cfg.Telegram.Secret)
	add(cfg.Discord.Token)
	if f := cfg.Storage.EncryptionKeyFile; f != "" {
		if b, err := os.ReadFile(f); err == nil { // a bad file is openStore's to report
			add(string(b))
		}
	}
	return out
}

// scrubber returns a ReplaceAttr function that replaces any attribute value
// holding one of secrets.
func scrubber(secrets []string) func([]string, slog.Attr) slog.Attr {
	if len(secrets) == 0 {
		return nil
	}
	return func(_ []string, a slog.Attr) slog.Attr {
		var s string
		switch a.Value.Kind() {
		case slog.KindString:
			s = a.Value.String()
		case slog.KindAny:
			switch v := a.Value.Any().(type) {
			case error:
				s = v.Error()
			case fmt.Stringer:
				s = v.String()
			case []byte:
				s = string(v)
			default:
				return a
			}
		default:
			return a
		}
		for _, secret := range secrets {
			if strings.Contains(s, secret) {
				s = strings.ReplaceAll(s, secret, redacted)
				a.Value = slog.StringValue(s)
			}
		}
		return a
	}
}
