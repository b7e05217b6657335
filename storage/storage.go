// Package storage keeps trustbot's people and their journals in a SQLite
// database file. Store implements bot.Store.
//
// The database is one file (plus SQLite's -wal and -shm files next to it),
// created with mode 0600 because it holds private journals. The schema is
// versioned: the numbered files in migrations/ are applied in order at Open,
// each in its own transaction, and recorded in the migrations table, so an
// existing database is upgraded in place and never rebuilt. Changing the
// schema means adding the next file, e.g. migrations/0002_schedule.sql. A
// migration runs with foreign keys unenforced, so it may rebuild a table
// (create new, copy, drop old, rename) without the drop cascading into the
// journals; it is rolled back if it leaves a broken reference. A database
// migrated by a newer build is refused rather than misread.
//
// Times are stored as Unix seconds and come back in UTC, truncated to the
// second; the zero time is stored as NULL.
//
// Opened with a key (OpenWith), the personal text (reflections, their
// prompts, display names, safety plans, unhandled Telegram updates) is sealed at rest with AES-256-GCM; see seal.go.
// Backup copies the database while it is in use; Stats counts without
// reading any text.
package storage

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/mattn/go-sqlite3"

	"github.com/trustbot/trustbot/bot"
)

//go:embed migrations/*.sql
var embedded embed.FS

// migrations returns the embedded migrations, at the root of the FS.
func migrations() fs.FS {
	sub, err := fs.Sub(embedded, "migrations")
	if err != nil {
		panic(err) // the directory is embedded at build time
	}
	return sub
}

// readers is the size of the read-only connection pool. Reads are
// microseconds of CPU each; a few connections let them run in parallel with
// each other and with the writer (WAL readers never wait for the writer).
const readers = 4

// Store keeps people and their journals in SQLite. It is safe for concurrent
// use, also by several Stores (or processes) on the same file.
type Store struct {
	// Now returns the current time; it stamps reflections that have no
	// CreatedAt. Open sets it to time.Now; tests may replace it.
	Now func() time.Time

	// Writes go through one connection. SQLite allows one writer at a time
	// anyway; with a single writer connection, writers of this Store queue
	// in Go (a microsecond hand-off) instead of in SQLite's busy handler,
	// which polls with sleeps of 1 to 100 ms. Writers in other Stores or
	// processes still wait for each other thanks to BEGIN IMMEDIATE
	// (_txlock=immediate) and busy_timeout, instead of failing with
	// SQLITE_BUSY.
	w *sql.DB
	// Reads go through a small pool of query-only connections, so a
	// person's /journal never waits behind another person's fsync.
	r *sql.DB

	keys  keyring // seal and open personal text; see seal.go
	plain int     // personal values in the clear at open
}

var _ bot.Store = (*Store)(nil)

// Open opens the database at path, creating it (mode 0600) if needed, and
// applies the migrations it lacks. The directory must exist. It stores
// personal text in the clear; OpenWith seals it with a key.
func Open(path string) (*Store, error) {
	return open(path, migrations())
}

func open(path string, migrationsFS fs.FS) (*Store, error) {
	return openWith(path, migrationsFS, Options{})
}

func openWith(path string, migrationsFS fs.FS, o Options) (*Store, error) {
	if err := createFile(path); err != nil {
		return nil, err
	}
	s := &Store{Now: time.Now, keys: newKeyring(o)}

	var err error
	if s.w, err = sql.Open("sqlite3", dsn(path, false)); err != nil {
		return nil, fmt.Errorf("open store %q: %w", path, err)
	}
	s.w.SetMaxOpenConns(1)
	s.w.SetMaxIdleConns(1)
	if s.r, err = sql.Open("sqlite3", dsn(path, true)); err != nil {
		s.w.Close()
		return nil, fmt.Errorf("open store %q: %w", path, err)
	}
	s.r.SetMaxOpenConns(readers)
	s.r.SetMaxIdleConns(readers)

	ctx := context.Background()
	if err := s.checkRetrying(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("open store %q: %w", path, explain(path, err))
	}
	if _, err := s.migrate(ctx, migrationsFS); err != nil {
		s.Close()
		return nil, fmt.Errorf("open store %q: %w", path, err)
	}
	if s.plain, err = s.checkKeys(ctx, s.keys); err != nil {
		s.Close()
		return nil, fmt.Errorf("open store %q: %w", path, err)
	}
	return s, nil
}

