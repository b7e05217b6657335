package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// opsDir is a directory with a data/ subdirectory for the database and
// helpers to write files and configs into it.
type opsDir struct {
	t   *testing.T
	dir string
}

func newOpsDir(t *testing.T) *opsDir {
	t.Helper()
	d := &opsDir{t: t, dir: t.TempDir()}
	if err := os.Mkdir(d.path("data"), 0o700); err != nil {
		t.Fatal(err)
	}
	return d
}

func (d *opsDir) path(name string) string { return filepath.Join(d.dir, name) }

// config writes a config named name for the database data/trustbot.db, with
// extra lines under [storage], and returns its path.
func (d *opsDir) config(name, storage string, rest ...string) string {
	d.t.Helper()
	body := "[storage]\npath = \"" + d.path("data/trustbot.db") + "\"\n" + storage + "\n" + strings.Join(rest, "\n")
	p := d.path(name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		d.t.Fatal(err)
	}
	return p
}

// keygen makes a key file and returns the [storage] line that uses it.
func (d *opsDir) keygen(name string) string {
	d.t.Helper()
	out, errOut, code := runCmd(d.t, "", "keygen", d.path(name))
	if code != 0 {
		d.t.Fatalf("keygen %s: exit %d: %s%s", name, code, out, errOut)
	}
	return "encryption_key_file = \"" + d.path(name) + "\""
}

// must runs the CLI and fails the test unless it exits with code.
func must(t *testing.T, code int, stdin string, args ...string) string {
	t.Helper()
	out, errOut, got := runCmd(t, stdin, args...)
	if got != code {
		t.Fatalf("trustbot %s: exit %d, want %d; stdout:\n%s\nstderr:\n%s", strings.Join(args, " "), got, code, out, errOut)
	}
	return out + errOut
}

// fileHas reports whether the database's files contain s.
func fileHas(t *testing.T, db, s string) bool {
	t.Helper()
	for _, p := range []string{db, db + "-wal"} {
		b, err := os.ReadFile(p)
		if err == nil && bytes.Contains(b, []byte(s)) {
			return true
		}
	}
	return false
}

const secretWords = "I found the messages in March"

func TestKeygen(t *testing.T) {
	d := newOpsDir(t)
	out := must(t, 0, "", "keygen", d.path("k.key"))
	if !strings.Contains(out, "key id ") || !strings.Contains(out, "encryption_key_file") {
		t.Fatalf("keygen output lacks the key id or how to use it:\n%s", out)
	}
	fi, err := os.Stat(d.path("k.key"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v, %v; want mode 0600", fi, err)
	}
	before, _ := os.ReadFile(d.path("k.key"))
	if bytes.Contains(before, []byte(strings.TrimSpace(out))) || strings.Contains(out, strings.TrimSpace(string(before))) {
		t.Fatal("keygen printed the key")
	}
	must(t, 1, "", "keygen", d.path("k.key")) // never overwrites
	if after, _ := os.ReadFile(d.path("k.key")); !bytes.Equal(before, after) {
		t.Fatal("a second keygen changed the existing key file")
	}
	must(t, 2, "", "keygen")
	must(t, 2, "", "keygen", "-h")
}

// TestEncryptionJourney: with a key, the journal is sealed on disk; without
// the key or with another one, every command refuses to start (exit 2);
// rekey moves it to a new key.
func TestEncryptionJourney(t *testing.T) {
	d := newOpsDir(t)
	db := d.path("data/trustbot.db")
	k1 := d.config("k1.toml", d.keygen("k1.key"))
	out := must(t, 0, "/start\n"+secretWords+"\n/journal\n", "chat", "-config", k1)
	if !strings.Contains(out, secretWords) {
		t.Fatalf("the journal does not show the reflection:\n%s", out)
	}
	if fileHas(t, db, secretWords) {
		t.Fatal("the reflection is readable in the database file")
	}

	noKey := d.config("nokey.toml", "")
	k2line := d.keygen("k2.key")
	k2 := d.config("k2.toml", k2line)
	badKey := d.path("bad.key")
	if err := os.WriteFile(badKey, []byte("not a key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := d.config("bad.toml", "encryption_key_file = \""+badKey+"\"")
	missing := d.config("missing.toml", "encryption_key_file = \""+d.path("nope.key")+"\"")
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"ChatNoKey", []string{"chat", "-config", noKey}, []string{"sealed with encryption key", "no key is configured"}},
		{"StatsNoKey", []string{"stats", "-config", noKey}, []string{"no key is configured"}},
		{"ChatWrongKey", []string{"chat", "-config", k2}, []string{"the configured key is"}},
		{"BadKeyFile", []string{"stats", "-config", bad}, []string{"bad.key", "not base64", "trustbot keygen"}},
		{"MissingKeyFile", []string{"stats", "-config", missing}, []string{"nope.key", "does not exist", "trustbot keygen"}},
		{"RekeyUsage", []string{"rekey", "-config", k1}, []string{"-new"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := must(t, 2, "/journal\n", tt.args...)
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Fatalf("output lacks %q:\n%s", w, out)
				}
			}
			if strings.Contains(out, secretWords) {
				t.Fatalf("the journal was shown:\n%s", out)
			}
		})
	}

	out = must(t, 0, "", "rekey", "-config", k1, "-new", d.path("k2.key"))
	if !strings.Contains(out, "sealed 1 reflections") || !strings.Contains(out, "k2.key") {
		t.Fatalf("rekey output:\n%s", out)
	}
	must(t, 2, "", "stats", "-config", k1) // the old key no longer fits
	if out := must(t, 0, "/journal\n", "chat", "-config", k2); !strings.Contains(out, secretWords) {
		t.Fatalf("after the rekey, the journal does not show the reflection:\n%s", out)
	}
	if fileHas(t, db, secretWords) {
		t.Fatal("the reflection is readable in the database file after the rekey")
	}
}

