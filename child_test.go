package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3" // the lock holder's raw connection
)

// childEnv makes the test binary act as something else in a child
// process: "serve" runs trustbot with its arguments (the fault tests kill
// it with SIGKILL), "holdlock DB DURATION" holds a write lock on a
// database. Re-running the test binary saves building trustbot (cgo) a
// second time.
const childEnv = "TRUSTBOT_TEST_CHILD"

func TestMain(m *testing.M) {
	switch os.Getenv(childEnv) {
	case "serve":
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
		stop()
		os.Exit(exitCode(err, os.Stderr))
	case "holdlock":
		os.Exit(holdLock(os.Args[1], os.Args[2]))
	}
	os.Exit(m.Run())
}

// holdLock takes SQLite's write lock on db (BEGIN IMMEDIATE) on a
// connection of its own, says "locked", holds it for hold, commits and
// says "released": what another program writing to the database does.
func holdLock(db, hold string) int {
	d, err := time.ParseDuration(hold)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	conn, err := sql.Open("sqlite3", db+"?_busy_timeout=10000&_txlock=immediate")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer conn.Close()
	tx, err := conn.Begin()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("locked")
	time.Sleep(d) // the point: hold the lock this long
	if err := tx.Commit(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("released")
	return 0
}

// child returns a command that runs the test binary as mode with args.
func child(t *testing.T, mode string, args ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), childEnv+"="+mode)
	return cmd
}
