package storage

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/trustbot/trustbot/bot"
)

// MustOpen opens a new store in a fresh file under tb.TempDir and closes it
// when the test ends.
func MustOpen(tb testing.TB) *Store {
	tb.Helper()
	return MustOpenPath(tb, filepath.Join(tb.TempDir(), "trustbot.db"))
}

// MustOpenPath opens the store at path and closes it when the test ends.
func MustOpenPath(tb testing.TB, path string) *Store {
	tb.Helper()
	return mustOpenFS(tb, path, migrations())
}

func mustOpenFS(tb testing.TB, path string, fsys fs.FS) *Store {
	tb.Helper()
	s, err := open(path, fsys)
	if err != nil {
		tb.Fatalf("open: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("close: %v", err)
		}
	})
	return s
}

// mustUser saves a new person and returns them.
func mustUser(tb testing.TB, s *Store, platformID string) *bot.User {
	tb.Helper()
	u := &bot.User{Platform: bot.PlatformTelegram, PlatformID: platformID, ChatID: platformID, Name: "Sam " + platformID, Step: 1}
	if err := s.SaveUser(context.Background(), u); err != nil {
		tb.Fatalf("save user: %v", err)
	}
	return u
}

// count runs a SELECT COUNT(*)-like query on s and returns its result.
func count(tb testing.TB, s *Store, query string, args ...any) int {
	tb.Helper()
	var n int
	if err := s.r.QueryRow(query, args...).Scan(&n); err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
	return n
}

// withMigrations returns the embedded migrations plus extra files.
func withMigrations(tb testing.TB, extra map[string]string) fstest.MapFS {
	tb.Helper()
	m := fstest.MapFS{}
	names, err := fs.Glob(migrations(), "*.sql")
	if err != nil {
		tb.Fatal(err)
	}
	for _, name := range names {
		b, err := fs.ReadFile(migrations(), name)
		if err != nil {
			tb.Fatal(err)
		}
		m[name] = &fstest.MapFile{Data: b}
	}
	for name, sql := range extra {
		m[name] = &fstest.MapFile{Data: []byte(sql)}
	}
	return m
}

// nextMigration names a migration file that follows the embedded ones,
// e.g. "0003_bad.sql" when there are two, and returns its version.
func nextMigration(tb testing.TB, name string) (string, int) {
	tb.Helper()
	ms, err := loadMigrations(migrations())
	if err != nil {
		tb.Fatal(err)
	}
	return fmt.Sprintf("%04d_%s.sql", len(ms)+1, name), len(ms) + 1
}

// schemaVersion returns the highest recorded migration.
func schemaVersion(tb testing.TB, s *Store) int {
	tb.Helper()
	return count(tb, s, "SELECT COALESCE(MAX(version), 0) FROM migrations")
}

func TestOpen_migratesEmptyDatabase(t *testing.T) {
	s := MustOpen(t)

	for _, table := range []string{"migrations", "users", "reflections"} {
		if got := count(t, s, "SELECT COUNT(*) FROM sqlite_schema WHERE type = 'table' AND name = ?", table); got != 1 {
			t.Errorf("table %s: got %d, want 1", table, got)
		}
	}
	for _, index := range []string{"reflections_user_created", "reflections_user_step"} {
		if got := count(t, s, "SELECT COUNT(*) FROM sqlite_schema WHERE type = 'index' AND name = ?", index); got != 1 {
			t.Errorf("index %s: got %d, want 1", index, got)
		}
	}
	ms, err := loadMigrations(migrations())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := schemaVersion(t, s), len(ms); got != want {
		t.Errorf("schema version: got %d, want %d", got, want)
	}
	var name string
	if err := s.r.QueryRow("SELECT name FROM migrations WHERE version = 1").Scan(&name); err != nil {
		t.Fatal(err)
	}
	if name != "0001_init.sql" {
		t.Errorf("migration 1: got name %q, want %q", name, "0001_init.sql")
	}
}

