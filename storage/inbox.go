package storage

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
)

// inboxAD is the GCM additional data of an inbox row: a sealed update
// moved to another row fails to open.
func inboxAD(id int64) []byte {
	return strconv.AppendInt([]byte("trustbot/telegram_inbox.raw/"), id, 10)
}

// AddTelegramInbox stores Telegram updates (ids[i] with its JSON raws[i])
// that were received but not yet handled, in one durable transaction
// (synchronous=FULL: one fsync for the batch), sealed with the store's key
// when it has one. An update already stored is left as it is.
// MarkTelegramUpdatesHandled deletes the rows.
func (s *Store) AddTelegramInbox(ctx context.Context, ids []int64, raws [][]byte) error {
	if len(ids) != len(raws) {
		return fmt.Errorf("add telegram updates to the inbox: %d ids for %d updates", len(ids), len(raws))
	}
	if len(ids) == 0 {
		return nil
	}
	now := s.now().Unix()
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO telegram_inbox (update_id, raw, received_at)
			VALUES (?, ?, ?) ON CONFLICT (update_id) DO NOTHING`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for i, id := range ids {
			if _, err := stmt.ExecContext(ctx, id, s.keys.seal(string(raws[i]), inboxAD(id)), now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("add %d telegram updates to the inbox: %w", len(ids), err)
	}
	return nil
}

// TelegramInbox calls fn with each update in the inbox (received, not yet
// marked handled), in update id order, and stops at fn's first error. The
// updates are read in full before fn is first called, so fn may write.
// An update that no key of the store opens is an error naming its id,
// never its content.
func (s *Store) TelegramInbox(ctx context.Context, fn func(id int64, raw []byte) error) error {
	rows, err := s.r.QueryContext(ctx, `SELECT update_id, raw FROM telegram_inbox ORDER BY update_id`)
	if err != nil {
		return fmt.Errorf("read the telegram inbox: %w", err)
	}
	type row struct {
		id  int64
		raw string
	}
	var all []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.raw); err != nil {
			rows.Close()
			return fmt.Errorf("read the telegram inbox: %w", err)
		}
		all = append(all, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read the telegram inbox: %w", err)
	}
	for _, r := range all {
		plain, err := s.keys.open(r.raw, inboxAD(r.id))
		if err != nil {
			return fmt.Errorf("telegram inbox, update %d: %w", r.id, err)
		}
		if err := fn(r.id, []byte(plain)); err != nil {
			return err
		}
	}
	return nil
}
