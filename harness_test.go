package main

// Helpers for the tests that run `trustbot serve` against the fake Bot API:
// in this process (liveServe) or as a child process (see fault_test.go).

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trustbot/trustbot/bot"
	"github.com/trustbot/trustbot/storage"
)

// patience is how long a test waits for what takes milliseconds: generous,
// for a loaded 2-core machine running the tests with -race.
const patience = 30 * time.Second

// syncBuffer is a bytes.Buffer that serve's logger and a test may share.
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

// liveServe is `trustbot serve` running in this process.
type liveServe struct {
	t      *testing.T
	cancel context.CancelFunc
	done   chan int
	out    *syncBuffer // stdout and stderr: the log
}

// startServe runs `trustbot serve -config cfg` until stop is called or the
// test ends.
func startServe(t *testing.T, cfg string) *liveServe {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &liveServe{t: t, cancel: cancel, done: make(chan int, 1), out: &syncBuffer{}}
	go func() {
		err := run(ctx, []string{"serve", "-config", cfg}, strings.NewReader(""), s.out, s.out)
		s.done <- exitCode(err, s.out)
	}()
	t.Cleanup(func() { s.stop() })
	return s
}

// stop stops serve as a signal would and returns its exit code.
func (s *liveServe) stop() int {
	s.t.Helper()
	if s.cancel == nil {
		return 0
	}
	// A connection the test's (or the fake's) client dialled but never
	// used would hold up the webhook server's graceful shutdown for 5 s.
	http.DefaultClient.CloseIdleConnections()
	s.cancel()
	s.cancel = nil
	select {
	case code := <-s.done:
		return code
	case <-time.After(patience):
		s.t.Fatalf("serve did not stop within %s; output:\n%s", patience, s.out)
		return -1
	}
}

// writeFile writes body to dir/name and returns the path.
func writeFile(t testing.TB, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// freeAddr returns a loopback address that was free a moment ago.
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// waitUntil polls cond every 10 ms until it holds, and fails the test
// after timeout, saying what it waited for.
func waitUntil(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// seedUsers saves Telegram people into the database at db (opened with
// key, if not nil) before serve starts: each with id ids[i], the given
// name, on step 1, and their daily prompt due at due(i) (zero: none).
func seedUsers(t testing.TB, db string, key *storage.Key, ids []int64, name func(int) string, due func(int) time.Time) {
	t.Helper()
	st, err := storage.OpenWith(db, storage.Options{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Now().UTC()
	for i, id := range ids {
		pid := fmt.Sprint(id)
		u := &bot.User{
			Platform: bot.PlatformTelegram, PlatformID: pid, ChatID: pid, Name: name(i),
			Role: bot.RoleHurt, Step: 1, NudgeTime: now.Add(-time.Hour).Format("15:04"), TimeZone: "UTC",
			StartedAt: now, LastSeenAt: now, NextDue: due(i),
		}
		if err := st.SaveUser(context.Background(), u); err != nil {
			t.Fatal(err)
		}
	}
}

// journal returns the texts of the reflections of Telegram person id.
func journal(t testing.TB, st *storage.Store, id int64) []string {
	t.Helper()
	ctx := context.Background()
	u, err := st.User(ctx, bot.PlatformTelegram, fmt.Sprint(id))
	if err != nil {
		t.Fatalf("user %d: %v", id, err)
	}
	rs, _, err := st.Reflections(ctx, u.ID, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Text
	}
	return out
}
