package scheduler_test

import (
	"bytes"
	"context"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trustbot/trustbot/bot"
	"github.com/trustbot/trustbot/scheduler"
)

// gate is a Sender that holds every send until released, then hands it to
// a recorder; with release nil, sends wait for their context to end.
type gate struct {
	rec     *recorder
	entered chan string
	release chan struct{}
}

func (g *gate) Send(ctx context.Context, to bot.Address, rs []bot.Reply) error {
	g.entered <- to.UserID
	select {
	case <-g.release:
		return g.rec.Send(ctx, to, rs)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// runInBackground runs h.sched.Run and returns its cancel (the signal) and
// a wait for its result, which fails the test if Run takes over limit.
func runInBackground(t *testing.T, h *harness, limit time.Duration) (cancel func(), wait func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.sched.Run(ctx) }()
	t.Cleanup(cancel)
	return cancel, func() error {
		select {
		case err := <-done:
			return err
		case <-time.After(limit):
			t.Fatalf("Run did not return within %s of shutdown", limit)
			return nil
		}
	}
}

func waitFor(t *testing.T, what string, ch <-chan string) string {
	t.Helper()
	select {
	case id := <-ch:
		return id
	case <-time.After(15 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		return ""
	}
}

// Shutdown stops claiming, lets the send in flight finish, and gives back
// what was claimed but not sent; the next process sends those, once.
func TestRun_shutdownLetsSendsFinish(t *testing.T) {
	h := newHarness(t, "2026-06-01 10:00")
	const people = 20
	for i := range people {
		h.join(strconv.Itoa(i))
	}
	h.at("2026-06-01 18:00")
	g := &gate{rec: h.rec, entered: make(chan string, people), release: make(chan struct{})}
	h.sched.Senders[bot.PlatformTelegram] = g
	h.sched.Tick, h.sched.Workers, h.sched.Batch = "@every 1s", 1, 5

	cancel, wait := runInBackground(t, h, 15*time.Second)
	first := waitFor(t, "the first send", g.entered)
	// The signal arrives while that send is in flight; then it completes.
	cancel()
	close(g.release)
	if err := wait(); err != nil {
		t.Fatalf("Run after shutdown: %v, want nil", err)
	}
	if got := h.rec.count(first); got != 1 {
		t.Fatalf("the send in flight at shutdown: %d deliveries, want 1", got)
	}
	if got := h.rec.total(); got != 1 {
		t.Fatalf("%d delivered by the stopped process, want only the one in flight (claims stop at shutdown)", got)
	}

	// The next process sends the rest, once each.
	h.restart()
	h.sweepAt("2026-06-01 18:00:30")
	for i := range people {
		h.wantCount(strconv.Itoa(i), 1, "after the restart")
	}
}

// A send still running when the stop timeout ends is cut off; its outcome
// is unknown, so it is never sent again (at most once). Run still returns
// nil.
func TestRun_shutdownCutsOffStuckSends(t *testing.T) {
	h := newHarness(t, "2026-06-01 10:00")
	for i := range 3 {
		h.join(strconv.Itoa(i))
	}
	h.at("2026-06-01 18:00")
	g := &gate{rec: h.rec, entered: make(chan string, 3)} // never released
	h.sched.Senders[bot.PlatformTelegram] = g
	h.sched.Tick, h.sched.Workers, h.sched.StopTimeout = "@every 1s", 1, 100*time.Millisecond

	cancel, wait := runInBackground(t, h, 10*time.Second)
	stuck := waitFor(t, "the first send", g.entered)
	cancel()
	if err := wait(); err != nil {
		t.Fatalf("Run: %v, want nil", err)
	}

	h.restart()
	h.sweepAt("2026-06-01 18:01")
	for i := range 3 {
		id := strconv.Itoa(i)
		want := 1
		if id == stuck {
			want = 0
		}
		h.wantCount(id, want, "after the restart")
	}
	h.sweepAt("2026-06-02 18:00")
	h.wantCount(stuck, 1, "the next day")
}

// panicky is a Nudger that panics once, then renders with the engine.
type panicky struct {
	mu     sync.Mutex
	inner  interface{ Nudge(*bot.User) []bot.Reply }
	panics int
}

func (p *panicky) Nudge(u *bot.User) []bot.Reply {
	p.mu.Lock()
	n := p.panics
	p.panics++
	p.mu.Unlock()
	if n == 0 {
		panic("rendering went wrong")
	}
	return p.inner.Nudge(u)
}

// syncBuffer is a bytes.Buffer safe for a logger and a test to share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// A panic in a sweep is recovered and logged, and the next tick sweeps
// again.
func TestRun_recoversFromPanic(t *testing.T) {
	h := newHarness(t, "2026-06-01 10:00")
	h.join("1")
	h.at("2026-06-01 18:00")
	var logs syncBuffer
	h.sched.Log = slog.New(slog.NewTextHandler(&logs, nil))
	h.sched.Nudger = &panicky{inner: h.eng}
	h.sched.Tick = "@every 1s"
	cancel, wait := runInBackground(t, h, 10*time.Second)

	deadline := time.Now().Add(15 * time.Second)
	for h.rec.count("1") == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no prompt after a panicking sweep; logs:\n%s", logs.String())
		}
		time.Sleep(20 * time.Millisecond) // polling with a deadline
	}
	cancel()
	if err := wait(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "rendering went wrong") {
		t.Errorf("the panic was not logged:\n%s", logs.String())
	}
	h.wantCount("1", 1, "after the recovered panic")
}

func TestRun_badSetup(t *testing.T) {
	h := newHarness(t, "2026-06-01 10:00")
	h.sched.Tick = "every minute"
	if err := h.sched.Run(context.Background()); err == nil || !strings.Contains(err.Error(), `"every minute"`) {
		t.Fatalf("Run with a bad tick: %v, want an error naming it", err)
	}
	if _, err := (&scheduler.Scheduler{}).Sweep(context.Background(), time.Now()); err == nil {
		t.Fatal("Sweep with no Store: got no error")
	}
}
