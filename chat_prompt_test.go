package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is an output both the chat and the test use at once.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// testClock is a clock the test sets.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func waitOutput(t *testing.T, out *lockedBuffer, want string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(out.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("the terminal never showed %q:\n%s", want, out.String())
		}
		time.Sleep(10 * time.Millisecond) // polling with a deadline
	}
}

// TestChatShowsDailyPrompt: a newcomer in `trustbot chat` sets /time a
// minute ahead, and the prompt appears in the terminal when that minute
// comes (the scheduler ticks every second; the clock is the test's).
func TestChatShowsDailyPrompt(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "chat.toml")
	conf := fmt.Sprintf("[storage]\npath = %q\n[scheduler]\ntick = \"@every 1s\"\ndefault_timezone = \"Europe/Berlin\"\n", filepath.Join(dir, "chat.db"))
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	clock := &testClock{t: time.Date(2026, 6, 1, 12, 59, 10, 0, time.UTC)} // 14:59:10 in Berlin
	in, typing := io.Pipe()
	var out, errOut lockedBuffer
	done := make(chan error, 1)
	go func() {
		done <- runChatClock(context.Background(), []string{"-config", cfg}, in, &out, &errOut, clock.Now)
	}()

	fmt.Fprintln(typing, "/start")
	fmt.Fprintln(typing, "/time 15:00")
	waitOutput(t, &out, "The next one comes today at 15:00.")
	if strings.Contains(out.String(), "Pause reminders") {
		t.Fatalf("a prompt before its time:\n%s", out.String())
	}

	clock.Set(time.Date(2026, 6, 1, 13, 0, 0, 0, time.UTC)) // 15:00 in Berlin
	waitOutput(t, &out, "Pause reminders")
	transcript := out.String()
	for _, want := range []string{"Step 1 of 10 — ", "[1] Write a reflection", "[2] Show the step", "[3] Pause reminders"} {
		if !strings.Contains(transcript, want) {
			t.Fatalf("the prompt lacks %q:\n%s", want, transcript)
		}
	}

	// Pressing 1 under the prompt invites a reflection.
	fmt.Fprintln(typing, "1")
	waitOutput(t, &out, "Take your time.")
	typing.Close()
	select {
	case err := <-done:
		if code := exitCode(err, &errOut); code != 0 {
			t.Fatalf("chat exited %d; stderr:\n%s", code, errOut.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("chat did not exit at the end of input")
	}
	if n := strings.Count(out.String(), "Pause reminders"); n != 1 {
		t.Fatalf("the prompt appeared %d times, want once:\n%s", n, out.String())
	}
}

func TestSchedulerConfig(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		name, conf, want string
	}{
		{"BadTick", "[scheduler]\ntick = \"every minute\"\n", `scheduler.tick: "every minute" is not a robfig/cron schedule`},
		{"BadQuietStart", "[scheduler]\nquiet_start = \"10pm\"\n", `scheduler.quiet_start: "10pm" is not a 24-hour HH:MM time`},
		{"BadQuietEnd", "[scheduler]\nquiet_end = \"25:00\"\n", `scheduler.quiet_end: "25:00"`},
		{"Unknown", "[scheduler]\nquiet_hours = \"22-8\"\n", `unknown key "scheduler.quiet_hours"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, tt.name+".toml")
			if err := os.WriteFile(p, []byte(tt.conf), 0o600); err != nil {
				t.Fatal(err)
			}
			out, errOut, code := runCmd(t, "", "chat", "-config", p, "-db", filepath.Join(dir, "x.db"))
			if code != 2 || !strings.Contains(errOut, tt.want) {
				t.Fatalf("exit %d, want 2 with %q; stdout:\n%s\nstderr:\n%s", code, tt.want, out, errOut)
			}
		})
	}
	// The example config is valid, quiet hours included.
	if _, err := loadConfig("config.example.toml"); err != nil {
		t.Fatalf("config.example.toml: %v", err)
	}
}
