package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/mattn/go-sqlite3"

	"github.com/trustbot/trustbot/bot"
)

const userColumns = `id, platform, platform_id, chat_id, name, role, step, completed,
	prompt_index, last_prompt, nudge_time, time_zone, paused, paused_until,
	unreachable, started_at, last_seen_at, next_due, last_nudge_at, nudge_streak,
	discreet, country, pace, flow, flow_step, checkin_at`

// User returns the person with this platform id, or an ENOTFOUND error.
func (s *Store) User(ctx context.Context, p bot.Platform, platformID string) (*bot.User, error) {
	row := s.r.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users
		WHERE platform = ? AND platform_id = ?`, string(p), platformID)
	u, err := s.scanUser(row)
	if errors.Is(err, sql.ErrNoRows) {
		err = bot.Errorf(bot.ENOTFOUND, "User not found.")
	}
	if err != nil {
		return nil, fmt.Errorf("user %s/%s: %w", p, platformID, err)
	}
	return u, nil
}

// scanUser reads the userColumns of one row of a *sql.Row or *sql.Rows,
// and opens the sealed name.
func (s *Store) scanUser(row interface{ Scan(dest ...any) error }) (*bot.User, error) {
	var u bot.User
	var platform, role, flow string
	var pausedUntil, startedAt, lastSeenAt, nextDue, lastNudgeAt, checkInAt sql.NullInt64
	if err := row.Scan(&u.ID, &platform, &u.PlatformID, &u.ChatID, &u.Name, &role,
		&u.Step, &u.Completed, &u.PromptIndex, &u.LastPrompt, &u.NudgeTime,
		&u.TimeZone, &u.Paused, &pausedUntil, &u.Unreachable, &startedAt,
		&lastSeenAt, &nextDue, &lastNudgeAt, &u.NudgeStreak,
		&u.Discreet, &u.Country, &u.Pace, &flow, &u.FlowStep, &checkInAt); err != nil {
		return nil, err
	}
	u.Flow = bot.Flow(flow)
	u.CheckInAt = fromUnix(checkInAt)
	u.NextDue = fromUnix(nextDue)
	u.LastNudgeAt = fromUnix(lastNudgeAt)
	u.Platform = bot.Platform(platform)
	u.Role = bot.Role(role)
	u.PausedUntil = fromUnix(pausedUntil)
	u.StartedAt = fromUnix(startedAt)
	u.LastSeenAt = fromUnix(lastSeenAt)
	var err error
	if u.Name, err = s.keys.open(u.Name, nameAD(platform, u.PlatformID)); err != nil {
		return nil, fmt.Errorf("user %d: name: %w", u.ID, err)
	}
	return &u, nil
}

// SaveUser inserts u and sets u.ID when u.ID is 0, and otherwise updates the
// person with that ID (ENOTFOUND if there is none). Inserting a second person
// with the same platform and platform id fails. It stores u.NextDue but not
// LastNudgeAt, NudgeStreak or CheckInAt, which only the scheduler's claims
// write (see ClaimNudges), so a save of a stale copy cannot undo a claim.
// A Pace outside 0..7 is stored as the nearest of them.
//
// It runs on every message, so its commit is not fsynced
// (synchronous=NORMAL): it survives a crash of the process, and only a power
// loss may undo it, until the next reflection or checkpoint syncs the WAL.
func (s *Store) SaveUser(ctx context.Context, u *bot.User) error {
	name := s.keys.seal(u.Name, nameAD(string(u.Platform), u.PlatformID))
	args := []any{string(u.Platform), u.PlatformID, u.ChatID, name, string(u.Role),
		u.Step, u.Completed, u.PromptIndex, u.LastPrompt, u.NudgeTime, u.TimeZone,
		u.Paused, unix(u.PausedUntil), u.Unreachable, unix(u.StartedAt),
		unix(u.LastSeenAt), unix(u.NextDue),
		u.Discreet, u.Country, min(max(u.Pace, 0), 7), string(u.Flow), u.FlowStep}

	if u.ID == 0 {
		var id int64
		err := s.writeNormal(ctx, func(conn *sql.Conn) error {
			res, err := conn.ExecContext(ctx, `INSERT INTO users (platform, platform_id,
				chat_id, name, role, step, completed, prompt_index, last_prompt,
				nudge_time, time_zone, paused, paused_until, unreachable, started_at,
				last_seen_at, next_due, discreet, country, pace, flow, flow_step)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, args...)
			if err != nil {
				return err
			}
			id, err = res.LastInsertId()
			return err
		})
		if isConstraint(err, sqlite3.ErrConstraintUnique) {
			err = fmt.Errorf("%s/%s is already a user: %w", u.Platform, u.PlatformID, err)
		}
		if err != nil {
			return fmt.Errorf("save new user %s/%s: %w", u.Platform, u.PlatformID, err)
		}
		u.ID = id
		return nil
	}

	err := s.writeNormal(ctx, func(conn *sql.Conn) error {
		res, err := conn.ExecContext(ctx, `UPDATE users SET platform = ?, platform_id = ?,
			chat_id = ?, name = ?, role = ?, step = ?, completed = ?, prompt_index = ?,
			last_prompt = ?, nudge_time = ?, time_zone = ?, paused = ?, paused_until = ?,
			unreachable = ?, started_at = ?, last_seen_at = ?, next_due = ?,
			discreet = ?, country = ?, pace = ?, flow = ?, flow_step = ?
			WHERE id = ?`, append(args, u.ID)...)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err == nil && n == 0 {
			err = bot.Errorf(bot.ENOTFOUND, "User not found.")
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("save user %d: %w", u.ID, err)
	}
	return nil
}

// DeleteUser erases the person and every row about them: every table about
// a person references users(id) ON DELETE CASCADE, and the message ids of
// their chat (chat_messages) are deleted with them. Deleting a person who
// does not exist is not an error, so a retried /delete succeeds.
//
// secure_delete zeroes the deleted content, and a TRUNCATE checkpoint then
// copies the zeroed pages into the database file and empties the -wal file,
// which still held the old pages with the text. If the checkpoint cannot
// finish (another connection kept a read open for longer than the busy
// timeout), DeleteUser returns an error although the rows are gone; the old
// pages then stay in the -wal file until a later checkpoint overwrites
// them or the last connection closes and removes it.
func (s *Store) DeleteUser(ctx context.Context, userID int64) error {
	err := s.write(ctx, func(conn *sql.Conn) error {
		// The ids of their chat's messages (for /wipe) belong to the chat,
		// not to a row about them, so they go first, explicitly.
		if _, err := conn.ExecContext(ctx, `DELETE FROM chat_messages WHERE (platform, chat_id) IN
			(SELECT platform, chat_id FROM users WHERE id = ?)`, userID); err != nil {
			return err
		}
		if _, err := conn.ExecContext(ctx, "DELETE FROM users WHERE id = ?", userID); err != nil {
			return err
		}
		var busy, log, checkpointed int
		if err := conn.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &log, &checkpointed); err != nil {
			return fmt.Errorf("deleted, but checkpoint the WAL: %w", err)
		}
		if busy != 0 {
			return errors.New("deleted, but the WAL could not be checkpointed: the database was busy")
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete user %d: %w", userID, err)
	}
	return nil
}
