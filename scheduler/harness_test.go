package scheduler_test

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	_ "time/tzdata" // the zones the tests use, on machines without a zone database

	"github.com/trustbot/trustbot/bot"
	"github.com/trustbot/trustbot/content"
	"github.com/trustbot/trustbot/scheduler"
	"github.com/trustbot/trustbot/storage"
)

// clock is a fake clock that tests set by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// utc parses "2006-01-02 15:04" (or with seconds) in UTC.
func utc(s string) time.Time {
	layout := "2006-01-02 15:04"
	if len(s) > len(layout) {
		layout = time.DateTime
	}
	t, err := time.Parse(layout, s)
	if err != nil {
		panic(err)
	}
	return t
}

// delivery is one Send a recorder received.
type delivery struct {
	to      bot.Address
	replies []bot.Reply
}

// recorder is a bot.Sender that keeps what it is asked to send. fail, if
// set, decides the error of each Send (nil delivers).
type recorder struct {
	mu    sync.Mutex
	sent  []delivery // delivered
	tries map[string]int
	fail  func(to bot.Address) error
}

func (r *recorder) Send(ctx context.Context, to bot.Address, replies []bot.Reply) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.tries == nil {
		r.tries = map[string]int{}
	}
	r.tries[to.UserID]++
	if r.fail != nil {
		if err := r.fail(to); err != nil {
			return err
		}
	}
	r.sent = append(r.sent, delivery{to, replies})
	return nil
}

func (r *recorder) setFail(f func(to bot.Address) error) {
	r.mu.Lock()
	r.fail = f
	r.mu.Unlock()
}

// count returns how many prompts were delivered to id.
func (r *recorder) count(id string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, d := range r.sent {
		if d.to.UserID == id {
			n++
		}
	}
	return n
}

func (r *recorder) attempts(id string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.tries[id]
}

func (r *recorder) total() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.sent)
}

// last returns the last prompt delivered to id.
func (r *recorder) last(t *testing.T, id string) bot.Reply {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.sent) - 1; i >= 0; i-- {
		if r.sent[i].to.UserID == id {
			if len(r.sent[i].replies) != 1 {
				t.Fatalf("prompt to %s has %d replies, want 1", id, len(r.sent[i].replies))
			}
			return r.sent[i].replies[0]
		}
	}
	t.Fatalf("no prompt was delivered to %s", id)
	return bot.Reply{}
}

// harness is the real engine and scheduler on a real SQLite file, with a
// fake clock. People are on Telegram, in Berlin at 20:00 unless they change
// it: in June that is 18:00 UTC.
type harness struct {
	t     *testing.T
	path  string
	clock *clock
	rec   *recorder
	store *storage.Store
	eng   *bot.Engine
	sched *scheduler.Scheduler
}

func newHarness(t *testing.T, start string) *harness {
	t.Helper()
	h := &harness{t: t, path: filepath.Join(t.TempDir(), "trustbot.db"), clock: &clock{t: utc(start)}, rec: &recorder{}}
	h.open()
	return h
}

// open opens the store and builds an engine and a scheduler on it, as a
// process starting would.
func (h *harness) open() {
	h.t.Helper()
	st, err := storage.Open(h.path)
	if err != nil {
		h.t.Fatalf("open store: %v", err)
	}
	h.t.Cleanup(func() { st.Close() })
	st.Now = h.clock.Now
	h.store = st
	h.eng, h.sched = h.build(st, h.rec)
}

func (h *harness) build(st *storage.Store, to bot.Sender) (*bot.Engine, *scheduler.Scheduler) {
	planner := scheduler.Planner{}
	eng := &bot.Engine{Program: content.Default(), Store: st, Now: h.clock.Now,
		DefaultTime: "20:00", DefaultTimeZone: "Europe/Berlin", Schedule: planner}
	sched := &scheduler.Scheduler{Planner: planner, Store: st, Nudger: eng,
		Senders: map[bot.Platform]bot.Sender{bot.PlatformTelegram: to}, Now: h.clock.Now}
	return eng, sched
}

// restart closes the store and opens it again, like a new process.
func (h *harness) restart() {
	h.t.Helper()
	if err := h.store.Close(); err != nil {
		h.t.Fatal(err)
	}
	h.open()
}

func (h *harness) at(s string) { h.clock.Set(utc(s)) }

// say handles text from person id in a private chat.
func (h *harness) say(id, text string) []bot.Reply {
	h.t.Helper()
	rs, err := h.eng.Handle(context.Background(), bot.Incoming{Platform: bot.PlatformTelegram, UserID: id, ChatID: "c" + id, Private: true, Text: text})
	if err != nil {
		h.t.Fatalf("%s says %q: %v", id, text, err)
	}
	return rs
}

// join starts person id, skipping the role question, and applies the
// given commands (e.g. "/time 07:00").
func (h *harness) join(id string, commands ...string) {
	h.t.Helper()
	h.say(id, "/start")
	if _, err := h.eng.Handle(context.Background(), bot.Incoming{Platform: bot.PlatformTelegram, UserID: id, ChatID: "c" + id, Private: true, Action: &bot.Action{Kind: bot.ActRole}}); err != nil {
		h.t.Fatal(err)
	}
	for _, c := range commands {
		h.say(id, c)
	}
}

// sweep runs one sweep at the clock's time.
func (h *harness) sweep() scheduler.Stats {
	h.t.Helper()
	st, err := h.sched.Sweep(context.Background(), h.clock.Now())
	if err != nil {
		h.t.Fatalf("sweep at %s: %v", h.clock.Now().Format(time.DateTime), err)
	}
	return st
}

// sweepAt sets the clock and sweeps.
func (h *harness) sweepAt(s string) scheduler.Stats {
	h.t.Helper()
	h.at(s)
	return h.sweep()
}

func (h *harness) user(id string) *bot.User {
	h.t.Helper()
	u, err := h.store.User(context.Background(), bot.PlatformTelegram, id)
	if err != nil {
		h.t.Fatalf("load %s: %v", id, err)
	}
	return u
}

// wantCount fails unless id has had exactly n prompts delivered.
func (h *harness) wantCount(id string, n int, when string) {
	h.t.Helper()
	if got := h.rec.count(id); got != n {
		h.t.Fatalf("%s: %s got %d prompts, want %d", when, id, got, n)
	}
}

// wantNext fails unless id's next prompt is due at want (UTC, "" for none).
func (h *harness) wantNext(id, want string) {
	h.t.Helper()
	got := h.user(id).NextDue
	if want == "" {
		if !got.IsZero() {
			h.t.Fatalf("%s: next prompt due %s, want none", id, got.Format(time.DateTime))
		}
		return
	}
	if !got.Equal(utc(want)) {
		h.t.Fatalf("%s: next prompt due %s, want %s", id, got.Format(time.DateTime), want)
	}
}

func text(rs []bot.Reply) string {
	var b strings.Builder
	for _, r := range rs {
		b.WriteString(r.Text.String())
		b.WriteString("\n")
	}
	return b.String()
}

func mustContain(t *testing.T, rs []bot.Reply, wants ...string) {
	t.Helper()
	got := text(rs)
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Fatalf("reply lacks %q:\n%s", w, got)
		}
	}
}
