package storage

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/trustbot/trustbot/bot"
)

// RecordMessageBatch is RecordMessages for many chats at once (by chat id),
// in one transaction: the Telegram adapter gathers the message ids of the
// turns of the last few milliseconds, so that the single writer connection,
// which every reflection also needs, does one write for many turns. Like
// RecordMessages it keeps the first record of a message, fills a zero At
// with now, forgets ids older than MessageMemory, and does not fsync.
func (s *Store) RecordMessageBatch(ctx context.Context, p bot.Platform, byChat map[string][]bot.ChatMessage) error {
	n := 0
	for _, ms := range byChat {
		n += len(ms)
	}
	if n == 0 {
		return nil
	}
	err := s.writeNormalTx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO chat_messages (platform, chat_id, message_id, from_bot, at)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		now := s.now()
		for chatID, ms := range byChat {
			for _, m := range ms {
				at := m.At
				if at.IsZero() {
					at = now
				}
				if _, err := stmt.ExecContext(ctx, string(p), chatID, m.ID, m.FromBot, at.Unix()); err != nil {
					return err
				}
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM chat_messages WHERE at < ?`, now.Add(-MessageMemory).Unix()); err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record %d messages of %d %s chats: %w", n, len(byChat), p, err)
	}
	return nil
}