// Close closes the database. SQLite checkpoints the WAL into the database
// file and removes it when the last connection to the file closes.
func (s *Store) Close() error {
	return errors.Join(s.r.Close(), s.w.Close())
}

// createFile makes sure path is a file we can open, creating it with mode
// 0600 so that SQLite's -wal and -shm files (which copy its mode) are
// private too. An existing file readable by others is made private.
func createFile(path string) error {
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") || strings.Contains(path, "?") {
		return fmt.Errorf("open store %q: want the path of a database file", path)
	}
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return locationErrorf("open store %q: directory %q does not exist", path, dir)
	case err != nil:
		return fmt.Errorf("open store %q: %w", path, err)
	case !fi.IsDir():
		return locationErrorf("open store %q: %q is not a directory", path, dir)
	}
	_, statErr := os.Stat(path)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if errors.Is(err, fs.ErrPermission) {
		if errors.Is(statErr, fs.ErrNotExist) {
			return locationErrorf("open store %q: directory %q is not writable", path, dir)
		}
		return locationErrorf("open store %q: the file is not writable", path)
	}
	if err != nil {
		return fmt.Errorf("open store %q: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("open store %q: %w", path, err)
	}
	// SQLite's files left behind by a crash are made private too.
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if err != nil || fi.Mode().Perm()&0o077 == 0 {
			continue
		}
		if err := os.Chmod(p, 0o600); err != nil {
			return fmt.Errorf("open store %q: make %s private: %w", path, filepath.Base(p), err)
		}
	}
	return nil
}

// LocationError says that the database cannot live where it was asked to:
// its directory is missing or not writable, or the file is not writable.
// Only the operator can fix that, so callers may treat it as a
// configuration error rather than a failure worth retrying.
type LocationError struct {
	msg string
	err error
}

func (e *LocationError) Error() string { return e.msg }
func (e *LocationError) Unwrap() error { return e.err }

func locationErrorf(format string, args ...any) error {
	return &LocationError{msg: fmt.Sprintf(format, args...)}
}

// explain makes a failure of the first connection actionable when its cause
// is the directory: in WAL mode SQLite must create path-wal and path-shm next
// to the database, and without them it reports "unable to open database
// file" or "attempt to write a readonly database".
func explain(path string, err error) error {
	dir := filepath.Dir(path)
	f, terr := os.CreateTemp(dir, ".trustbot-probe-*")
	if terr != nil {
		return &LocationError{msg: fmt.Sprintf("directory %q is not writable (SQLite keeps its -wal and -shm files there): %v", dir, err), err: err}
	}
	f.Close()
	os.Remove(f.Name())
	return err
}

// dsn returns the mattn/go-sqlite3 data source name for path. The driver
// applies these pragmas to every new connection.
//
// Durability. synchronous=FULL in WAL mode fsyncs the WAL at every commit,
// so a commit that returned survives a power loss, not only a kill -9. It
// costs one fsync per commit: on the development VM AddReflection takes
// about 160 µs with FULL and 40 µs with NORMAL, SaveUser 150 µs and 25 µs
// (go test -bench). FULL is the connection default so that every
// write is durable unless it opts out: reflections, deletions and migrations
// use it. SaveUser opts out (see writeNormal): it runs on every message, and
// with NORMAL its commit still survives a crash of the process (the WAL
// write reached the OS); only a power loss can undo the last few progress
// updates, and the next durable commit (or checkpoint) fsyncs them too,
// since the WAL is synced as a whole.
//
// secure_delete=on overwrites deleted content with zeros, so an erased
// journal does not linger in free pages of the file.
func dsn(path string, readOnly bool) string {
	v := url.Values{}
	v.Set("_journal_mode", "WAL")
	v.Set("_synchronous", "FULL")
	v.Set("_foreign_keys", "on")
	v.Set("_busy_timeout", "5000")
	v.Set("_secure_delete", "on")
	v.Set("_stmt_cache_size", "32") // the driver keeps our few statements prepared
	if readOnly {
		v.Set("_txlock", "deferred")
		v.Set("_query_only", "on")
	} else {
		v.Set("_txlock", "immediate")
	}
	return path + "?" + v.Encode()
}

