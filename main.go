// Command trustbot walks people through a ten-step program for rebuilding
// trust, one step at a time, in Telegram, Discord or the terminal.
//
// main only parses flags, reads the config and wires the packages together;
// every behaviour lives in the package named after it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"
	_ "time/tzdata" // time zones work on machines without a zone database

	"github.com/trustbot/trustbot/adapters/console"
	"github.com/trustbot/trustbot/bot"
	"github.com/trustbot/trustbot/content"
	"github.com/trustbot/trustbot/scheduler"
	"github.com/trustbot/trustbot/storage"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// exitCode prints err and maps it to the process exit code: 0 ok, 2 usage or
// config error, 1 runtime failure.
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	fmt.Fprintln(stderr, "trustbot:", err)
	var ce *configError
	if errors.As(err, &ce) || errors.Is(err, flag.ErrHelp) {
		return 2
	}
	return 1
}

const usage = `trustbot walks you through a ten-step program for rebuilding trust.

Usage:
  trustbot chat [-db FILE] [-config FILE]   talk to trustbot in this terminal
  trustbot serve -config FILE               run the bot on the platforms the config enables
  trustbot stats [-config FILE | -db FILE]  how many people are where; counts only, never text
  trustbot backup [-config FILE | -db FILE] OUT
                                            write a consistent copy of the database, also while serving
  trustbot keygen FILE                      write a new encryption key file (mode 0600)
  trustbot rekey -config FILE -new FILE     seal every journal with a new key (stop serve first)
  trustbot content check FILE               validate a program file
  trustbot version                          print the version
  trustbot help                             show this help
`

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return configErrorf("no command given")
	}
	switch args[0] {
	case "chat":
		return runChat(ctx, args[1:], stdin, stdout, stderr)
	case "serve":
		return runServe(ctx, args[1:], stdout, stderr)
	case "content":
		return runContent(args[1:], stdout)
	case "stats":
		return runStats(ctx, args[1:], stdout, stderr)
	case "backup":
		return runBackup(ctx, args[1:], stdout, stderr)
	case "keygen":
		return runKeygen(args[1:], stdout)
	case "rekey":
		return runRekey(ctx, args[1:], stdout, stderr)
	case "version", "-version", "--version":
		fmt.Fprintln(stdout, "trustbot", version)
		return nil
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return configErrorf("unknown command %q", args[0])
}

func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return configErrorf("see the usage above")
		}
		return configErrorf("%v", err)
	}
	if fs.NArg() > 0 {
		return configErrorf("%s: unexpected argument %q", fs.Name(), fs.Arg(0))
	}
	return nil
}

// defaultChatDB is where `trustbot chat` keeps its journal when neither -db
// nor a config says otherwise: the user's data directory, so the journey
// continues from any working directory.
func defaultChatDB() (string, error) {
	dir := os.Getenv("XDG_DATA_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("find home directory for the chat database (use -db FILE): %w", err)
		}
		dir = filepath.Join(home, ".local", "share")
	}
	dir = filepath.Join(dir, "trustbot")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("create %s for the chat database (use -db FILE): %w", dir, err)
	}
	return filepath.Join(dir, "chat.db"), nil
}

// app is what every command that talks to people needs.
type app struct {
	cfg    Config
	store  *storage.Store
	engine *bot.Engine
	log    *slog.Logger

	// serve only: see http.go and metrics.go.
	metrics *metrics
	health  *health
}

func openApp(cfg Config, dbPath string, stderr io.Writer) (*app, error) {
	log := newLogger(cfg, stderr)
	program := content.Default()
	if cfg.Content.Program != "" {
		p, err := content.LoadFile(cfg.Content.Program)
		if err != nil {
			return nil, configErrorf("content.program: %v", err) // the error names the file and line
		}
		program = p
	}
	st, err := openStore(cfg, dbPath, log)
	if err != nil {
		return nil, err
	}
	eng := &bot.Engine{
		Program: program, Store: st, Now: time.Now,
		DefaultTime: cfg.Scheduler.DefaultTime, DefaultTimeZone: cfg.Scheduler.DefaultTimezone,
		Schedule: planner(cfg), Admins: cfg.Admin.ids(),
	}
	return &app{cfg: cfg, store: st, engine: eng, log: log}, nil
}

// planner plans daily prompts with the config's quiet hours.
func planner(cfg Config) scheduler.Planner {
	return scheduler.Planner{QuietStart: cfg.Scheduler.QuietStart, QuietEnd: cfg.Scheduler.QuietEnd}
}

// newScheduler returns the daily-prompt scheduler, sending through senders.
func (a *app) newScheduler(senders map[bot.Platform]bot.Sender) *scheduler.Scheduler {
	s := &scheduler.Scheduler{
		Planner: planner(a.cfg), Store: a.store, Nudger: a.engine, Senders: senders,
		Tick: a.cfg.Scheduler.Tick, Now: a.engine.Now, Log: a.log,
	}
	if a.metrics != nil {
		s.Observe = a.metrics.swept
	}
	return s
}

// storage implements the scheduler's Store; checked here, as neither imports the other.
var _ scheduler.Store = (*storage.Store)(nil)

