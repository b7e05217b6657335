package telegram_test

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trustbot/trustbot/adapters/telegram"
	"github.com/trustbot/trustbot/adapters/telegram/telegramtest"
	"github.com/trustbot/trustbot/bot"
	"github.com/trustbot/trustbot/content"
	"github.com/trustbot/trustbot/storage"
)

// wait is how long a test waits for something that takes milliseconds:
// generous, for a loaded machine running tests with -race.
const wait = 15 * time.Second

var (
	alice = telegramtest.User{ID: 1001, FirstName: "Alice", Username: "alice"}
	bob   = telegramtest.User{ID: 1002, FirstName: "Bob"}
	group = telegramtest.Chat{ID: -1001234567890, Type: "supergroup", Title: "Rebuilding together"}
)

// clock is a fake clock that tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2025, 3, 3, 18, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// logBuffer collects the adapter's logs, to check what they never contain.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// harness is a running adapter with a real engine on a real SQLite file,
// talking to a fake Bot API server.
type harness struct {
	t     testing.TB
	api   *telegramtest.Server
	store *storage.Store
	db    string // the store's file
	eng   *bot.Engine
	clock *clock
	logs  *logBuffer
	a     *telegram.Adapter
	opts  telegram.Options

	cancel context.CancelFunc
	done   chan error
}

// setup prepares a harness without starting the adapter: the fake server,
// the store and engine, and Options that tests may change before start.
func setup(t testing.TB, api telegramtest.Options) *harness {
	t.Helper()
	h := &harness{t: t, clock: newClock(), logs: &logBuffer{}}
	if api.Now == nil {
		api.Now = h.clock.Now // Telegram's clock and ours agree
	}
	h.api = telegramtest.NewServer(t, api)
	h.openStore(filepath.Join(t.TempDir(), "trustbot.db"))
	h.opts = telegram.Options{
		Token: h.api.Token, APIURL: h.api.URL, Mode: telegram.ModePolling,
		Engine: h.eng, Updates: h.store, Inbox: h.store, Messages: h.store, Now: h.clock.Now,
		Log:          slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		PollTimeout:  3 * time.Second,
		RetryBackoff: 20 * time.Millisecond, ShutdownTimeout: 5 * time.Second,
	}
	return h
}

func (h *harness) openStore(path string) {
	h.t.Helper()
	st, err := storage.Open(path)
	if err != nil {
		h.t.Fatalf("open store: %v", err)
	}
	h.t.Cleanup(func() { st.Close() })
	st.Now = h.clock.Now
	h.store, h.db = st, path
	h.eng = &bot.Engine{Program: content.Default(), Store: st, Now: h.clock.Now, DefaultTime: "20:00", DefaultTimeZone: "UTC"}
}

// start builds the adapter from h.opts and runs it until the test ends.
func (h *harness) start() *harness {
	h.t.Helper()
	a, err := telegram.New(context.Background(), h.opts)
	if err != nil {
		h.t.Fatalf("telegram.New: %v", err)
	}
	h.a = a
	h.eng.SetWiper(bot.PlatformTelegram, a) // as main does: the adapter is a bot.Wiper
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	h.done = make(chan error, 1)
	go func() { h.done <- a.Run(ctx) }()
	h.t.Cleanup(func() { h.stop() })
	return h
}

// stop cancels Run and waits for it to return.
func (h *harness) stop() error {
	h.t.Helper()
	if h.cancel == nil {
		return nil
	}
	h.cancel()
	select {
	case err := <-h.done:
		h.cancel = nil
		return err
	case <-time.After(wait):
		h.t.Fatalf("Run did not return %s after its context was cancelled", wait)
		return nil
	}
}

// say has u write text to the bot privately and returns every message in
// their chat once n have arrived.
func (h *harness) say(u telegramtest.User, text string, n int) []telegramtest.Message {
	h.t.Helper()
	h.api.SendText(u, telegramtest.Private(u), text)
	return h.api.WaitMessages(h.t, u.ID, n, wait)
}

// user returns the stored user, failing the test if there is none.
func (h *harness) user(u telegramtest.User) *bot.User {
	h.t.Helper()
	got, err := h.store.User(context.Background(), bot.PlatformTelegram, itoa(u.ID))
	if err != nil {
		h.t.Fatalf("user %d: %v", u.ID, err)
	}
	return got
}

// checkLogs fails the test if the logs contain any of secrets.
func (h *harness) checkLogs(secrets ...string) {
	h.t.Helper()
	logs := h.logs.String()
	for _, s := range append(secrets, h.api.Token) {
		if s != "" && strings.Contains(logs, s) {
			h.t.Errorf("logs contain %q:\n%s", s, logs)
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func last(ms []telegramtest.Message) telegramtest.Message { return ms[len(ms)-1] }

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