// check verifies that the connection settings took effect: the durability
// and erasure promises depend on them.
func (s *Store) check(ctx context.Context) error {
	want := []struct{ pragma, value string }{
		{"journal_mode", "wal"},
		{"synchronous", "2"}, // FULL
		{"foreign_keys", "1"},
		{"secure_delete", "1"},
	}
	for _, w := range want {
		var got string
		if err := s.w.QueryRowContext(ctx, "PRAGMA "+w.pragma).Scan(&got); err != nil {
			return fmt.Errorf("check %s: %w", w.pragma, err)
		}
		if got != w.value {
			return fmt.Errorf("check %s: got %q, want %q", w.pragma, got, w.value)
		}
	}
	return nil
}

// checkRetrying runs check, retrying while the file is locked. Switching a
// new file to WAL needs an exclusive lock, and the driver applies it while
// connecting, where a lock held by another opener can surface as "database
// is locked" (seen about 6 times in 40 runs of TestOpen_concurrentlyOnNewFile
// under -race on a loaded machine).
func (s *Store) checkRetrying(ctx context.Context) error {
	deadline := time.Now().Add(5 * time.Second)
	for wait := 5 * time.Millisecond; ; wait = min(2*wait, 100*time.Millisecond) {
		err := s.check(ctx)
		var se sqlite3.Error
		if err == nil || !errors.As(err, &se) || (se.Code != sqlite3.ErrBusy && se.Code != sqlite3.ErrLocked) || time.Now().After(deadline) {
			return err
		}
		time.Sleep(wait)
	}
}

// write runs fn on the writer connection. Its commits are durable
// (synchronous=FULL).
func (s *Store) write(ctx context.Context, fn func(*sql.Conn) error) error {
	conn, err := s.w.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return fn(conn)
}

// writeNormal runs fn on the writer connection with synchronous=NORMAL:
// its commits survive a crash of the process but may be lost on a power
// loss. The connection goes back to FULL afterwards, or is discarded.
func (s *Store) writeNormal(ctx context.Context, fn func(*sql.Conn) error) error {
	return s.write(ctx, func(conn *sql.Conn) error {
		if _, err := conn.ExecContext(ctx, "PRAGMA synchronous = NORMAL"); err != nil {
			return err
		}
		defer restore(conn, "PRAGMA synchronous = FULL")
		return fn(conn)
	})
}

// inTx runs fn in a transaction on conn (BEGIN IMMEDIATE on the writer)
// and commits it, or rolls it back if fn fails.
func inTx(ctx context.Context, conn *sql.Conn, fn func(*sql.Tx) error) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// writeTx runs fn in a transaction on the writer connection (see inTx);
// its commit is durable.
func (s *Store) writeTx(ctx context.Context, fn func(*sql.Tx) error) error {
	return s.write(ctx, func(conn *sql.Conn) error { return inTx(ctx, conn, fn) })
}

// writeNormalTx is writeTx with the commit not fsynced (see writeNormal).
func (s *Store) writeNormalTx(ctx context.Context, fn func(*sql.Tx) error) error {
	return s.writeNormal(ctx, func(conn *sql.Conn) error { return inTx(ctx, conn, fn) })
}

// restore runs query to put conn back into its default state, or discards
// the connection so that the pool opens a fresh one with the DSN's settings.
func restore(conn *sql.Conn, query string) {
	if _, err := conn.ExecContext(context.Background(), query); err != nil {
		conn.Raw(func(any) error { return driver.ErrBadConn })
	}
}

// now returns the current time from s.Now, in UTC, to the second.
func (s *Store) now() time.Time {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	return now().UTC().Truncate(time.Second)
}

// migration is one numbered file of migrations/.
type migration struct {
	version int
	name    string
	sql     string
}

