package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
)

const testDiscordToken = "MTA4.test-only.discord_token"

// writeDiscordConfig writes a config with a [discord] table to a temp file.
func writeDiscordConfig(t *testing.T, discord string) string {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, "config.toml")
	body := fmt.Sprintf("[storage]\npath = %q\n\n[discord]\n%s\n", filepath.Join(dir, "trustbot.db"), discord)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestServeDiscordStartErrors: config problems and a refused token exit 2
// naming the key, an unreachable API exits 1, and the token never shows.
func TestServeDiscordStartErrors(t *testing.T) {
	refuse := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"message": "401: Unauthorized", "code": 0}`)
	}))
	defer refuse.Close()
	tests := []struct {
		name     string
		table    string
		env      string
		wantCode int
		want     string
	}{
		{"no token", "enabled = true", "", 2, "discord.token: missing"},
		{"malformed token", "enabled = true\ntoken = \"not a token\"", "", 2, "discord.token: does not look like"},
		{"bad api_url", fmt.Sprintf("enabled = true\ntoken = %q\napi_url = \"discord.com\"", testDiscordToken), "", 2, "discord.api_url"},
		{"bad guild_id", fmt.Sprintf("enabled = true\ntoken = %q\nguild_id = \"general\"", testDiscordToken), "", 2, "discord.guild_id"},
		{"token refused", fmt.Sprintf("enabled = true\napi_url = %q", refuse.URL+"/api/v9"), testDiscordToken, 2, "discord.token: Discord refused the bot token"},
		{"API unreachable", fmt.Sprintf("enabled = true\ntoken = %q\napi_url = \"http://127.0.0.1:1/api/v9\"", testDiscordToken), "", 1, "discord: reach the Discord API"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("DISCORD_BOT_TOKEN", tt.env)
			code, out := serve(context.Background(), writeDiscordConfig(t, tt.table))
			if code != tt.wantCode || !strings.Contains(out, tt.want) {
				t.Fatalf("exit %d, output:\n%s\nwant exit %d and %q", code, out, tt.wantCode, tt.want)
			}
			if strings.Contains(out, testDiscordToken) || strings.Contains(out, "test-only") {
				t.Fatalf("the output shows the token:\n%s", out)
			}
		})
	}
}

func TestDiscordTokenFromEnvironment(t *testing.T) {
	t.Setenv("DISCORD_BOT_TOKEN", testDiscordToken)
	cfg, err := loadConfig(writeDiscordConfig(t, "enabled = true\ntoken = \"MTA4.from.file\""))
	if err != nil {
		t.Fatalf("loadConfig: %v", err)
	}
	if cfg.Discord.Token != testDiscordToken {
		t.Fatalf("token not taken from DISCORD_BOT_TOKEN")
	}
}

// TestConfigExampleDiscord: config.example.toml documents the [discord]
// keys with their defaults.
func TestConfigExampleDiscord(t *testing.T) {
	var cfg Config
	md, err := toml.DecodeFile("config.example.toml", &cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := cfg.Discord, defaultDiscordConfig(); !reflect.DeepEqual(got, want) {
		t.Fatalf("config.example.toml [discord] = %+v, want the defaults %+v", got, want)
	}
	for _, key := range []string{"enabled", "token", "application_id", "guild_id", "api_url", "gateway_url"} {
		if !md.IsDefined("discord", key) {
			t.Errorf("config.example.toml does not document discord.%s", key)
		}
	}
}
