package storage

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/trustbot/trustbot/bot"
)

var _ bot.StatsStore = (*Store)(nil)

// Stats returns the aggregates of bot.Stats as of now, with the last days
// UTC days (today included). It reads counts only, never a person's text,
// so it works without the encryption key's help. All numbers come from one
// snapshot of the database. It scans the users table and the reflections'
// (user, time) index, about 50 ms per million reflections.
func (s *Store) Stats(ctx context.Context, now time.Time, days int) (*bot.Stats, error) {
	now = now.UTC().Truncate(time.Second)
	days = max(days, 1)
	today := now.Truncate(24 * time.Hour)
	first := today.AddDate(0, 0, -(days - 1))
	end := today.AddDate(0, 0, 1)

	st := &bot.Stats{
		At: now, ByPlatform: map[bot.Platform]int{}, ByStep: map[int]int{},
		NudgeDays: keepNudges,
	}
	st.Days = make([]bot.DayStats, 0, days) // no reallocation: day points into it
	day := map[int64]*bot.DayStats{}
	for d := first; d.Before(end); d = d.AddDate(0, 0, 1) {
		st.Days = append(st.Days, bot.DayStats{Date: d.Format(time.DateOnly), Nudges: map[bot.NudgeStatus]int{}})
		day[d.Unix()/86400] = &st.Days[len(st.Days)-1]
	}

	tx, err := s.r.BeginTx(ctx, nil) // one read snapshot for all three
	if err != nil {
		return nil, fmt.Errorf("stats: %w", err)
	}
	defer tx.Rollback()

	// paused counts only a pause that has not run out, as the scheduler does.
	err = each(ctx, tx, func(scan func(...any) error) error {
		var platform string
		var step, n int
		var completed, unreachable, paused bool
		if err := scan(&platform, &step, &completed, &unreachable, &paused, &n); err != nil {
			return err
		}
		st.People += n
		st.ByPlatform[bot.Platform(platform)] += n
		switch {
		case completed:
			st.Completed += n
		case unreachable:
			st.Unreachable += n
		case paused:
			st.Paused += n
		default:
			st.Active += n
		}
		if !completed {
			st.ByStep[step] += n
		}
		return nil
	}, `SELECT platform, step, completed, unreachable,
			paused = 1 AND (paused_until IS NULL OR paused_until > ?), COUNT(*)
		FROM users GROUP BY 1, 2, 3, 4, 5`, now.Unix())
	if err != nil {
		return nil, fmt.Errorf("stats: people: %w", err)
	}

	err = each(ctx, tx, func(scan func(...any) error) error {
		var d int64
		var n int
		if err := scan(&d, &n); err != nil {
			return err
		}
		if ds := day[d]; ds != nil {
			ds.Reflections = n
		}
		return nil
	}, `SELECT created_at / 86400, COUNT(*) FROM reflections
		WHERE created_at >= ? AND created_at < ? GROUP BY 1`, first.Unix(), end.Unix())
	if err != nil {
		return nil, fmt.Errorf("stats: reflections: %w", err)
	}

	err = each(ctx, tx, func(scan func(...any) error) error {
		var d int64
		var state string
		var n int
		if err := scan(&d, &state, &n); err != nil {
			return err
		}
		if ds := day[d]; ds != nil {
			ds.Nudges[bot.NudgeStatus(state)] += n
		}
		return nil
	}, `SELECT claimed_at / 86400, state, COUNT(*) FROM nudges
		WHERE claimed_at >= ? AND claimed_at < ? GROUP BY 1, 2`, first.Unix(), end.Unix())
	if err != nil {
		return nil, fmt.Errorf("stats: daily prompts: %w", err)
	}
	return st, nil
}

// each runs query in tx and calls fn for each row.
func each(ctx context.Context, tx *sql.Tx, fn func(scan func(...any) error) error, query string, args ...any) error {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows.Scan); err != nil {
			return err
		}
	}
	return rows.Err()
}
