package main

// Fault tests: kill -9 under load, an outage of the Bot API, a database
// locked by another process, and a database directory that is missing or
// not writable.

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/trustbot/trustbot/adapters/telegram/telegramtest"
	"github.com/trustbot/trustbot/bot"
	"github.com/trustbot/trustbot/storage"
)

// apology is what the engine says instead of an acknowledgment when it
// could not keep a reflection.
var apology = bot.ErrorMessage(fmt.Errorf("internal"))

// faultConfig writes a config for serve against api: prompts swept every
// second, no quiet hours, no pacing. extra goes at the end of [storage].
func faultConfig(t *testing.T, dir string, api *telegramtest.Server, storageExtra string) (cfg, db string) {
	t.Helper()
	db = filepath.Join(dir, "trustbot.db")
	cfg = writeFile(t, dir, "config.toml", fmt.Sprintf(`[storage]
path = %q
%s

[scheduler]
tick = "@every 1s"
quiet_start = "00:00"
quiet_end = "00:00"

[telegram]
enabled = true
token = %q
api_url = %q
rate_limit = 0
`, db, storageExtra, api.Token, api.URL))
	return cfg, db
}

// writer is one person of a load test writing reflections one after the
// other, each once the previous one was acknowledged.
type writer struct {
	u        telegramtest.User
	mu       sync.Mutex
	sent     []string     // reflections written, in order
	acked    map[int]bool // index into sent: the fake saw the bot acknowledge it
	answered int          // messages the bot sent, as counted so far
}

// write writes reflections until stop is closed.
func (w *writer) write(api *telegramtest.Server, stop <-chan struct{}) {
	for n := 0; ; n++ {
		text := fmt.Sprintf("reflection %d of person %d, kept", n, w.u.ID)
		w.mu.Lock()
		w.sent = append(w.sent, text)
		w.mu.Unlock()
		api.SendText(w.u, telegramtest.Private(w.u), text)
		if !api.WaitCount(w.u.ID, w.answered+1, stop) {
			return
		}
		w.settle(api)
		select {
		case <-stop:
			return
		default:
		}
	}
}

// settle attributes the bot's messages since the last count to the
// reflection in flight: one reflection is in flight at a time, so any
// answer is its answer (a repeat of the one before, replayed after a
// crash, can only come while this one is still unconfirmed, so this one is
// handled after it too).
func (w *writer) settle(api *telegramtest.Server) {
	msgs := api.Messages(w.u.ID)
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, m := range msgs[w.answered:] {
		if m.Text != apology && len(w.sent) > 0 {
			w.acked[len(w.sent)-1] = true
		}
	}
	w.answered = len(msgs)
}