func TestOpen_connectionSettings(t *testing.T) {
	s := MustOpen(t)
	for _, tt := range []struct{ pragma, want string }{
		{"journal_mode", "wal"},
		{"synchronous", "2"}, // FULL
		{"foreign_keys", "1"},
		{"secure_delete", "1"},
		{"busy_timeout", "5000"},
	} {
		var got string
		if err := s.w.QueryRow("PRAGMA " + tt.pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != tt.want {
			t.Errorf("writer PRAGMA %s: got %q, want %q", tt.pragma, got, tt.want)
		}
	}
	// After a SaveUser (which lowers synchronous for its commit), the writer
	// is back to FULL.
	mustUser(t, s, "1")
	var sync string
	if err := s.w.QueryRow("PRAGMA synchronous").Scan(&sync); err != nil {
		t.Fatal(err)
	}
	if sync != "2" {
		t.Errorf("writer synchronous after SaveUser: got %s, want 2 (FULL)", sync)
	}
	if _, err := s.r.Exec("DELETE FROM users"); err == nil {
		t.Error("write through a reader connection: got no error, want query_only to refuse it")
	}
}

func TestOpen_reopenKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trustbot.db")
	ctx := context.Background()

	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	u := mustUser(t, s, "42")
	r := &bot.Reflection{UserID: u.ID, Step: 1, Text: "still here"}
	if err := s.AddReflection(ctx, r); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = MustOpenPath(t, path)
	got, err := s.User(ctx, bot.PlatformTelegram, "42")
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != u.ID {
		t.Errorf("user id: got %d, want %d", got.ID, u.ID)
	}
	rs, total, err := s.Reflections(ctx, u.ID, 10, 0)
	if err != nil {
		t.Fatal(err)
	}
	if total != 1 || len(rs) != 1 || rs[0].Text != "still here" {
		t.Errorf("reflections: got %+v (total %d), want one with text %q", rs, total, "still here")
	}
}

func TestMigrate_upToDateAppliesNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trustbot.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()

	s = MustOpenPath(t, path)
	n, err := s.migrate(context.Background(), migrations())
	if err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("applied: got %d, want 0", n)
	}
	if got, want := count(t, s, "SELECT COUNT(*) FROM migrations"), schemaVersion(t, s); got != want {
		t.Errorf("migration rows: got %d, want %d (one per version)", got, want)
	}
}

// usersWithNote rebuilds users the SQLite way (new table, copy, drop,
// rename) to add a column, as a later migration might.
const usersWithNote = `
CREATE TABLE users_new (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	platform     TEXT    NOT NULL CHECK (platform <> ''),
	platform_id  TEXT    NOT NULL CHECK (platform_id <> ''),
	chat_id      TEXT    NOT NULL DEFAULT '',
	name         TEXT    NOT NULL DEFAULT '',
	role         TEXT    NOT NULL DEFAULT '',
	step         INTEGER NOT NULL DEFAULT 1,
	completed    INTEGER NOT NULL DEFAULT 0 CHECK (completed IN (0, 1)),
	prompt_index INTEGER NOT NULL DEFAULT 0,
	last_prompt  TEXT    NOT NULL DEFAULT '',
	nudge_time   TEXT    NOT NULL DEFAULT '',
	time_zone    TEXT    NOT NULL DEFAULT '',
	paused       INTEGER NOT NULL DEFAULT 0 CHECK (paused IN (0, 1)),
	paused_until INTEGER,
	unreachable  INTEGER NOT NULL DEFAULT 0 CHECK (unreachable IN (0, 1)),
	started_at   INTEGER,
	last_seen_at INTEGER,
	note         TEXT    NOT NULL DEFAULT 'upgraded',
	UNIQUE (platform, platform_id)
) STRICT;
INSERT INTO users_new (id, platform, platform_id, chat_id, name, role, step, completed,
	prompt_index, last_prompt, nudge_time, time_zone, paused, paused_until,
	unreachable, started_at, last_seen_at)
SELECT id, platform, platform_id, chat_id, name, role, step, completed,
	prompt_index, last_prompt, nudge_time, time_zone, paused, paused_until,
	unreachable, started_at, last_seen_at FROM users;
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;
-- A comment after the last statement is fine.
`