// TestRekeyFromPlaintext: a database written in the clear gets a key.
func TestRekeyFromPlaintext(t *testing.T) {
	d := newOpsDir(t)
	db := d.path("data/trustbot.db")
	plain := d.config("plain.toml", "")
	must(t, 0, "/start\n"+secretWords+"\n", "chat", "-config", plain)
	if !fileHas(t, db, secretWords) {
		t.Fatal("test setup: the reflection should be in the clear")
	}
	keyed := d.config("keyed.toml", d.keygen("k.key"))
	// Before the rekey, a key can be set: the old text stays readable, and
	// a warning says that rekey seals it.
	if out := must(t, 0, "/journal\n", "chat", "-config", keyed); !strings.Contains(out, secretWords) || !strings.Contains(out, "trustbot rekey") {
		t.Fatalf("with a key on a database in the clear, want the journal and a hint to rekey:\n%s", out)
	}
	must(t, 0, "", "rekey", "-config", plain, "-new", d.path("k.key"))
	if fileHas(t, db, secretWords) {
		t.Fatal("the reflection is still readable in the database file after the rekey")
	}
	if out := must(t, 0, "/journal\n", "chat", "-config", keyed); !strings.Contains(out, secretWords) || strings.Contains(out, "rekey") {
		t.Fatalf("after the rekey, want the journal and no warning:\n%s", out)
	}
}

func TestServeRefusesTelegramInTheClear(t *testing.T) {
	d := newOpsDir(t)
	cfg := d.config("tg.toml", "", "[telegram]\nenabled = true\ntoken = \"123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw\"\n")
	out := must(t, 2, "", "serve", "-config", cfg)
	for _, w := range []string{"tg.toml", "unencrypted", "trustbot keygen", "encryption_key_file", "plaintext = true"} {
		if !strings.Contains(out, w) {
			t.Fatalf("output lacks %q:\n%s", w, out)
		}
	}
	if _, err := os.Stat(d.path("data/trustbot.db")); err == nil {
		t.Fatal("serve created the database before refusing")
	}

	tests := []struct {
		name    string
		storage Config
		wantErr bool
	}{
		{"NoKey", Config{Telegram: TelegramConfig{Enabled: true}}, true},
		{"Key", Config{Telegram: TelegramConfig{Enabled: true}, Storage: StorageConfig{EncryptionKeyFile: "k"}}, false},
		{"PlaintextOnPurpose", Config{Telegram: TelegramConfig{Enabled: true}, Storage: StorageConfig{Plaintext: true}}, false},
		{"DiscordOnly", Config{Discord: DiscordConfig{Enabled: true}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.storage.checkEncryption("x.toml"); (err != nil) != tt.wantErr {
				t.Fatalf("checkEncryption = %v, want an error: %v", err, tt.wantErr)
			}
		})
	}
}

