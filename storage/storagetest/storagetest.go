// Package storagetest builds large trustbot databases quickly, for tests and
// benchmarks only: a million people in one transaction takes seconds, where
// saving them one by one through storage.Store would take minutes. Nothing
// in the bot uses it.
package storagetest

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	_ "github.com/mattn/go-sqlite3" // the driver storage uses

	"github.com/trustbot/trustbot/bot"
	"github.com/trustbot/trustbot/storage"
)

// SeedUsers creates (or upgrades) the database at path with storage.Open
// and adds n people in one transaction. person fills in person i, which
// starts as Telegram user "seed-<i>" on step 1; its ID is ignored.
func SeedUsers(path string, n int, person func(i int, u *bot.User)) error {
	st, err := storage.Open(path) // creates the file and its schema
	if err != nil {
		return err
	}
	if err := st.Close(); err != nil {
		return err
	}
	db, err := sql.Open("sqlite3", path+"?_journal_mode=WAL&_synchronous=OFF&_foreign_keys=on")
	if err != nil {
		return err
	}
	defer db.Close()
	ctx := context.Background()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	ins, err := tx.PrepareContext(ctx, `INSERT INTO users (platform, platform_id, chat_id, name,
		role, step, completed, prompt_index, last_prompt, nudge_time, time_zone, paused,
		paused_until, unreachable, started_at, last_seen_at, next_due, last_nudge_at, nudge_streak)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer ins.Close()
	for i := range n {
		id := fmt.Sprintf("seed-%d", i)
		u := bot.User{Platform: bot.PlatformTelegram, PlatformID: id, ChatID: id, Step: 1, NudgeTime: "20:00", TimeZone: "UTC"}
		person(i, &u)
		if _, err := ins.ExecContext(ctx, string(u.Platform), u.PlatformID, u.ChatID, u.Name,
			string(u.Role), u.Step, u.Completed, u.PromptIndex, u.LastPrompt, u.NudgeTime,
			u.TimeZone, u.Paused, unix(u.PausedUntil), u.Unreachable, unix(u.StartedAt),
			unix(u.LastSeenAt), unix(u.NextDue), unix(u.LastNudgeAt), u.NudgeStreak); err != nil {
			return fmt.Errorf("seed user %d: %w", i, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	_, err = db.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
	return err
}

func unix(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.Unix()
}