func TestMigrate_upgradesOldDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trustbot.db")
	ctx := context.Background()

	// A database written by a build that knew version 1 only.
	v1 := fstest.MapFS{"0001_init.sql": withMigrations(t, nil)["0001_init.sql"]}
	old, err := open(path, v1)
	if err != nil {
		t.Fatal(err)
	}
	// Inserted by hand: SaveUser writes columns that version 1 lacks.
	res, err := old.w.Exec("INSERT INTO users (platform, platform_id) VALUES ('telegram', '7')")
	if err != nil {
		t.Fatal(err)
	}
	id, _ := res.LastInsertId()
	u := &bot.User{ID: id}
	// By hand too: AddReflection writes columns that version 1 lacks.
	for i := range 3 {
		if _, err := old.w.Exec("INSERT INTO reflections (user_id, step, text, created_at) VALUES (?, 1, ?, 1000)", u.ID, fmt.Sprint("entry ", i)); err != nil {
			t.Fatal(err)
		}
	}
	old.Close()

	noteFile, noteVersion := nextMigration(t, "users_note")
	newer := withMigrations(t, map[string]string{noteFile: usersWithNote})
	s := mustOpenFS(t, path, newer)

	if got := schemaVersion(t, s); got != noteVersion {
		t.Errorf("schema version: got %d, want %d", got, noteVersion)
	}
	var note string
	if err := s.r.QueryRow("SELECT note FROM users WHERE id = ?", u.ID).Scan(&note); err != nil {
		t.Fatalf("read the new column: %v", err)
	}
	if note != "upgraded" {
		t.Errorf("note: got %q, want %q", note, "upgraded")
	}
	// Dropping the old users table must not have cascaded to the journal.
	if got, err := s.CountReflections(ctx, u.ID, 0); err != nil || got != 3 {
		t.Errorf("reflections after upgrade: got %d (%v), want 3", got, err)
	}
	// The rebuilt table still cascades deletes.
	if err := s.DeleteUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if got := count(t, s, "SELECT COUNT(*) FROM reflections"); got != 0 {
		t.Errorf("reflections after deleting their user: got %d, want 0", got)
	}
	if n, err := s.migrate(ctx, newer); err != nil || n != 0 {
		t.Errorf("migrate again: applied %d (%v), want 0", n, err)
	}
}

func TestMigrate_failureRollsBack(t *testing.T) {
	for _, tt := range []struct {
		name, sql, wantErr string
	}{
		{"bad sql", "CREATE TABLE scratch (x INTEGER); INSERT INTO nope VALUES (1);", "no such table: nope"},
		{"broken reference", "CREATE TABLE scratch (x INTEGER); DELETE FROM users;", "broken reference: reflections row"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "trustbot.db")
			ctx := context.Background()
			s, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			u := mustUser(t, s, "1")
			if err := s.AddReflection(ctx, &bot.Reflection{UserID: u.ID, Step: 1, Text: "keep me"}); err != nil {
				t.Fatal(err)
			}
			s.Close()

			bad, badVersion := nextMigration(t, "bad")
			_, err = open(path, withMigrations(t, map[string]string{bad: tt.sql}))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), bad) {
				t.Fatalf("open: got error %v, want one naming %s and containing %q", err, bad, tt.wantErr)
			}

			s = MustOpenPath(t, path)
			if got := schemaVersion(t, s); got != badVersion-1 {
				t.Errorf("schema version: got %d, want %d", got, badVersion-1)
			}
			if got := count(t, s, "SELECT COUNT(*) FROM sqlite_schema WHERE name = 'scratch'"); got != 0 {
				t.Errorf("table scratch of the failed migration: got %d, want 0 (rolled back)", got)
			}
			if got, err := s.CountReflections(ctx, u.ID, 0); err != nil || got != 1 {
				t.Errorf("reflections: got %d (%v), want 1", got, err)
			}
		})
	}
}

func TestMigrate_newerDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trustbot.db")
	x, _ := nextMigration(t, "x")
	s, err := open(path, withMigrations(t, map[string]string{x: "CREATE TABLE x (y INTEGER);"}))
	if err != nil {
		t.Fatal(err)
	}
	s.Close()

	_, err = Open(path)
	if err == nil || !strings.Contains(err.Error(), "newer than this build") {
		t.Errorf("open with an older build: got %v, want an error saying the database is newer", err)
	}
}

func TestLoadMigrations(t *testing.T) {
	for _, tt := range []struct {
		name    string
		files   []string
		wantErr string // "" for success
	}{
		{"in order", []string{"0002_b.sql", "0001_a.sql", "0003_c.sql"}, ""},
		{"gap", []string{"0001_a.sql", "0003_c.sql"}, "got version 3, want 2"},
		{"duplicate", []string{"0001_a.sql", "0001_b.sql"}, "want 2"},
		{"no number", []string{"init.sql"}, "want a name like"},
		{"zero", []string{"0000_a.sql"}, "want a name like"},
		{"empty", nil, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{"README.md": {Data: []byte("not a migration")}}
			for _, f := range tt.files {
				fsys[f] = &fstest.MapFile{Data: []byte("SELECT 1;")}
			}
			ms, err := loadMigrations(fsys)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(ms) != len(tt.files) {
				t.Fatalf("got %d migrations, want %d", len(ms), len(tt.files))
			}
			for i, m := range ms {
				if m.version != i+1 {
					t.Errorf("migration %d: got version %d, want %d", i, m.version, i+1)
				}
			}
		})
	}
}