// quiet waits until the fake has no update pending and the bot has sent
// nothing for settle.
func quiet(t *testing.T, api *telegramtest.Server, settle, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	last, since := -1, time.Now()
	for {
		n := len(api.AllMessages())
		if n != last || api.Pending() > 0 {
			last, since = n, time.Now()
		}
		if time.Since(since) >= settle {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the bot did not settle within %s (%d updates pending)", timeout, api.Pending())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// startChild starts `trustbot serve -config cfg` as a child process, its
// output in dir/name.
func startChild(t *testing.T, cfg, dir, name string) (*exec.Cmd, string) {
	t.Helper()
	logPath := filepath.Join(dir, name)
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := child(t, "serve", "serve", "-config", cfg)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	f.Close() // the child has its own copy
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return cmd, logPath
}

func fileText(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

// TestKill9UnderLoad: 200 people write reflections while daily prompts
// fall due; serve is killed with SIGKILL at a random moment and started
// again. Every reflection the bot had acknowledged is in the journal, every
// one sent before the kill is answered or kept after the restart, and
// nobody gets a daily prompt twice.
func TestKill9UnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("a load test")
	}
	const writers, nudged = 200, 100
	seed := time.Now().UnixNano()
	rng := rand.New(rand.NewPCG(uint64(seed), 0))
	t.Logf("seed %d", seed)

	api := telegramtest.NewServer(t, telegramtest.Options{})
	dir := t.TempDir()
	keyFile := filepath.Join(t.TempDir(), "trustbot.key")
	key, err := storage.WriteKeyFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	cfg, db := faultConfig(t, dir, api, fmt.Sprintf("encryption_key_file = %q", keyFile))

	ws := make([]*writer, writers)
	ids := make([]int64, 0, writers+nudged)
	for i := range ws {
		ws[i] = &writer{u: telegramtest.User{ID: int64(10000 + i), FirstName: "W"}, acked: map[int]bool{}}
		ids = append(ids, ws[i].u.ID)
	}
	for i := range nudged {
		ids = append(ids, int64(20000+i))
	}
	for _, id := range ids {
		api.AddChat(telegramtest.Chat{ID: id, Type: "private"})
	}
	// Writers have no prompt due; the others' prompts fall due over the
	// first seconds of the run, around the kill.
	start := time.Now()
	seedUsers(t, db, key, ids, func(int) string { return "P" }, func(i int) time.Time {
		if i < writers {
			return time.Time{}
		}
		return start.Add(500*time.Millisecond + time.Duration(i-writers)*30*time.Millisecond)
	})

	first, log1 := startChild(t, cfg, dir, "first.log")
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for _, w := range ws {
		wg.Go(func() { w.write(api, stop) })
	}
	killAfter := time.Second + time.Duration(rng.Int64N(int64(2*time.Second)))
	time.Sleep(killAfter) // the random moment
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	first.Wait()
	close(stop)
	wg.Wait()
	nudgesBefore := 0
	for _, id := range ids[writers:] {
		nudgesBefore += len(api.Messages(id))
	}

	second, log2 := startChild(t, cfg, dir, "second.log")
	quiet(t, api, 1500*time.Millisecond, 2*patience)
	if err := second.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := second.Wait(); err != nil {
		t.Fatalf("the restarted serve: %v\n%s", err, fileText(log2))
	}
	if out := fileText(log1) + fileText(log2); strings.Contains(out, "level=ERROR") {
		t.Errorf("errors logged:\n%s", out)
	}

	st, err := storage.OpenWith(db, storage.Options{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var acked, found, twice, lost, sent int
	for _, w := range ws {
		w.settle(api) // answers that came after the kill
		kept := map[string]int{}
		for _, text := range journal(t, st, w.u.ID) {
			kept[text]++
		}
		for i, text := range w.sent {
			sent++
			switch {
			case w.acked[i]:
				acked++
				if kept[text] > 0 {
					found++
				} else {
					t.Errorf("person %d: acknowledged %q is not in the journal", w.u.ID, text)
				}
			case kept[text] == 0:
				lost++ // never acknowledged: the person saw no answer
			}
			if kept[text] > 1 {
				twice++
			}
		}
	}
	nudges, unknown := 0, 0
	for _, id := range ids[writers:] {
		switch n := len(api.Messages(id)); {
		case n > 1:
			t.Errorf("person %d got %d daily prompts, want at most 1", id, n)
		case n == 1:
			nudges++
		}
	}
	// Each prompt was claimed once: sent, or cut off by the kill between
	// the claim and its outcome (sent or not, never sent again).
	stats, err := st.Stats(context.Background(), time.Now(), 2) // today and, near midnight, yesterday
	if err != nil {
		t.Fatal(err)
	}
	recorded := 0
	for _, d := range stats.Days {
		unknown += d.Nudges[bot.NudgeClaimed]
		recorded += d.Nudges[bot.NudgeSent]
	}
	if recorded+unknown != nudged || nudges < recorded || nudges > nudged {
		t.Errorf("daily prompts: %d arrived; %d recorded sent and %d cut off by the kill; want %d claims in all, and at least the recorded ones arrived",
			nudges, recorded, unknown, nudged)
	}
	if acked == 0 || acked != found {
		t.Errorf("acknowledged %d, found %d: want equal and more than 0", acked, found)
	}
	// The inbox: what the person sent before the kill was stored before
	// Telegram was told it arrived, so the restarted serve handles it.
	if lost != 0 {
		t.Errorf("%d of %d reflections were neither answered nor kept, want 0: updates confirmed to Telegram were lost in the kill", lost, sent)
	}
	// Replayed updates carry their message id, and a reflection is kept
	// once per message.
	if twice != 0 {
		t.Errorf("%d reflections were stored twice after the replay, want 0", twice)
	}
	t.Logf("kill -9 after %v: %d reflections written, %d acknowledged, %d of those found in the journal; "+
		"%d stored twice (replayed after the kill), %d never answered nor kept; "+
		"daily prompts: %d of %d arrived once (%d before the kill), %d claims left without an outcome by the kill (never resent)",
		killAfter.Round(time.Millisecond), sent, acked, found, twice, lost, nudges, nudged, nudgesBefore, unknown)
}

// outageFor is how long TestOutage's Bot API outage lasts: 3 s, or
// TRUSTBOT_OUTAGE (e.g. 10s) for the full test.
func outageFor(t *testing.T) time.Duration {
	if v := os.Getenv("TRUSTBOT_OUTAGE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("TRUSTBOT_OUTAGE: %v", err)
		}
		return d
	}
	return 3 * time.Second
}

// TestOutage: the Bot API answers 502 with a proxy's page for the first
// half of an outage and drops every connection for the second half, while
// people are in a conversation and daily prompts fall due. Afterwards every
// reply and every prompt has arrived exactly once, and every reflection is
// kept once.
func TestOutage(t *testing.T) {
	outage := outageFor(t)
	const people = 20
	api := telegramtest.NewServer(t, telegramtest.Options{})
	cfg, db := faultConfig(t, t.TempDir(), api, "plaintext = true")
	var writers, nudged []int64
	for i := range people {
		writers = append(writers, int64(30000+i))
		nudged = append(nudged, int64(31000+i))
	}
	for _, id := range append(writers, nudged...) {
		api.AddChat(telegramtest.Chat{ID: id, Type: "private"})
	}
	// Nobody's prompt is due yet: they fall due when the outage begins.
	seedUsers(t, db, nil, append(writers, nudged...), func(int) string { return "P" }, func(int) time.Time { return time.Time{} })
	srv := startServe(t, cfg)
	say := func(round int) {
		for _, id := range writers {
			api.SendText(telegramtest.User{ID: id, FirstName: "P"}, telegramtest.Private(telegramtest.User{ID: id}), fmt.Sprintf("round %d from %d", round, id))
		}
	}
	replies := func(n int) bool {
		for _, id := range writers {
			if len(api.Messages(id)) < n {
				return false
			}
		}
		return true
	}
	say(1)
	waitUntil(t, "the first replies", patience, func() bool { return replies(1) })

	say(2)
	// In the middle of the conversation: some replies out, some not yet.
	waitUntil(t, "a second reply", patience, func() bool {
		for _, id := range writers {
			if len(api.Messages(id)) >= 2 {
				return true
			}
		}
		return false
	})
	api.Outage(outage/2, telegramtest.Failure{Code: 502, NotJSON: true})
	dueNow(t, db, nudged) // the next sweep, within a second, meets the outage
	say(3)
	time.Sleep(outage / 2)
	api.Outage(outage/2, telegramtest.Failure{Drop: true})
	time.Sleep(outage / 2)
	ended := time.Now()

	waitUntil(t, "every reply and prompt", 45*time.Second, func() bool {
		for _, id := range nudged {
			if len(api.Messages(id)) < 1 {
				return false
			}
		}
		return replies(3)
	})
	caughtUp := time.Since(ended)
	quiet(t, api, time.Second, patience)
	if code := srv.stop(); code != 0 {
		t.Fatalf("serve exited %d:\n%s", code, srv.out)
	}

	st, err := storage.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, id := range writers {
		msgs := api.Messages(id)
		if len(msgs) != 3 {
			t.Errorf("person %d got %d replies, want 3", id, len(msgs))
		}
		for _, m := range msgs {
			if m.Text == apology {
				t.Errorf("person %d got an apology", id)
			}
		}
		kept := journal(t, st, id)
		if len(kept) != 3 {
			t.Errorf("person %d's journal holds %d reflections, want 3: %q", id, len(kept), kept)
		}
	}
	heldUp := 0 // prompts due before the outage ended that arrived after it
	for _, id := range nudged {
		msgs := api.Messages(id)
		if len(msgs) != 1 {
			t.Errorf("person %d got %d daily prompts, want 1", id, len(msgs))
			continue
		}
		if msgs[0].At.After(ended) {
			heldUp++
		}
	}
	if heldUp == 0 {
		t.Errorf("no daily prompt was held up by the outage: the test missed the sweep")
	}
	stats, err := st.Stats(context.Background(), time.Now(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if got := stats.Days[0].Nudges[bot.NudgeSent]; got != people {
		t.Errorf("%d prompts recorded as sent, want %d (%v)", got, people, stats.Days[0].Nudges)
	}
	for _, want := range []string{"send failed; retrying", "polling failed; retrying"} {
		if !strings.Contains(srv.out.String(), want) {
			t.Errorf("no log line says %q: the outage was not felt", want)
		}
	}
	t.Logf("outage of %v (502 pages, then dropped connections), begun in a conversation, with prompts falling due as it began: "+
		"%d replies and %d prompts (%d of them held up by the outage) arrived once each, the last %v after it ended",
		outage.Round(time.Millisecond), 3*people, people, heldUp, caughtUp.Round(time.Millisecond))
}

// dueNow makes the daily prompts of Telegram people ids due now, through a
// second Store on the database serve is using.
func dueNow(t *testing.T, db string, ids []int64) {
	t.Helper()
	st, err := storage.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	for _, id := range ids {
		u, err := st.User(ctx, bot.PlatformTelegram, fmt.Sprint(id))
		if err != nil {
			t.Fatal(err)
		}
		u.NextDue = time.Now()
		if err := st.SaveUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
}

// TestStorageLocked: another process holds the database's write lock for
// 2 s; a reflection written meanwhile waits (busy timeout) and is kept and
// acknowledged.
func TestStorageLocked(t *testing.T) {
	api := telegramtest.NewServer(t, telegramtest.Options{})
	cfg, db := faultConfig(t, t.TempDir(), api, "plaintext = true")
	u := telegramtest.User{ID: 40000, FirstName: "L"}
	seedUsers(t, db, nil, []int64{u.ID}, func(int) string { return "L" }, func(int) time.Time { return time.Time{} })
	srv := startServe(t, cfg)
	api.SendText(u, telegramtest.Private(u), "before the lock")
	api.WaitMessages(t, u.ID, 1, patience)

	holder := child(t, "holdlock", db, "2s")
	out, err := holder.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	holder.Stderr = os.Stderr
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(out)
	if !lines.Scan() || lines.Text() != "locked" {
		t.Fatalf("the lock holder said %q, want locked", lines.Text())
	}
	locked := time.Now()
	api.SendText(u, telegramtest.Private(u), "while the database is locked")
	msgs := api.WaitMessages(t, u.ID, 2, patience)
	waited := msgs[1].At.Sub(locked)
	for lines.Scan() {
	}
	if err := holder.Wait(); err != nil {
		t.Fatalf("the lock holder: %v", err)
	}
	if msgs[1].Text == apology {
		t.Fatalf("the reflection written during the lock got an apology; log:\n%s", srv.out)
	}
	if waited < 1500*time.Millisecond {
		t.Fatalf("the acknowledgment came %v after the lock was taken: the lock did not hold it up", waited)
	}
	if code := srv.stop(); code != 0 {
		t.Fatalf("serve exited %d:\n%s", code, srv.out)
	}
	st, err := storage.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if kept := journal(t, st, u.ID); len(kept) != 2 || kept[0] != "while the database is locked" {
		t.Fatalf("journal %q, want both reflections", kept)
	}
	if strings.Contains(srv.out.String(), "level=ERROR") {
		t.Fatalf("errors logged:\n%s", srv.out)
	}
	t.Logf("a reflection written while another process held the write lock for 2s was acknowledged %v after the lock was taken", waited.Round(time.Millisecond))
}

// TestStorageDirErrors: a database directory that is missing or not
// writable stops serve at start with exit 2 and a message naming the key
// and the directory.
func TestStorageDirErrors(t *testing.T) {
	api := telegramtest.NewServer(t, telegramtest.Options{})
	readOnly := t.TempDir()
	if err := os.Chmod(readOnly, 0o500); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(readOnly, 0o700) })
	if f, err := os.CreateTemp(readOnly, "probe"); err == nil {
		// root writes anywhere: use a directory of a file system that takes
		// no new files, if there is one.
		f.Close()
		os.Remove(f.Name())
		readOnly = "/sys"
		if f, err := os.CreateTemp(readOnly, "probe"); err == nil {
			f.Close()
			os.Remove(f.Name())
			readOnly = ""
		}
	}
	tests := []struct {
		name, dir, want string
	}{
		{"Missing", filepath.Join(t.TempDir(), "no", "such"), "does not exist"},
		{"ReadOnly", readOnly, "is not writable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.dir == "" {
				t.Skip("no directory here is read-only for this user")
			}
			cfg, _ := faultConfig(t, t.TempDir(), api, "plaintext = true")
			db := filepath.Join(tt.dir, "trustbot.db")
			body, _ := os.ReadFile(cfg)
			os.WriteFile(cfg, []byte(strings.Replace(string(body), "path = ", fmt.Sprintf("path = %q\n# was: ", db), 1)), 0o600)
			code, out := serve(context.Background(), cfg)
			if code != 2 || !strings.Contains(out, "storage.path") || !strings.Contains(out, tt.dir) || !strings.Contains(out, tt.want) {
				t.Fatalf("exit %d, want 2 with storage.path, %s and %q; output:\n%s", code, tt.dir, tt.want, out)
			}
			if api.Calls("getMe") != 0 {
				t.Fatal("serve reached Telegram before checking the database")
			}
		})
	}
}
