package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/trustbot/trustbot/bot"
)

// The daily prompt schedule: users.next_due (indexed by users_next_due) and
// the nudges table of claims, see migrations/0002_schedule.sql. The
// scheduler package declares the interface these methods implement.

// dueQuery reads due people in next_due order. The partial index on
// next_due holds the rowid (id), so the ORDER BY needs no sort and the
// LIMIT stops the index walk early: see TestDueUsers_queryPlan.
const dueQuery = `SELECT ` + userColumns + ` FROM users
	WHERE next_due <= ? ORDER BY next_due, id LIMIT ?`

// keepNudges is how many days of claims (and skipped days) are kept per
// person at least; older rows are pruned as new ones are written. A claim
// only has to outlive its own local day (plus a time zone change); the
// rest is the history that the stats' last 14 days count.
const keepNudges = 15

// DueUsers returns up to limit people whose next daily prompt is due at or
// before now, earliest first.
func (s *Store) DueUsers(ctx context.Context, now time.Time, limit int) ([]*bot.User, error) {
	rows, err := s.r.QueryContext(ctx, dueQuery, now.Unix(), limit)
	if err != nil {
		return nil, fmt.Errorf("due users: %w", err)
	}
	defer rows.Close()
	var us []*bot.User
	for rows.Next() {
		u, err := s.scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("due users: %w", err)
		}
		us = append(us, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("due users: %w", err)
	}
	return us, nil
}

// The claim statements work on a whole batch at once: the batch goes in as
// one JSON array, read with json_each, which SQLite walks as the outer loop
// of index lookups (see TestClaimNudges_queryPlans). Four statements per
// batch instead of three per person: the per-statement cost of
// database/sql and cgo was most of a claim's (BenchmarkFindAndClaimBatch).
const (
	// claimSQL claims [user_id, local_date] pairs: a new row, or a row left
	// in 'retry'. It returns the claims won.
	claimSQL = `INSERT INTO nudges (user_id, local_date, state, attempts, claimed_at)
		SELECT j.value ->> 0, j.value ->> 1, 'claimed', 1, ?1 FROM json_each(?2) AS j WHERE true
		ON CONFLICT (user_id, local_date) DO UPDATE
			SET state = 'claimed', attempts = attempts + 1, claimed_at = excluded.claimed_at, finished_at = NULL
			WHERE state IN ('retry', 'skipped')
		RETURNING user_id, attempts`
	// takeSQL stores the schedule after a claim, [id, next_due,
	// last_nudge_at, nudge_streak, prompt_index, last_prompt, was,
	// checkin_at], where next_due is still was. It returns the people
	// updated.
	takeSQL = `UPDATE users SET next_due = j.value ->> 1, last_nudge_at = j.value ->> 2,
			nudge_streak = j.value ->> 3, prompt_index = j.value ->> 4, last_prompt = j.value ->> 5,
			checkin_at = j.value ->> 7
		FROM json_each(?1) AS j
		WHERE users.id = j.value ->> 0 AND users.next_due IS j.value ->> 6
		RETURNING users.id`
	// moveSQL moves next_due, [id, next_due, was], where it is still was.
	moveSQL = `UPDATE users SET next_due = j.value ->> 1
		FROM json_each(?1) AS j
		WHERE users.id = j.value ->> 0 AND users.next_due IS j.value ->> 2`
	// skipSQL records skipped days, [user_id, local_date, was], for the
	// people whose next_due is still was; a day with a row keeps it.
	skipSQL = `INSERT INTO nudges (user_id, local_date, state, attempts, claimed_at, finished_at)
		SELECT j.value ->> 0, j.value ->> 1, 'skipped', 0, ?1, ?1 FROM json_each(?2) AS j
		JOIN users ON users.id = j.value ->> 0 AND users.next_due IS j.value ->> 2 WHERE true
		ON CONFLICT (user_id, local_date) DO NOTHING`
	// pruneSQL deletes the claims of the given people before a date.
	pruneSQL = `DELETE FROM nudges WHERE user_id IN (SELECT value FROM json_each(?1)) AND local_date < ?2`
)

