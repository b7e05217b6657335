package storage

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trustbot/trustbot/bot"
)

// TestBackup_underLoad backs up a sealed database while writers keep adding
// reflections through another Store (as `trustbot serve` would): the copy
// opens with the key, passes integrity_check, and holds every reflection
// acknowledged before the backup began.
func TestBackup_underLoad(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "trustbot.db"), filepath.Join(dir, "backup.db")
	key := mustKey(t, 1)
	s := mustOpenWith(t, src, Options{Key: key})

	const writers = 4
	var users []*bot.User
	for i := range writers {
		users = append(users, mustUser(t, s, fmt.Sprint(i)))
	}
	// Some bulk, so that the copy takes a while and writes go on meanwhile.
	bulkInsert(t, s, users[0].ID, 20000, 500)
	type ack struct {
		id     int64
		userID int64
		text   string
	}
	var (
		mu    sync.Mutex
		acked []ack
	)
	stop := make(chan struct{})
	errc := make(chan error, writers)
	var wg sync.WaitGroup
	for w, u := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				r := &bot.Reflection{UserID: u.ID, Step: 1, Text: fmt.Sprintf("writer %d, entry %d", w, i)}
				if err := s.AddReflection(ctx, r); err != nil {
					errc <- err
					return
				}
				mu.Lock()
				acked = append(acked, ack{r.ID, u.ID, r.Text})
				mu.Unlock()
			}
		}()
	}
	waitFor := func(n int) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			mu.Lock()
			got := len(acked)
			mu.Unlock()
			if got >= n {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("only %d reflections written in 30 s, want %d", got, n)
			}
			time.Sleep(time.Millisecond)
		}
	}
	waitFor(200)

	mu.Lock()
	before := append([]ack(nil), acked...)
	mu.Unlock()
	res, err := Backup(ctx, src, dst)
	if err != nil {
		t.Fatalf("backup: %v", err)
	}
	mu.Lock()
	during := len(acked) - len(before)
	mu.Unlock()
	// The writers were never blocked: more writes get through after it.
	waitFor(len(before) + 50)
	close(stop)
	wg.Wait()
	select {
	case err := <-errc:
		t.Fatalf("a writer failed during the backup: %v", err)
	default:
	}

	if res.Reflections < len(before) || res.People != writers || res.Bytes <= 0 {
		t.Fatalf("backup result %+v; want at least %d reflections, %d people, a size", res, len(before), writers)
	}
	fi, err := os.Stat(dst)
	if err != nil || fi.Mode().Perm() != 0o600 || fi.Size() != res.Bytes {
		t.Fatalf("backup file: %v, %v; want mode 0600 and %d bytes", fi, err, res.Bytes)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".backup.db.partial-*")); len(left) > 0 {
		t.Fatalf("temporary files left behind: %v", left)
	}

	db, err := sql.Open("sqlite3", dst)
	if err != nil {
		t.Fatal(err)
	}
	var check string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check of the copy = %q, %v; want ok", check, err)
	}
	db.Close()

	cp := mustOpenWith(t, dst, Options{Key: key})
	texts := map[int64]string{}
	for _, u := range users {
		rs, _, err := cp.Reflections(ctx, u.ID, 0, 0)
		if err != nil {
			t.Fatalf("read the copy: %v", err)
		}
		for _, r := range rs {
			texts[r.ID] = r.Text
		}
	}
	delete(texts, 0)
	for _, a := range before {
		if got, ok := texts[a.id]; !ok || got != a.text {
			t.Fatalf("reflection %d (%q), acknowledged before the backup, is %q in the copy (present: %v)", a.id, a.text, got, ok)
		}
	}
	t.Logf("%d reflections acknowledged before the backup, %d while it ran, %d in the copy (of %d written in all)", len(before), during, len(texts), len(acked))

	// Without the key the copy does not open: it is sealed like the original.
	if _, err := Open(dst); err == nil || !strings.Contains(err.Error(), key.ID()) {
		t.Fatalf("open the copy without the key: %v; want a key error naming %s", err, key.ID())
	}
}

func TestBackup_errors(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src := filepath.Join(dir, "trustbot.db")
	fill(t, MustOpenPath(t, src), "1", 2)
	exists := filepath.Join(dir, "exists.db")
	if err := os.WriteFile(exists, []byte("an older backup"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, src, dst, want string
	}{
		{"MissingSource", filepath.Join(dir, "none.db"), filepath.Join(dir, "a.db"), "none.db"},
		{"Exists", src, exists, "never overwrites"},
		{"MissingDir", src, filepath.Join(dir, "no", "such", "b.db"), "no such file"},
		{"NotADatabase", exists, filepath.Join(dir, "c.db"), "not a database"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Backup(ctx, tt.src, tt.dst)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("backup %s to %s: %v; want an error saying %q", tt.src, tt.dst, err, tt.want)
			}
		})
	}
	if b, err := os.ReadFile(exists); err != nil || string(b) != "an older backup" {
		t.Fatalf("the existing file was changed: %q, %v", b, err)
	}
	for _, p := range []string{"a.db", "c.db"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err == nil {
			t.Errorf("a failed backup left %s", p)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*partial*")); len(left) > 0 {
		t.Fatalf("temporary files left behind: %v", left)
	}
}

