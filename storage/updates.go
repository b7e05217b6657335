package storage

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// updateMemory is how long a handled Telegram update is remembered.
// Telegram re-sends a webhook update for a few minutes at most and a replay
// after a crash comes at the next start, so a day is ample; after a week
// without updates Telegram may even restart its ids at random, which a
// longer memory would mistake for repeats.
const updateMemory = 24 * time.Hour

// TelegramUpdateHandled reports whether the Telegram update id was marked
// handled within the 24 hours before now.
func (s *Store) TelegramUpdateHandled(ctx context.Context, id int64, now time.Time) (bool, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM telegram_updates
		WHERE update_id = ? AND handled_at >= ?`, id, now.Add(-updateMemory).Unix()).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("telegram update %d: %w", id, err)
	}
	return n > 0, nil
}

// MarkTelegramUpdatesHandled records the Telegram update ids as handled at
// now, in one transaction, deletes them from the inbox (see inbox.go),
// and forgets the updates handled more than 24
// hours before now: each call deletes the few rows that expired since the
// previous one, found through the index on handled_at. The adapter batches
// its calls, so that the single writer connection, which every reflection
// also needs, does one write for many updates.
//
// The commit is not fsynced (synchronous=NORMAL), like SaveUser: losing
// the last marks to a power loss means at worst answering a replayed update
// twice.
func (s *Store) MarkTelegramUpdatesHandled(ctx context.Context, ids []int64, now time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	err := s.writeNormalTx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO telegram_updates (update_id, handled_at) VALUES (?, ?)
			ON CONFLICT (update_id) DO UPDATE SET handled_at = excluded.handled_at`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, id := range ids {
			if _, err := stmt.ExecContext(ctx, id, now.Unix()); err != nil {
				return err
			}
		}
		// Handled: no longer needed in the inbox (see inbox.go).
		del, err := tx.PrepareContext(ctx, `DELETE FROM telegram_inbox WHERE update_id = ?`)
		if err != nil {
			return err
		}
		defer del.Close()
		for _, id := range ids {
			if _, err := del.ExecContext(ctx, id); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM telegram_updates WHERE handled_at < ?`,
			now.Add(-updateMemory).Unix()); err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("mark %d telegram updates handled: %w", len(ids), err)
	}
	return nil
}