// ClaimNudges applies a batch of the scheduler's decisions in one durable
// transaction (one fsync for the batch), so that every claim is on disk
// before its prompt is sent.
//
// For each nudge, nothing happens unless the person's stored next_due still
// equals n.Was (otherwise their settings changed since it was read, or
// another sweep got there first). Then a nudge with no Date moves next_due
// to n.User.NextDue, and records n.Skipped (if set) as a skipped day unless
// that day has a row already; a skipped day can still be claimed. A nudge with a Date claims (person, date): a new row,
// or a row left in state 'retry'; on success it stores n.User's NextDue,
// LastNudgeAt, NudgeStreak, PromptIndex, LastPrompt and CheckInAt and sets n.Claimed
// and n.Attempt. If the date was claimed before, it only moves next_due to
// n.IfTaken.
//
// SQLite copies the WAL into the database (a checkpoint) in whichever
// commit takes it past 1,000 pages, which would stall one claim batch in 40
// for tens of milliseconds; claims turn that off for their transaction and
// FinishNudges checkpoints instead, beside the writer.
func (s *Store) ClaimNudges(ctx context.Context, now time.Time, ns []*bot.Nudge) error {
	byID := make(map[int64]*bot.Nudge, len(ns))
	var claims, moves, skips [][]any
	for _, n := range ns {
		n.Claimed, n.Attempt = false, 0
		u := n.User
		if n.Date == "" {
			moves = append(moves, []any{u.ID, unix(u.NextDue), unix(n.Was)})
			if n.Skipped != "" {
				if _, err := time.Parse(time.DateOnly, n.Skipped); err != nil {
					return fmt.Errorf("claim nudges: user %d: bad skipped date %q", u.ID, n.Skipped)
				}
				skips = append(skips, []any{u.ID, n.Skipped, unix(n.Was)})
			}
			continue
		}
		if _, err := time.Parse(time.DateOnly, n.Date); err != nil {
			return fmt.Errorf("claim nudges: user %d: bad date %q", u.ID, n.Date)
		}
		byID[u.ID] = n
		claims = append(claims, []any{u.ID, n.Date})
	}
	err := s.write(ctx, func(conn *sql.Conn) error {
		if _, err := conn.ExecContext(ctx, "PRAGMA wal_autocheckpoint = 0"); err != nil {
			return err
		}
		defer restore(conn, "PRAGMA wal_autocheckpoint = 1000") // SQLite's default
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()

		won := map[int64]int{} // user id -> attempt
		if len(claims) > 0 {
			if err := queryIDs(ctx, tx, claimSQL, func(id int64, attempt int) { won[id] = attempt }, now.Unix(), jsonOf(claims)); err != nil {
				return fmt.Errorf("claim: %w", err)
			}
		}
		taken := map[int64]bool{}
		if len(won) > 0 {
			takes := make([][]any, 0, len(won))
			for id := range won {
				u := byID[id].User
				takes = append(takes, []any{id, unix(u.NextDue), unix(u.LastNudgeAt), u.NudgeStreak,
					u.PromptIndex, u.LastPrompt, unix(byID[id].Was), unix(u.CheckInAt)})
			}
			if err := queryIDs(ctx, tx, takeSQL, func(id int64, _ int) { taken[id] = true }, jsonOf(takes)); err != nil {
				return fmt.Errorf("store schedule: %w", err)
			}
		}
		var prune []int64
		oldest := ""
		// Each person's old rows are pruned one day a week, which keeps
		// keepNudges+7 days at most, at a seventh of the cost.
		pruneOn := func(id int64, date string) {
			day, _ := time.Parse(time.DateOnly, date)
			if (id+day.Unix()/86400)%7 == 0 {
				prune = append(prune, id)
				if oldest == "" || date < oldest {
					oldest = date
				}
			}
		}
		for _, c := range claims {
			id := c[0].(int64)
			n := byID[id]
			attempt, ok := won[id]
			switch {
			case !ok: // this day's prompt was claimed before: only move on
				moves = append(moves, []any{id, unix(n.IfTaken), unix(n.Was)})
			case !taken[id]:
				// Changed meanwhile (or deleted): give the claim back and
				// leave them to the next sweep.
				undo := `DELETE FROM nudges WHERE user_id = ? AND local_date = ?` // a new row goes
				if attempt > 1 {                                                  // a reclaimed retry goes back
					undo = `UPDATE nudges SET state = 'retry', attempts = attempts - 1 WHERE user_id = ? AND local_date = ?`
				}
				if _, err := tx.ExecContext(ctx, undo, id, n.Date); err != nil {
					return fmt.Errorf("user %d: %w", id, err)
				}
			default:
				n.Claimed, n.Attempt = true, attempt
				pruneOn(id, n.Date)
			}
		}
		if len(skips) > 0 {
			// Before the moves, which change next_due.
			if _, err := tx.ExecContext(ctx, skipSQL, now.Unix(), jsonOf(skips)); err != nil {
				return fmt.Errorf("skip: %w", err)
			}
			for _, sk := range skips {
				pruneOn(sk[0].(int64), sk[1].(string))
			}
		}
		if len(moves) > 0 {
			if _, err := tx.ExecContext(ctx, moveSQL, jsonOf(moves)); err != nil {
				return fmt.Errorf("move: %w", err)
			}
		}
		if len(prune) > 0 {
			day, _ := time.Parse(time.DateOnly, oldest)
			if _, err := tx.ExecContext(ctx, pruneSQL, jsonOf(prune), day.AddDate(0, 0, -keepNudges).Format(time.DateOnly)); err != nil {
				return fmt.Errorf("prune claims: %w", err)
			}
		}
		return tx.Commit()
	})
	if err != nil {
		for _, n := range ns {
			n.Claimed, n.Attempt = false, 0
		}
		return fmt.Errorf("claim nudges: %w", err)
	}
	return nil
}

