package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// runCmd runs the trustbot CLI in-process with the given stdin.
func runCmd(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	code = exitCode(err, &errb)
	return out.String(), errb.String(), code
}

// TestChatPipedJourney is the core's acceptance test: a piped session walks
// /start, /step, a reflection, /journal, /next, /step; a second run on the
// same database continues at step 2.
func TestChatPipedJourney(t *testing.T) {
	db := filepath.Join(t.TempDir(), "chat.db")
	in := "/start\n/step\nI know I have to own what I did.\n/journal\n/next\n/step\n"
	out, errOut, code := runCmd(t, in, "chat", "-db", db)
	if code != 0 {
		t.Fatalf("chat exited %d; stderr:\n%s", code, errOut)
	}
	for _, want := range []string{"Step 1 of 10 — Acknowledge what happened", "I know I have to own what I did.", "Step 2 of 10 — "} {
		if !strings.Contains(out, want) {
			t.Fatalf("transcript lacks %q:\n%s", want, out)
		}
	}
	if i, j := strings.Index(out, "Your journal"), strings.LastIndex(out, "Step 2 of 10"); i < 0 || j < i {
		t.Fatalf("journal should come before step 2 in the transcript:\n%s", out)
	}
	if !strings.Contains(strings.ToLower(out), "honest") {
		t.Fatalf("step 2 should be about honest dialogue:\n%s", out)
	}

	out, errOut, code = runCmd(t, "/step\n", "chat", "-db", db)
	if code != 0 {
		t.Fatalf("second chat exited %d; stderr:\n%s", code, errOut)
	}
	if !strings.Contains(out, "Step 2 of 10") {
		t.Fatalf("second run did not continue at step 2:\n%s", out)
	}
	if fi, err := os.Stat(db); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("database file mode = %v, %v; want 0600", fi.Mode().Perm(), err)
	}
}

func TestChatButtonsByNumber(t *testing.T) {
	db := filepath.Join(t.TempDir(), "chat.db")
	// /start offers four role choices; "2" is "My trust was broken", which shows step 1.
	out, _, code := runCmd(t, "/start\n2\n", "chat", "-db", db)
	if code != 0 || !strings.Contains(out, "[2] My trust was broken") || !strings.Contains(out, "Step 1 of 10") {
		t.Fatalf("pressing 2 did not choose a role and show step 1 (exit %d):\n%s", code, out)
	}
	// With step buttons [1] reflect [2] next on screen, "2" moves on.
	out, _, _ = runCmd(t, "/step\n2\n", "chat", "-db", db)
	if !strings.Contains(out, "Step 2 of 10") {
		t.Fatalf("pressing 2 under a step did not move on:\n%s", out)
	}
	// A number with no buttons on screen is a reflection.
	out, _, _ = runCmd(t, "/progress\n42\n/journal\n", "chat", "-db", db)
	if !strings.Contains(out, "\n42\n") {
		t.Fatalf("a bare number with no buttons was not kept as a reflection:\n%s", out)
	}
}

func TestCLI(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.toml", "[storage]\npath = \""+filepath.Join(dir, "x.db")+"\"\n[scheduler]\ndefault_time = \"08:30\"\n")
	unknown := write("unknown.toml", "[storage]\npath = \"x.db\"\n\n[scheduler]\ndefualt_time = \"08:30\"\n")
	badTime := write("badtime.toml", "[scheduler]\ndefault_time = \"8pm\"\n")
	syntax := write("syntax.toml", "[storage\npath = 1\n")
	tests := []struct {
		name     string
		args     []string
		code     int
		contains string
	}{
		{"Version", []string{"version"}, 0, "trustbot"},
		{"Help", []string{"help"}, 0, "trustbot chat"},
		{"NoArgs", nil, 2, "no command"},
		{"Unknown", []string{"dance"}, 2, `unknown command "dance"`},
		{"ServeNeedsConfig", []string{"serve"}, 2, "-config"},
		{"ServeNothingEnabled", []string{"serve", "-config", good}, 2, "no platform is enabled"},
		{"UnknownKey", []string{"serve", "-config", unknown}, 2, "unknown.toml:5: unknown key \"scheduler.defualt_time\""},
		{"BadTime", []string{"serve", "-config", badTime}, 2, "scheduler.default_time"},
		{"Syntax", []string{"serve", "-config", syntax}, 2, "syntax.toml:2: expected"},
		{"MissingConfig", []string{"serve", "-config", filepath.Join(dir, "nope.toml")}, 2, "nope.toml"},
		{"ContentCheckUsage", []string{"content"}, 2, "content check FILE"},
		{"ContentCheckMissing", []string{"content", "check", filepath.Join(dir, "none.toml")}, 2, "none.toml"},
		{"ChatBadFlag", []string{"chat", "-nope"}, 2, "flag provided but not defined"},
		{"ChatWithConfig", []string{"chat", "-config", good}, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := runCmd(t, "", tt.args...)
			if code != tt.code {
				t.Fatalf("exit code = %d, want %d; stdout:\n%s\nstderr:\n%s", code, tt.code, out, errOut)
			}
			if !strings.Contains(out+errOut, tt.contains) {
				t.Fatalf("output lacks %q; stdout:\n%s\nstderr:\n%s", tt.contains, out, errOut)
			}
		})
	}
}

func TestTokensNeverPrinted(t *testing.T) {
	// A config error must not echo a secret that sits on a neighbouring line.
	dir := t.TempDir()
	p := filepath.Join(dir, "c.toml")
	os.WriteFile(p, []byte("[storage]\npath = \"s3cr3t-token-value\"\nbogus = 1\n"), 0o600)
	out, errOut, _ := runCmd(t, "", "serve", "-config", p)
	if strings.Contains(out+errOut, "s3cr3t-token-value") {
		t.Fatalf("a config value was printed in an error:\n%s%s", out, errOut)
	}
}

// BenchmarkStartup opens a store (a fresh file, with migrations) and loads
// the embedded program, as every command does at start. Target: under 20 ms.
func BenchmarkStartup(b *testing.B) {
	dir := b.TempDir()
	cfg := defaultConfig()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		a, err := openApp(cfg, filepath.Join(dir, strconv.Itoa(i)+".db"), io.Discard)
		if err != nil {
			b.Fatal(err)
		}
		a.store.Close()
	}
}
