package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
)

func TestNewLogger(t *testing.T) {
	cfg := defaultConfig()
	cfg.Telegram.Token = "123456789:AAHsecretsecretsecretsecretsecret00"
	cfg.Telegram.Secret = "webhook-secret-value"
	tests := []struct {
		name, format, level string
		check               func(t *testing.T, out string)
	}{
		{"Text", "text", "info", func(t *testing.T, out string) {
			if !strings.Contains(out, `level=INFO msg=hello n=1`) || strings.Contains(out, "quiet") {
				t.Fatalf("text at info:\n%s", out)
			}
		}},
		{"JSONDebug", "json", "debug", func(t *testing.T, out string) {
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if len(lines) != 3 {
				t.Fatalf("json at debug: %d lines, want 3:\n%s", len(lines), out)
			}
			var v map[string]any
			if err := json.Unmarshal([]byte(lines[1]), &v); err != nil || v["msg"] != "hello" || v["n"] != 1.0 {
				t.Fatalf("json line %q: %v %v", lines[1], v, err)
			}
		}},
		{"Error", "text", "error", func(t *testing.T, out string) {
			if strings.Contains(out, "hello") || !strings.Contains(out, "level=ERROR") {
				t.Fatalf("text at error:\n%s", out)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := cfg
			c.Log = LogConfig{Format: tt.format, Level: tt.level}
			var b bytes.Buffer
			log := newLogger(c, &b)
			log.Debug("quiet")
			log.Info("hello", "n", 1)
			log.Error("failed", "err", errors.New("call with "+c.Telegram.Token+" failed"), "secret", c.Telegram.Secret)
			out := b.String()
			tt.check(t, out)
			for _, s := range []string{c.Telegram.Token, c.Telegram.Secret, "AAHsecretsecretsecretsecretsecret00"} {
				if strings.Contains(out, s) {
					t.Fatalf("the log holds %q:\n%s", s, out)
				}
			}
			if !strings.Contains(out, redacted) {
				t.Fatalf("the secrets were not replaced by %s:\n%s", redacted, out)
			}
		})
	}
}

func TestLogAndHTTPConfig(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		name, body, want string
	}{
		{"Format", "[log]\nformat = \"yaml\"\n", `log.format: "yaml" is not "text" or "json"`},
		{"Level", "[log]\nlevel = \"trace\"\n", `log.level: "trace" is not`},
		{"Listen", "[http]\nlisten = \"9090\"\n", `http.listen: "9090" is not a host:port address`},
		{"UnknownKey", "[http]\nport = 9090\n", `unknown key "http.port"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := writeFile(t, dir, tt.name+".toml", tt.body)
			_, err := loadConfig(p)
			var ce *configError
			if !errors.As(err, &ce) || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), filepath.Base(p)) {
				t.Fatalf("loadConfig = %v, want a config error naming the file with %q", err, tt.want)
			}
		})
	}
	t.Run("Example", func(t *testing.T) {
		var cfg Config
		md, err := toml.DecodeFile("config.example.toml", &cfg)
		if err != nil {
			t.Fatal(err)
		}
		def := defaultConfig()
		if !reflect.DeepEqual(cfg.Log, def.Log) || !reflect.DeepEqual(cfg.HTTP, def.HTTP) {
			t.Fatalf("config.example.toml: log %+v, http %+v; want the defaults %+v, %+v", cfg.Log, cfg.HTTP, def.Log, def.HTTP)
		}
		for _, k := range [][]string{{"log", "format"}, {"log", "level"}, {"http", "listen"}} {
			if !md.IsDefined(k...) {
				t.Errorf("config.example.toml does not document %s", strings.Join(k, "."))
			}
		}
	})
}