// queryIDs runs a statement that returns rows of an id and, optionally,
// a number, and hands each row to fn.
func queryIDs(ctx context.Context, tx *sql.Tx, query string, fn func(id int64, n int), args ...any) error {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	for rows.Next() {
		var id int64
		var n int
		dest := []any{&id, &n}[:len(cols)]
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		fn(id, n)
	}
	return rows.Err()
}

// jsonOf encodes rows of numbers, strings and nils as a JSON array.
func jsonOf(rows any) string {
	b, err := json.Marshal(rows)
	if err != nil {
		panic(err) // only numbers, strings and nil go in
	}
	return string(b)
}

// FinishNudges records the outcome of claimed nudges, in one transaction:
// n.Status and n.Attempt on the claim; for NudgeRetry also next_due moved to
// n.User.NextDue (if it still equals n.Was); for NudgeUnreachable the
// person marked unreachable with nothing planned. NudgeClaimed records
// nothing: the outcome is unknown, and the claim stays.
//
// Its commit is not fsynced (synchronous=NORMAL): a power loss can lose an
// outcome, which leaves the claim 'claimed', the at-most-once state. Then
// it checkpoints the WAL that claims left (see ClaimNudges) on a read
// connection, so the writer goes on meanwhile.
func (s *Store) FinishNudges(ctx context.Context, now time.Time, ns []*bot.Nudge) error {
	var outcomes, retries [][]any
	var unreachable []int64
	for _, n := range ns {
		u := n.User
		switch n.Status {
		case bot.NudgeClaimed:
			continue
		case bot.NudgeRetry:
			retries = append(retries, []any{u.ID, unix(u.NextDue), unix(n.Was)})
		case bot.NudgeUnreachable:
			unreachable = append(unreachable, u.ID)
		case bot.NudgeSent, bot.NudgeFailed:
		default:
			return fmt.Errorf("finish nudges: user %d: unknown status %q", u.ID, n.Status)
		}
		outcomes = append(outcomes, []any{u.ID, n.Date, string(n.Status), max(n.Attempt, 0)})
	}
	if len(outcomes) == 0 {
		return nil
	}
	err := s.writeNormalTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, finishSQL, jsonOf(outcomes), now.Unix()); err != nil {
			return err
		}
		if len(retries) > 0 {
			if _, err := tx.ExecContext(ctx, moveSQL, jsonOf(retries)); err != nil {
				return err
			}
		}
		if len(unreachable) > 0 {
			if _, err := tx.ExecContext(ctx, unreachableSQL, jsonOf(unreachable)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("finish nudges: %w", err)
	}
	var busy, frames, done int
	if err := s.r.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &done); err != nil {
		return fmt.Errorf("finish nudges: checkpoint: %w", err)
	}
	return nil
}

const (
	// finishSQL records outcomes, [user_id, local_date, state, attempts].
	finishSQL = `UPDATE nudges SET state = j.value ->> 2, attempts = j.value ->> 3, finished_at = ?2
		FROM json_each(?1) AS j
		WHERE nudges.user_id = j.value ->> 0 AND nudges.local_date = j.value ->> 1`
	// unreachableSQL marks people unreachable, with nothing planned.
	unreachableSQL = `UPDATE users SET unreachable = 1, next_due = NULL
		WHERE id IN (SELECT value FROM json_each(?1))`
)