// bulkInsert adds n reflections of size bytes to the person, in one
// transaction: a quick way to a large database. Their text is not sealed;
// tests read them only through counts.
func bulkInsert(tb testing.TB, s *Store, userID int64, n, size int) {
	tb.Helper()
	tx, err := s.w.Begin()
	if err != nil {
		tb.Fatal(err)
	}
	defer tx.Rollback()
	st, err := tx.Prepare("INSERT INTO reflections (user_id, step, prompt, text, created_at) VALUES (?, ?, '', ?, ?)")
	if err != nil {
		tb.Fatal(err)
	}
	text := strings.Repeat("x", size)
	now := s.now().Unix()
	for i := range n {
		if _, err := st.Exec(userID, i%10+1, text, now-int64(n-i)); err != nil {
			tb.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkMillion measures, on a database of 1,000,000 sealed reflections
// (1,000 people with 1,000 each, about 300 characters of text), a backup, an
// open (which checks the keys of every sealed value) and the stats. Building
// the database takes a minute or so, so it runs only with
// TRUSTBOT_BENCH_1M=1:
//
//	TRUSTBOT_BENCH_1M=1 go test ./storage -run '^$' -bench Million -benchtime 3x
func BenchmarkMillion(b *testing.B) {
	if os.Getenv("TRUSTBOT_BENCH_1M") == "" {
		b.Skip("set TRUSTBOT_BENCH_1M=1 to build a database of a million reflections")
	}
	ctx := context.Background()
	dir := b.TempDir()
	src := filepath.Join(dir, "trustbot.db")
	key := mustKey(b, 1)
	s, err := OpenWith(src, Options{Key: key})
	if err != nil {
		b.Fatal(err)
	}
	const people, each = 1000, 1000
	start := time.Now()
	now := time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)
	text := strings.Repeat("Today I noticed how hard it is to trust. ", 7) // ~300 bytes
	tx, err := s.w.Begin()
	if err != nil {
		b.Fatal(err)
	}
	user, err := tx.Prepare("INSERT INTO users (platform, platform_id, name, step) VALUES ('telegram', ?, ?, ?)")
	if err != nil {
		b.Fatal(err)
	}
	refl, err := tx.Prepare("INSERT INTO reflections (user_id, step, prompt, text, created_at) VALUES (?, ?, ?, ?, ?)")
	if err != nil {
		b.Fatal(err)
	}
	for p := range people {
		pid := fmt.Sprint(p + 1)
		res, err := user.Exec(pid, s.keys.seal("Sam "+pid, nameAD("telegram", pid)), p%10+1)
		if err != nil {
			b.Fatal(err)
		}
		id, _ := res.LastInsertId()
		for i := range each {
			at := now.Add(-time.Duration((each-i)*people+p) * 9 * time.Second) // about 100 days
			if _, err := refl.Exec(id, i%10+1, s.keys.seal("What happened?", reflectionAD("prompt", id)),
				s.keys.seal(text, reflectionAD("text", id)), at.Unix()); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	s.Close()
	fi, _ := os.Stat(src)
	b.Logf("built %d reflections in %v: %d MB", people*each, time.Since(start).Round(time.Millisecond), fi.Size()>>20)

	b.Run("Backup", func(b *testing.B) {
		i := 0
		for b.Loop() {
			i++
			dst := filepath.Join(dir, fmt.Sprintf("backup-%d.db", i))
			res, err := Backup(ctx, src, dst)
			if err != nil {
				b.Fatal(err)
			}
			if res.Reflections != people*each {
				b.Fatalf("backup holds %d reflections, want %d", res.Reflections, people*each)
			}
			b.StopTimer()
			os.Remove(dst)
			b.StartTimer()
		}
	})
	// The alternative to the backup API, for comparison (no check, no sync).
	b.Run("VacuumInto", func(b *testing.B) {
		db, err := sql.Open("sqlite3", src)
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		i := 0
		for b.Loop() {
			i++
			dst := filepath.Join(dir, fmt.Sprintf("vacuum-%d.db", i))
			if _, err := db.Exec("VACUUM INTO ?", dst); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			os.Remove(dst)
			b.StartTimer()
		}
	})
	b.Run("Open", func(b *testing.B) {
		for b.Loop() {
			s, err := OpenWith(src, Options{Key: key})
			if err != nil {
				b.Fatal(err)
			}
			s.Close()
		}
	})
	b.Run("Stats", func(b *testing.B) {
		s := mustOpenWith(b, src, Options{Key: key})
		for b.Loop() {
			st, err := s.Stats(ctx, now, 14)
			if err != nil {
				b.Fatal(err)
			}
			if st.People != people {
				b.Fatalf("stats: %d people, want %d", st.People, people)
			}
		}
	})
}