func TestConfigOps(t *testing.T) {
	d := newOpsDir(t)
	tests := []struct {
		name, body, want string
	}{
		{"Admins", "[admin]\ntelegram_ids = [42, 43]\ndiscord_ids = [\"80351110224678912\"]\n", ""},
		{"BadTelegramID", "[admin]\ntelegram_ids = [-100123]\n", "admin.telegram_ids: -100123"},
		{"BadDiscordID", "[admin]\ndiscord_ids = [\"@sam\"]\n", "admin.discord_ids: \"@sam\""},
		{"DiscordIDAsNumber", "[admin]\ndiscord_ids = [80351110224678912]\n", "discord_ids"},
		{"KeyAndPlaintext", "[storage]\nencryption_key_file = \"k\"\nplaintext = true\n", "choose one"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := d.path(tt.name + ".toml")
			if err := os.WriteFile(p, []byte(tt.body), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg, err := loadConfig(p)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				ids := cfg.Admin.ids()
				if got := strings.Join(ids["telegram"], ",") + "|" + strings.Join(ids["discord"], ","); got != "42,43|80351110224678912" {
					t.Fatalf("admins = %s, want 42,43|80351110224678912", got)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want one saying %q", err, tt.want)
			}
		})
	}
}

func TestBackupAndStatsCLI(t *testing.T) {
	d := newOpsDir(t)
	cfg := d.config("c.toml", d.keygen("k.key"))
	must(t, 0, "/start\n"+secretWords+"\n/next\n", "chat", "-config", cfg)

	out := must(t, 0, "", "stats", "-config", cfg)
	for _, w := range []string{"People: 1", "console 1", "active 1", "step 2: 1", "1 reflection;"} {
		if !strings.Contains(out, w) {
			t.Fatalf("stats lack %q:\n%s", w, out)
		}
	}
	if strings.Contains(out, secretWords) || (os.Getenv("USER") != "" && strings.Contains(out, os.Getenv("USER"))) {
		t.Fatalf("stats show a person's words or name:\n%s", out)
	}

	backup := d.path("backup.db")
	if out := must(t, 0, "", "backup", "-config", cfg, backup); !strings.Contains(out, "1 people, 1 reflections") {
		t.Fatalf("backup output:\n%s", out)
	}
	// The backup opens with the same key, and holds the journal.
	restored := d.config("restored.toml", "encryption_key_file = \""+d.path("k.key")+"\"")
	restoredDB := d.path("data/trustbot.db")
	os.Remove(restoredDB)
	if err := os.Rename(backup, restoredDB); err != nil {
		t.Fatal(err)
	}
	if out := must(t, 0, "/journal\n", "chat", "-config", restored); !strings.Contains(out, secretWords) {
		t.Fatalf("the restored backup does not show the journal:\n%s", out)
	}

	must(t, 2, "", "backup", "-config", cfg)                                     // no OUT
	must(t, 2, "", "backup", "-db", d.path("none.db"), d.path("x.db"))           // no database
	must(t, 2, "", "stats", "-db", d.path("none.db"))                            // no database
	if err := os.WriteFile(d.path("taken.db"), []byte("x"), 0o600); err != nil { // never overwritten
		t.Fatal(err)
	}
	if out := must(t, 1, "", "backup", "-config", cfg, d.path("taken.db")); !strings.Contains(out, "never overwrites") {
		t.Fatalf("backup over a file:\n%s", out)
	}
}

// TestConfigExampleOps: config.example.toml documents the keys of this
// file with their defaults.
func TestConfigExampleOps(t *testing.T) {
	cfg, err := loadConfig("config.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Storage.EncryptionKeyFile != "" || cfg.Storage.Plaintext || len(cfg.Admin.TelegramIDs)+len(cfg.Admin.DiscordIDs) != 0 {
		t.Fatalf("config.example.toml: storage %+v, admin %+v; want the defaults", cfg.Storage, cfg.Admin)
	}
	data, err := os.ReadFile("config.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"\nencryption_key_file = ", "\nplaintext = ", "\n[admin]\n", "\ntelegram_ids = ", "\ndiscord_ids = "} {
		if !strings.Contains(string(data), key) {
			t.Errorf("config.example.toml does not document %q", strings.TrimSpace(key))
		}
	}
}