func TestOpen_concurrentlyOnNewFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trustbot.db")
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, n)
	stores := make(chan *Store, n)
	for range n {
		wg.Go(func() {
			s, err := Open(path)
			if err != nil {
				errs <- err
				return
			}
			stores <- s
		})
	}
	wg.Wait()
	close(errs)
	close(stores)
	for err := range errs {
		t.Errorf("open: %v", err)
	}
	var s *Store
	for st := range stores {
		s = st
		t.Cleanup(func() { st.Close() })
	}
	if s == nil {
		t.Fatal("no store opened")
	}
	if got := count(t, s, "SELECT COUNT(*) FROM migrations"); got != schemaVersion(t, s) {
		t.Errorf("migration rows: got %d, want one per version (%d)", got, schemaVersion(t, s))
	}
}

func TestOpen_errors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, path, want string
		location         bool // a *LocationError: the operator must fix where the file lives
	}{
		{"missing directory", filepath.Join(dir, "nope", "trustbot.db"),
			fmt.Sprintf("open store %q: directory %q does not exist", filepath.Join(dir, "nope", "trustbot.db"), filepath.Join(dir, "nope")), true},
		{"parent is a file", filepath.Join(file, "trustbot.db"),
			fmt.Sprintf("open store %q: %q is not a directory", filepath.Join(file, "trustbot.db"), file), true},
		{"empty path", "", `open store "": want the path of a database file`, false},
		{"memory", ":memory:", `open store ":memory:": want the path of a database file`, false},
		{"path is a directory", dir, fmt.Sprintf("open store %q", dir), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Open(tt.path)
			if err == nil {
				s.Close()
				t.Fatalf("got no error, want %q", tt.want)
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("got error %q, want %q", err, tt.want)
			}
			var le *LocationError
			if got := errors.As(err, &le); got != tt.location {
				t.Errorf("errors.As(%q, *LocationError) = %v, want %v", err, got, tt.location)
			}
		})
	}
}

func TestOpen_unwritable(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root can write anywhere")
	}
	t.Run("new file, read-only directory", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "ro")
		if err := os.Mkdir(dir, 0o500); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, "trustbot.db")
		_, err := Open(path)
		want := fmt.Sprintf("open store %q: directory %q is not writable", path, dir)
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("got error %v, want %q", err, want)
		}
	})
	t.Run("existing file, read-only directory", func(t *testing.T) {
		// SQLite must create the -wal and -shm files next to the database.
		dir := t.TempDir()
		path := filepath.Join(dir, "trustbot.db")
		s, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		if err := os.Chmod(dir, 0o500); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(dir, 0o700) })
		_, err = Open(path)
		want := fmt.Sprintf("open store %q: directory %q is not writable", path, dir)
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("got error %v, want %q", err, want)
		}
	})
	t.Run("read-only file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "trustbot.db")
		if err := os.WriteFile(path, nil, 0o400); err != nil {
			t.Fatal(err)
		}
		_, err := Open(path)
		want := fmt.Sprintf("open store %q: the file is not writable", path)
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("got error %v, want %q", err, want)
		}
	})
}

func TestOpen_fileMode(t *testing.T) {
	t.Run("new", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "trustbot.db")
		s := MustOpenPath(t, path)
		u := mustUser(t, s, "1")
		if err := s.AddReflection(context.Background(), &bot.Reflection{UserID: u.ID, Step: 1, Text: "x"}); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{path, path + "-wal", path + "-shm"} {
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if got := fi.Mode().Perm(); got != 0o600 {
				t.Errorf("%s: got mode %o, want 600", filepath.Base(p), got)
			}
		}
	})
	t.Run("existing files readable by others", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "trustbot.db")
		s, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		// As if left behind by a crash, or copied by hand.
		for _, p := range []string{path, path + "-wal"} {
			if err := os.WriteFile(p, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(p, 0o644); err != nil { // past the umask
				t.Fatal(err)
			}
		}
		MustOpenPath(t, path)
		for _, p := range []string{path, path + "-wal"} {
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if got := fi.Mode().Perm(); got != 0o600 {
				t.Errorf("%s: got mode %o, want 600", filepath.Base(p), got)
			}
		}
	})
}

