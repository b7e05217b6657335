package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/trustbot/trustbot/adapters/telegram/telegramtest"
)

// writeConfig writes a config with a [telegram] table to a temp file.
func writeConfig(t *testing.T, telegram string) string {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, "config.toml")
	// plaintext: these tests are about [telegram], not about sealing journals.
	body := fmt.Sprintf("[storage]\npath = %q\nplaintext = true\n\n[telegram]\n%s\n", filepath.Join(dir, "trustbot.db"), telegram)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// serve runs `trustbot serve -config path` until ctx is done and returns
// its exit code and output.
func serve(ctx context.Context, path string) (code int, out string) {
	var stdout, stderr bytes.Buffer
	err := run(ctx, []string{"serve", "-config", path}, strings.NewReader(""), &stdout, &stderr)
	code = exitCode(err, &stderr)
	return code, stdout.String() + stderr.String()
}

// TestServeTelegram: serve with [telegram] enabled talks to the Bot API
// (the fake) end to end, and stops cleanly with exit 0.
func TestServeTelegram(t *testing.T) {
	api := telegramtest.NewServer(t, telegramtest.Options{})
	cfg := writeConfig(t, fmt.Sprintf("enabled = true\ntoken = %q\napi_url = %q\n", api.Token, api.URL))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var out string
	go func() {
		var code int
		code, out = serve(ctx, cfg)
		done <- code
	}()
	u := telegramtest.User{ID: 77, FirstName: "Robin"}
	api.SendText(u, telegramtest.Private(u), "/start")
	msgs := api.WaitMessages(t, u.ID, 1, 30*time.Second)
	if !strings.Contains(msgs[0].Text, "Rebuilding trust") {
		t.Fatalf("/start through serve: got %q", msgs[0].Text)
	}
	if len(api.Commands()) == 0 {
		t.Fatal("serve did not set the command menu")
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("serve exited %d:\n%s", code, out)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop after cancel")
	}
}

// TestServeTelegramErrors: config mistakes exit 2, an unreachable Bot API
// exits 1, and no message ever shows the token.
func TestServeTelegramErrors(t *testing.T) {
	api := telegramtest.NewServer(t, telegramtest.Options{})
	down := httptest.NewServer(http.NotFoundHandler())
	downURL := down.URL
	down.Close()
	valid := api.Token
	tests := []struct {
		name     string
		table    string
		env      map[string]string
		code     int
		contains string
	}{
		{"NoToken", "enabled = true", nil, 2, "telegram.token: is empty"},
		{"MalformedToken", `enabled = true` + "\n" + `token = "bot` + valid + `"`, nil, 2, "telegram.token: does not look like a bot token"},
		{"MalformedTokenFromEnv", "enabled = true", map[string]string{"TELEGRAM_BOT_TOKEN": valid + "\n"}, 2, "telegram.token"},
		{"UnknownKey", "enabled = true\ntokn = \"x\"", nil, 2, `config.toml:7: unknown key "telegram.tokn"`},
		{"BadMode", fmt.Sprintf("enabled = true\ntoken = %q\nmode = \"push\"", valid), nil, 2, `telegram.mode: "push"`},
		{"NegativeRate", fmt.Sprintf("enabled = true\ntoken = %q\nrate_limit = -5", valid), nil, 2, "telegram.rate_limit"},
		{"WebhookWithoutSecret", fmt.Sprintf("enabled = true\ntoken = %q\nmode = \"webhook\"\npublic_url = \"https://bot.example/tg\"", valid), nil, 2, "telegram.secret"},
		{"Rejected", fmt.Sprintf("enabled = true\ntoken = %q\napi_url = %q", "555:AAHanotherTokenTheServerDoesNotKnow00", api.URL), nil, 2, "401 Unauthorized"},
		{"Unreachable", fmt.Sprintf("enabled = true\ntoken = %q\napi_url = %q", valid, downURL), nil, 1, "reachable"},
		{"Disabled", fmt.Sprintf("enabled = false\ntoken = %q", "not a token"), nil, 2, "no platform is enabled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			code, out := serve(context.Background(), writeConfig(t, tt.table))
			if code != tt.code || !strings.Contains(out, tt.contains) {
				t.Fatalf("exit %d, want %d with %q; output:\n%s", code, tt.code, tt.contains, out)
			}
			for _, secret := range []string{valid, "AAHfakeTokenForTestsOnly", "AAHanotherTokenTheServerDoesNotKnow00"} {
				if strings.Contains(out, secret) {
					t.Fatalf("the output shows a token:\n%s", out)
				}
			}
		})
	}
}

// TestTelegramEnv: TELEGRAM_BOT_TOKEN and TELEGRAM_WEBHOOK_SECRET override
// the file.
func TestTelegramEnv(t *testing.T) {
	t.Setenv("TELEGRAM_BOT_TOKEN", telegramtest.DefaultToken)
	t.Setenv("TELEGRAM_WEBHOOK_SECRET", "from-the-environment")
	cfg, err := loadConfig(writeConfig(t, "enabled = true\ntoken = \"1:file\"\nmode = \"webhook\"\npublic_url = \"https://bot.example/tg\"\nsecret = \"from-the-file\""))
	if err != nil {
		t.Fatalf("loadConfig: %v", err)
	}
	if cfg.Telegram.Token != telegramtest.DefaultToken || cfg.Telegram.Secret != "from-the-environment" {
		t.Fatalf("token/secret not taken from the environment: %q", cfg.Telegram.Secret)
	}
}

// TestConfigExampleTelegram: config.example.toml documents the [telegram]
// keys with their defaults.
func TestConfigExampleTelegram(t *testing.T) {
	var cfg Config
	md, err := toml.DecodeFile("config.example.toml", &cfg)
	if err != nil {
		t.Fatal(err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		t.Fatalf("config.example.toml has unknown keys: %v", und)
	}
	if got, want := cfg.Telegram, defaultTelegramConfig(); !reflect.DeepEqual(got, want) {
		t.Fatalf("config.example.toml [telegram] = %+v, want the defaults %+v", got, want)
	}
	for _, key := range []string{"enabled", "token", "api_url", "mode", "listen", "public_url", "secret", "rate_limit"} {
		if !md.IsDefined("telegram", key) {
			t.Errorf("config.example.toml does not document telegram.%s", key)
		}
	}
}
