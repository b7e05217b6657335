package main

import (
	"errors"
	"os"
	"strings"
	"testing"
)

// FuzzConfig: for any file, the config loader never panics; every error
// it gives is a config error (exit 2) that starts with the file's name;
// and an error about a token never quotes the token.
func FuzzConfig(f *testing.F) {
	example, err := os.ReadFile("config.example.toml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(example)
	for _, s := range []string{
		"",
		"[storage]\npath = 1\n",
		"[telegram]\nenabled = true\ntoken = \"123456789:AAHfakeTokenForTestsOnly-0123456789\"\nbogus = 1\n",
		"[telegram]\nenabled = true\ntoken = \"not-a-token-but-long-enough\"\n",
		"[[storage]]\n",
		"a = [1, 2\n",
		"[log]\nformat = \"yaml\"\n",
		"[http]\nlisten = \":\"\n",
		"[scheduler]\ntick = \"@every\"\ndefault_time = \"24:00\"\n",
		"[admin]\ntelegram_ids = [-1]\ndiscord_ids = [\"x\"]\n",
		"\"storage\".path = \"x\"\n[ discord ]\nenabled = true\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg := defaultConfig()
		err := parseConfig("fuzz.toml", data, &cfg)
		if err == nil {
			err = cfg.validate("fuzz.toml")
		} else {
			cfg = Config{} // a partial decode is not checked for tokens
		}
		if err == nil {
			return
		}
		var ce *configError
		if !errors.As(err, &ce) {
			t.Fatalf("error %q is %T, not a config error (exit 2)", err, err)
		}
		if !strings.HasPrefix(err.Error(), "fuzz.toml") {
			t.Fatalf("error %q does not start with the file's name", err)
		}
		for _, tok := range []struct{ key, value string }{
			{"telegram.token", cfg.Telegram.Token}, {"telegram.secret", cfg.Telegram.Secret}, {"discord.token", cfg.Discord.Token},
		} {
			// Short values may be words of the message itself.
			if len(tok.value) >= 16 && strings.Contains(err.Error(), tok.key) && strings.Contains(err.Error(), tok.value) {
				t.Fatalf("an error about %s quotes it: %q", tok.key, err)
			}
		}
	})
}