// loadMigrations reads the *.sql files at the root of fsys. Their names
// start with their version, 1, 2, 3... without gaps: 0001_init.sql.
func loadMigrations(fsys fs.FS) ([]migration, error) {
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, name := range names {
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v < 1 {
			return nil, fmt.Errorf("migration %s: want a name like 0001_init.sql", name)
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("migration %s: %w", name, err)
		}
		ms = append(ms, migration{version: v, name: name, sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %s: got version %d, want %d (versions must be 1, 2, 3... without gaps or duplicates)", m.name, m.version, i+1)
		}
	}
	return ms, nil
}

// migrate applies the migrations of fsys that the database lacks, in
// order, each in its own transaction together with its row in the
// migrations table. It returns how many it applied.
//
// Foreign keys are not enforced while a migration runs, so that a migration
// may rebuild a table the SQLite way (create new, copy, drop old, rename):
// with enforcement on, dropping users would cascade and delete every
// reflection. Instead, each migration must leave no broken reference
// (PRAGMA foreign_key_check) or it is rolled back.
func (s *Store) migrate(ctx context.Context, fsys fs.FS) (int, error) {
	ms, err := loadMigrations(fsys)
	if err != nil {
		return 0, err
	}
	applied := 0
	err = s.write(ctx, func(conn *sql.Conn) error {
		if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS migrations (
			version    INTEGER PRIMARY KEY,
			name       TEXT    NOT NULL,
			applied_at INTEGER NOT NULL
		) STRICT`); err != nil {
			return fmt.Errorf("create migrations table: %w", err)
		}
		var current int
		if err := conn.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM migrations").Scan(&current); err != nil {
			return fmt.Errorf("read schema version: %w", err)
		}
		if current > len(ms) {
			return fmt.Errorf("the database is at schema version %d, newer than this build knows (%d); run a newer trustbot", current, len(ms))
		}
		if current == len(ms) {
			return nil
		}

		if _, err := conn.ExecContext(ctx, "PRAGMA foreign_keys = OFF"); err != nil {
			return err
		}
		defer restore(conn, "PRAGMA foreign_keys = ON")
		for _, m := range ms[current:] {
			ok, err := s.apply(ctx, conn, m)
			if err != nil {
				return fmt.Errorf("migration %s: %w", m.name, err)
			}
			if ok {
				applied++
			}
		}
		return nil
	})
	if err != nil {
		return applied, fmt.Errorf("migrate: %w", err)
	}
	return applied, nil
}

// apply runs one migration in a transaction. It reports false when another
// Store on the same file applied it first.
func (s *Store) apply(ctx context.Context, conn *sql.Conn, m migration) (bool, error) {
	tx, err := conn.BeginTx(ctx, nil) // BEGIN IMMEDIATE: one migrator at a time
	if err != nil {
		return false, err
	}
	defer tx.Rollback()

	var done int
	if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM migrations WHERE version = ?", m.version).Scan(&done); err != nil {
		return false, err
	}
	if done > 0 {
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return false, err
	}
	if err := foreignKeyCheck(ctx, tx); err != nil {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO migrations (version, name, applied_at) VALUES (?, ?, ?)",
		m.version, m.name, s.now().Unix()); err != nil {
		return false, err
	}
	return true, tx.Commit()
}

// foreignKeyCheck returns an error naming the first row whose reference is
// broken.
func foreignKeyCheck(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, "PRAGMA foreign_key_check")
	if err != nil {
		return err
	}
	defer rows.Close()
	if rows.Next() {
		var table, parent string
		var rowid sql.NullInt64
		var fkid int
		if err := rows.Scan(&table, &rowid, &parent, &fkid); err != nil {
			return err
		}
		return fmt.Errorf("broken reference: %s row %d points to a missing %s row", table, rowid.Int64, parent)
	}
	return rows.Err()
}

// unix returns t as Unix seconds, or nil (NULL) for the zero time.
func unix(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.Unix()
}

// fromUnix is the inverse of unix.
func fromUnix(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.Unix(n.Int64, 0).UTC()
}

// userMissing turns the foreign key failure of a write about a person who
// does not exist (e.g. deleted meanwhile) into ENOTFOUND; other errors pass
// through.
func userMissing(err error) error {
	if isConstraint(err, sqlite3.ErrConstraintForeignKey) {
		return bot.Errorf(bot.ENOTFOUND, "User not found.")
	}
	return err
}

// isConstraint reports whether err is the SQLite constraint violation code.
func isConstraint(err error, code sqlite3.ErrNoExtended) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && se.ExtendedCode == code
}
