package main

// The operator's commands (keygen, rekey, backup, stats) and the parts of
// opening the database that concern them: the encryption key and the
// admins.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/trustbot/trustbot/bot"
	"github.com/trustbot/trustbot/storage"
)

// AdminConfig is the [admin] table: who may use /stats in a private chat.
type AdminConfig struct {
	TelegramIDs []int64  `toml:"telegram_ids"` // numeric Telegram user ids
	DiscordIDs  []string `toml:"discord_ids"`  // Discord user ids (snowflakes), as strings
}

// ids returns the admins per platform, as the engine sees user ids.
func (c AdminConfig) ids() map[bot.Platform][]string {
	m := map[bot.Platform][]string{}
	for _, id := range c.TelegramIDs {
		m[bot.PlatformTelegram] = append(m[bot.PlatformTelegram], strconv.FormatInt(id, 10))
	}
	m[bot.PlatformDiscord] = append(m[bot.PlatformDiscord], c.DiscordIDs...)
	return m
}

// validateOps checks the [storage] encryption keys and the [admin] table.
func (c Config) validateOps(name string) error {
	if c.Storage.Plaintext && c.Storage.EncryptionKeyFile != "" {
		return configErrorf("%s: storage.plaintext = true and storage.encryption_key_file are both set: choose one (the key, unless you mean to store journals in the clear)", name)
	}
	for _, id := range c.Admin.TelegramIDs {
		if id <= 0 {
			return configErrorf("%s: admin.telegram_ids: %d is not a Telegram user id (a positive number; a person's id, not a group's)", name, id)
		}
	}
	for _, id := range c.Admin.DiscordIDs {
		if _, err := strconv.ParseUint(id, 10, 64); err != nil {
			return configErrorf("%s: admin.discord_ids: %q is not a Discord user id (digits, like \"80351110224678912\")", name, id)
		}
	}
	return nil
}

// checkEncryption refuses to serve Telegram with journals in the clear,
// unless the config says so on purpose: Telegram's developer terms ask bots
// to keep user data encrypted at rest, with the key stored apart.
func (c Config) checkEncryption(name string) error {
	if c.Telegram.Enabled && c.Storage.EncryptionKeyFile == "" && !c.Storage.Plaintext {
		return configErrorf("%s: [telegram] is enabled, but journals would be stored unencrypted. "+
			"Make a key with `trustbot keygen /etc/trustbot/trustbot.key` (keep it apart from the database) "+
			"and set encryption_key_file to it under [storage]; or set plaintext = true under [storage] to store journals in the clear on purpose", name)
	}
	return nil
}

// openStore opens the database at path with the config's encryption key.
// A key that cannot be read, or that does not fit the database, is a config
// error (exit 2); so is a directory that is missing or not writable, which
// only the operator can fix, so a service manager should not keep
// restarting trustbot.
func openStore(cfg Config, path string, log *slog.Logger) (*storage.Store, error) {
	var o storage.Options
	if f := cfg.Storage.EncryptionKeyFile; f != "" {
		k, err := storage.LoadKeyFile(f)
		if err != nil {
			return nil, configErrorf("storage.encryption_key_file: %v", err)
		}
		o.Key = k
		if sameDir(f, path) {
			log.Warn("the encryption key file is in the database's directory: keep it apart (another directory, disk or a systemd credential), so that a copy of the data does not carry its key",
				"key_file", f, "database", path)
		}
	}
	st, err := storage.OpenWith(path, o)
	var ke *storage.KeyError
	var le *storage.LocationError
	switch {
	case errors.As(err, &ke):
		return nil, configErrorf("%v", err)
	case errors.As(err, &le):
		return nil, configErrorf("storage.path: %v: create the directory, or make it writable by the user trustbot runs as, or point storage.path elsewhere", err)
	}
	if err != nil {
		return nil, err
	}
	if o.Key != nil && st.Plaintext() > 0 {
		log.Warn("some journal text is still stored in the clear (written before the key was set); `trustbot rekey` seals it",
			"values", st.Plaintext(), "database", path)
	}
	return st, nil
}

func sameDir(a, b string) bool {
	da, err1 := filepath.Abs(filepath.Dir(a))
	db, err2 := filepath.Abs(filepath.Dir(b))
	return err1 == nil && err2 == nil && da == db
}

// runKeygen writes a new encryption key file.
func runKeygen(args []string, stdout io.Writer) error {
	if len(args) != 1 || args[0] == "" || args[0][0] == '-' {
		return configErrorf("usage: trustbot keygen FILE (a new file; an existing one is never overwritten)")
	}
	k, err := storage.WriteKeyFile(args[0])
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote a new encryption key to %s (mode 0600, key id %s).\n"+
		"Set encryption_key_file = %q under [storage], keep the file apart from the database, and back it up\n"+
		"separately: without it, nothing it sealed can be read, backups included.\n", args[0], k.ID(), args[0])
	return nil
}