func runChat(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	return runChatClock(ctx, args, stdin, stdout, stderr, time.Now)
}

// runChatClock is runChat with a clock, so that tests can move time.
func runChatClock(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, now func() time.Time) error {
	fs := newFlagSet("chat", stderr)
	dbFlag := fs.String("db", "", "the database `FILE` (default: ~/.local/share/trustbot/chat.db)")
	cfgFlag := fs.String("config", "", "a config `FILE` (optional)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(*cfgFlag)
	if err != nil {
		return err
	}
	db, err := chooseDB(*dbFlag, *cfgFlag, cfg)
	if err != nil {
		return err
	}
	// The conversation shares the terminal with the log: warnings and
	// errors only, unless the config asks for debug.
	if cfg.Log.Level == "info" {
		cfg.Log.Level = "warn"
	}
	a, err := openApp(cfg, db, stderr)
	if err != nil {
		return err
	}
	defer a.store.Close()
	a.engine.Now, a.store.Now = now, now

	tty := isTerminal(stdin) && isTerminal(stdout)
	c := &console.Console{
		Handler: a.engine, In: stdin, Out: stdout, Log: a.log,
		Styled: tty, Interactive: tty, Echo: !tty, Name: os.Getenv("USER"),
	}
	if tty {
		fmt.Fprintf(stdout, "trustbot — your journal is kept in %s. Type /start to begin, /help for commands, Ctrl-D to leave.\n", db)
	}
	// Daily prompts run beside the conversation and print into it.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sched := a.newScheduler(map[bot.Platform]bot.Sender{bot.PlatformConsole: c})
	schedDone := make(chan error, 1)
	go func() { schedDone <- sched.Run(ctx) }()
	err = c.Run(ctx)
	cancel()
	return errors.Join(err, <-schedDone)
}

func isTerminal(v any) bool {
	f, ok := v.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// A platform is a chat platform adapter that serve runs.
type platform struct {
	name   bot.Platform
	sender bot.Sender                      // for messages outside a conversation (daily prompts)
	run    func(ctx context.Context) error // blocks until ctx is done and in-flight work has finished
}

// A platformStarter returns the platform when the config enables it, and
// ok=false when it does not.
type platformStarter func(ctx context.Context, a *app) (p platform, ok bool, err error)

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", stderr)
	cfgFlag := fs.String("config", "", "the config `FILE`")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *cfgFlag == "" {
		return configErrorf("serve needs -config FILE (start from config.example.toml)")
	}
	cfg, err := loadConfig(*cfgFlag)
	if err != nil {
		return err
	}
	if err := cfg.checkEncryption(*cfgFlag); err != nil {
		return err
	}
	// Each platform adds its starter here, in the order they start.
	starters := []platformStarter{startTelegram, startDiscord}
	a, err := openApp(cfg, cfg.Storage.Path, stderr)
	if err != nil {
		return err
	}
	defer a.store.Close()
	a.metrics, a.health = newMetrics(), &health{store: a.store}
	stopHTTP, err := a.serveHTTP()
	if err != nil {
		return err
	}
	defer stopHTTP()

	var platforms []platform
	for _, start := range starters {
		p, ok, err := start(ctx, a)
		if err != nil {
			return err
		}
		if ok {
			platforms = append(platforms, p)
			// An adapter that can delete messages clears chats for /wipe.
			if w, isWiper := p.sender.(bot.Wiper); isWiper {
				a.engine.SetWiper(p.name, w)
			}
		}
	}
	if len(platforms) == 0 {
		return configErrorf("%s: no platform is enabled: set enabled = true under [telegram] or [discord] (or use `trustbot chat` to talk in the terminal)", *cfgFlag)
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Daily prompts go through the platforms' senders; on shutdown the
	// scheduler stops claiming and lets in-flight sends finish.
	senders := map[bot.Platform]bot.Sender{}
	for _, p := range platforms {
		if p.sender != nil {
			senders[p.name] = p.sender
		}
	}
	schedDone := make(chan error, 1)
	go func() { schedDone <- a.newScheduler(senders).Run(ctx) }()
	errc := make(chan error, len(platforms))
	for _, p := range platforms {
		stopped := a.watch(p)
		go func() {
			err := p.run(ctx)
			stopped()
			if err != nil {
				err = fmt.Errorf("%s: %w", p.name, err)
			}
			errc <- err
		}()
	}
	// The first platform to fail stops the others; a signal stops all.
	var first error
	for range platforms {
		if err := <-errc; err != nil && first == nil {
			first = err
			cancel()
		}
	}
	cancel()
	if err := <-schedDone; err != nil && first == nil {
		first = fmt.Errorf("scheduler: %w", err)
	}
	return first
}

func runContent(args []string, stdout io.Writer) error {
	if len(args) != 2 || args[0] != "check" {
		return configErrorf("usage: trustbot content check FILE")
	}
	p, err := content.LoadFile(args[1])
	if err != nil {
		return configErrorf("%v", err)
	}
	fmt.Fprintf(stdout, "%s: ok — %q, %d steps\n", args[1], p.Title, len(p.Steps))
	return nil
}