func TestStore_concurrentWriters(t *testing.T) {
	const goroutines, each = 8, 50
	run := func(t *testing.T, storeFor func(i int) *Store, userID int64) {
		var wg sync.WaitGroup
		errs := make(chan error, goroutines*each)
		for g := range goroutines {
			s := storeFor(g)
			wg.Go(func() {
				ctx := context.Background()
				for i := range each {
					r := &bot.Reflection{UserID: userID, Step: g%10 + 1, Text: fmt.Sprintf("goroutine %d entry %d", g, i)}
					if err := s.AddReflection(ctx, r); err != nil {
						errs <- err
						return
					}
					// Readers interleave with the writers.
					if _, _, err := s.Reflections(ctx, userID, 5, 0); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		s := storeFor(0)
		if got, err := s.CountReflections(context.Background(), userID, 0); err != nil || got != goroutines*each {
			t.Errorf("reflections: got %d (%v), want %d", got, err, goroutines*each)
		}
		if got := count(t, s, "SELECT COUNT(DISTINCT id) FROM reflections WHERE user_id = ?", userID); got != goroutines*each {
			t.Errorf("distinct ids: got %d, want %d", got, goroutines*each)
		}
	}

	t.Run("one store", func(t *testing.T) {
		s := MustOpen(t)
		u := mustUser(t, s, "1")
		run(t, func(int) *Store { return s }, u.ID)
	})
	t.Run("a store per goroutine", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "trustbot.db")
		stores := make([]*Store, goroutines)
		for i := range stores {
			stores[i] = MustOpenPath(t, path)
		}
		u := mustUser(t, stores[0], "1")
		run(t, func(i int) *Store { return stores[i] }, u.ID)
	})
}

// TestAddReflection_survivesKill checks that a reflection is on disk once
// AddReflection returns: a child process adds reflections and prints each
// id after AddReflection returned; the parent kills it with SIGKILL midway
// and finds every printed id in the database.
func TestAddReflection_survivesKill(t *testing.T) {
	if os.Getenv("TRUSTBOT_CHILD") == "1" {
		killChild()
		return
	}
	path := filepath.Join(t.TempDir(), "trustbot.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	u := mustUser(t, s, "1")
	s.Close()

	cmd := exec.Command(os.Args[0], "-test.run=^TestAddReflection_survivesKill$", "-test.count=1")
	cmd.Env = append(os.Environ(), "TRUSTBOT_CHILD=1", "TRUSTBOT_DB="+path, "TRUSTBOT_USER="+strconv.FormatInt(u.ID, 10))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	watchdog := time.AfterFunc(60*time.Second, func() { cmd.Process.Kill() })
	defer watchdog.Stop()

	const killAfter = 100
	var acked []int64
	killed := false
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		line := sc.Text()
		idText, ok := strings.CutPrefix(line, "acked ")
		if !ok {
			continue
		}
		id, err := strconv.ParseInt(idText, 10, 64)
		if err != nil {
			t.Fatalf("child said %q", line)
		}
		acked = append(acked, id)
		if len(acked) == killAfter && !killed {
			if err := cmd.Process.Kill(); err != nil { // SIGKILL
				t.Fatal(err)
			}
			killed = true
		}
	}
	err = cmd.Wait()
	if !killed {
		t.Fatalf("the child ended before it was killed: %v\n%s", err, stderr.String())
	}
	if err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("child: got %v, want it killed\n%s", err, stderr.String())
	}
	t.Logf("the child acknowledged %d reflections before it died", len(acked))

	s = MustOpenPath(t, path)
	rs, total, err := s.Reflections(context.Background(), u.ID, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	have := make(map[int64]bool, len(rs))
	for _, r := range rs {
		have[r.ID] = true
	}
	for _, id := range acked {
		if !have[id] {
			t.Errorf("reflection %d was acknowledged but is not in the database", id)
		}
	}
	if total < len(acked) {
		t.Errorf("total: got %d, want at least %d", total, len(acked))
	}
}

// killChild is the child of TestAddReflection_survivesKill.
func killChild() {
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(2)
	}
	userID, err := strconv.ParseInt(os.Getenv("TRUSTBOT_USER"), 10, 64)
	if err != nil {
		fail(err)
	}
	s, err := Open(os.Getenv("TRUSTBOT_DB"))
	if err != nil {
		fail(err)
	}
	for i := range 100000 {
		r := &bot.Reflection{UserID: userID, Step: 1, Text: fmt.Sprintf("entry %d", i)}
		if err := s.AddReflection(context.Background(), r); err != nil {
			fail(err)
		}
		// os.Stdout is unbuffered: the parent sees this line as soon as it
		// is written.
		fmt.Fprintf(os.Stdout, "acked %d\n", r.ID)
	}
	fail(errors.New("was not killed"))
}