// chooseDB picks the database file: -db, else the config's storage.path
// when a config was given, else the `trustbot chat` database.
func chooseDB(dbFlag, cfgFlag string, cfg Config) (string, error) {
	switch {
	case dbFlag != "":
		return dbFlag, nil
	case cfgFlag != "":
		return cfg.Storage.Path, nil
	}
	return defaultChatDB()
}

// dbFlags adds the -config and -db flags of the commands that work on a
// database, and resolves them: -db, else the config's storage.path, else
// the `trustbot chat` database.
func dbFlags(set *flag.FlagSet) func() (Config, string, error) {
	cfgFlag := set.String("config", "", "a config `FILE`: its database and encryption key")
	dbFlag := set.String("db", "", "the database `FILE` (default: the config's storage.path, or the chat database)")
	return func() (Config, string, error) {
		cfg, err := loadConfig(*cfgFlag)
		if err != nil {
			return cfg, "", err
		}
		db, err := chooseDB(*dbFlag, *cfgFlag, cfg)
		if err != nil {
			return cfg, "", err
		}
		if _, err := os.Stat(db); errors.Is(err, fs.ErrNotExist) {
			return cfg, "", configErrorf("no database at %s (give -config FILE or -db FILE)", db)
		}
		return cfg, db, nil
	}
}

// runBackup writes a consistent copy of the database while serve runs.
func runBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("backup", stderr)
	resolve := dbFlags(fs)
	if err := fs.Parse(args); err != nil {
		return configErrorf("%v", err)
	}
	if fs.NArg() != 1 {
		return configErrorf("usage: trustbot backup [-config FILE | -db FILE] OUT")
	}
	_, db, err := resolve()
	if err != nil {
		return err
	}
	start := time.Now()
	res, err := storage.Backup(ctx, db, fs.Arg(0))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backed up %s to %s in %v: %d people, %d reflections, %.1f MB.\n",
		db, fs.Arg(0), time.Since(start).Round(time.Millisecond), res.People, res.Reflections, float64(res.Bytes)/(1<<20))
	return nil
}

// runStats prints the aggregates an operator may see.
func runStats(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("stats", stderr)
	resolve := dbFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, db, err := resolve()
	if err != nil {
		return err
	}
	a, err := openApp(cfg, db, stderr)
	if err != nil {
		return err
	}
	defer a.store.Close()
	st, err := a.store.Stats(ctx, time.Now(), bot.StatsDays)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, st.Report(len(a.engine.Program.Steps)).String())
	return nil
}

// runRekey seals every journal with a new key.
func runRekey(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("rekey", stderr)
	cfgFlag := fs.String("config", "", "the config `FILE`: the database, and the current key (none: journals in the clear)")
	newFlag := fs.String("new", "", "the new key `FILE` (make one with trustbot keygen FILE)")
	batch := fs.Int("batch", 1000, "rows per transaction")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *cfgFlag == "" || *newFlag == "" {
		return configErrorf("usage: trustbot rekey -config FILE -new NEWKEYFILE (stop trustbot first)")
	}
	cfg, err := loadConfig(*cfgFlag)
	if err != nil {
		return err
	}
	newKey, err := storage.LoadKeyFile(*newFlag)
	if err != nil {
		return configErrorf("-new: %v", err)
	}
	o := storage.Options{Key: newKey}
	from := "the clear"
	if f := cfg.Storage.EncryptionKeyFile; f != "" {
		old, err := storage.LoadKeyFile(f)
		if err != nil {
			return configErrorf("%s: storage.encryption_key_file: %v", *cfgFlag, err)
		}
		o.OldKeys = []*storage.Key{old}
		from = "key " + old.ID()
	}
	db := cfg.Storage.Path
	if _, err := os.Stat(db); err != nil {
		return configErrorf("%s: storage.path: %v", *cfgFlag, err)
	}
	st, err := storage.OpenWith(db, o)
	var ke *storage.KeyError
	if errors.As(err, &ke) {
		return configErrorf("%v", err)
	}
	if err != nil {
		return err
	}
	defer st.Close()
	start := time.Now()
	res, err := st.Rekey(ctx, *batch)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "sealed %d reflections, %d names, %d safety plans and %d unhandled Telegram updates anew with key %s (from %s) in %v.\n"+
		"Now set encryption_key_file = %q under [storage] in %s, then start trustbot.\n"+
		"Keep the old key as long as you keep backups made before now: they need it.\n",
		res.Reflections, res.Names, res.SafetyPlans, res.Inbox, newKey.ID(), from, time.Since(start).Round(time.Millisecond), *newFlag, *cfgFlag)
	return nil
}
