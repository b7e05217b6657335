package storage

// Care and discretion (migrations/0004_care.sql): check-in answers, safety
// plans, and the ids of chat messages that /wipe deletes. bot declares
// MoodStore and SafetyPlanStore; the adapters declare the message log they
// use (RecordMessages, RecentMessages, ForgetMessages).

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/trustbot/trustbot/bot"
)

var (
	_ bot.MoodStore       = (*Store)(nil)
	_ bot.SafetyPlanStore = (*Store)(nil)
)

// MessageMemory is how long the id of a chat message is kept: /wipe reaches
// back bot.WipeWindow, so older ids are of no use and are pruned.
const MessageMemory = bot.WipeWindow

// SetMood records the person's check-in answer for the local date,
// replacing an earlier answer that day. It returns ENOTFOUND if the person
// does not exist. Like SaveUser, its commit is not fsynced.
func (s *Store) SetMood(ctx context.Context, userID int64, date string, m bot.Mood) error {
	if _, err := time.Parse(time.DateOnly, date); err != nil {
		return fmt.Errorf("set mood of user %d: bad date %q, want 2006-01-02", userID, date)
	}
	if !m.Valid() {
		return fmt.Errorf("set mood of user %d: unknown mood %q", userID, m)
	}
	err := s.writeNormal(ctx, func(conn *sql.Conn) error {
		_, err := conn.ExecContext(ctx, `INSERT INTO moods (user_id, local_date, mood) VALUES (?, ?, ?)
			ON CONFLICT (user_id, local_date) DO UPDATE SET mood = excluded.mood`, userID, date, string(m))
		return err
	})
	err = userMissing(err)
	if err != nil {
		return fmt.Errorf("set mood of user %d: %w", userID, err)
	}
	return nil
}

// Moods returns the person's check-in answers on dates from since on,
// oldest first.
func (s *Store) Moods(ctx context.Context, userID int64, since string) ([]bot.MoodEntry, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT local_date, mood FROM moods
		WHERE user_id = ? AND local_date >= ? ORDER BY local_date`, userID, since)
	if err != nil {
		return nil, fmt.Errorf("moods of user %d: %w", userID, err)
	}
	defer rows.Close()
	var es []bot.MoodEntry
	for rows.Next() {
		var e bot.MoodEntry
		var m string
		if err := rows.Scan(&e.Date, &m); err != nil {
			return nil, fmt.Errorf("moods of user %d: %w", userID, err)
		}
		e.Mood = bot.Mood(m)
		es = append(es, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("moods of user %d: %w", userID, err)
	}
	return es, nil
}

// safetyPlanAD is the additional data of a sealed safety plan answer: the
// column and the person's id.
func safetyPlanAD(column string, userID int64) []byte {
	return strconv.AppendInt([]byte("trustbot/safety_plans."+column+"/"), userID, 10)
}

// safetyPlanColumns are the sealed columns of safety_plans, in the order of
// planFields.
var safetyPlanColumns = []string{"warning_signs", "calming", "people", "places"}

func planFields(p *bot.SafetyPlan) []*string {
	return []*string{&p.WarningSigns, &p.Calming, &p.People, &p.Places}
}

// SafetyPlan returns the person's safety plan, with its answers opened; a
// zero plan if they have none.
func (s *Store) SafetyPlan(ctx context.Context, userID int64) (bot.SafetyPlan, error) {
	var p bot.SafetyPlan
	var updated int64
	fs := planFields(&p)
	err := s.r.QueryRowContext(ctx, `SELECT warning_signs, calming, people, places, updated_at
		FROM safety_plans WHERE user_id = ?`, userID).Scan(fs[0], fs[1], fs[2], fs[3], &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return bot.SafetyPlan{}, nil
	}
	if err != nil {
		return bot.SafetyPlan{}, fmt.Errorf("safety plan of user %d: %w", userID, err)
	}
	for i, f := range fs {
		if *f, err = s.keys.open(*f, safetyPlanAD(safetyPlanColumns[i], userID)); err != nil {
			return bot.SafetyPlan{}, fmt.Errorf("safety plan of user %d: %s: %w", userID, safetyPlanColumns[i], err)
		}
	}
	p.UpdatedAt = time.Unix(updated, 0).UTC()
	return p, nil
}

// SaveSafetyPlan stores the person's safety plan, replacing the one
// before, sealing its answers with the store's key (if any). A zero
// UpdatedAt is set from s.Now. The commit is fsynced, like a reflection's.
// It returns ENOTFOUND if the person does not exist.
func (s *Store) SaveSafetyPlan(ctx context.Context, userID int64, p bot.SafetyPlan) error {
	updated := p.UpdatedAt
	if updated.IsZero() {
		updated = s.now()
	}
	args := []any{userID}
	for i, f := range planFields(&p) {
		args = append(args, s.keys.seal(*f, safetyPlanAD(safetyPlanColumns[i], userID)))
	}
	args = append(args, updated.Unix())
	err := s.write(ctx, func(conn *sql.Conn) error {
		_, err := conn.ExecContext(ctx, `INSERT INTO safety_plans (user_id, warning_signs, calming, people, places, updated_at)
			VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (user_id) DO UPDATE SET warning_signs = excluded.warning_signs, calming = excluded.calming,
				people = excluded.people, places = excluded.places, updated_at = excluded.updated_at`, args...)
		return err
	})
	err = userMissing(err)
	if err != nil {
		return fmt.Errorf("save safety plan of user %d: %w", userID, err)
	}
	return nil
}

// RecordMessages records the ids of messages sent to or received from a
// private chat, so that /wipe can delete them, and forgets the ids older
// than MessageMemory (48 hours) before s.Now, of every chat, through the
// index on at. A message recorded twice keeps its first record. The commit
// is not fsynced: a power loss may lose the last ids, whose messages a
// /wipe then leaves in the chat.
func (s *Store) RecordMessages(ctx context.Context, p bot.Platform, chatID string, ms []bot.ChatMessage) error {
	return s.RecordMessageBatch(ctx, p, map[string][]bot.ChatMessage{chatID: ms})
}

// RecentMessages returns the recorded messages of the chat sent or received
// at or after since, oldest first (by time, then id).
func (s *Store) RecentMessages(ctx context.Context, p bot.Platform, chatID string, since time.Time) ([]bot.ChatMessage, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT message_id, from_bot, at FROM chat_messages
		WHERE platform = ? AND chat_id = ? AND at >= ? ORDER BY at, message_id`, string(p), chatID, since.Unix())
	if err != nil {
		return nil, fmt.Errorf("recent messages of a %s chat: %w", p, err)
	}
	defer rows.Close()
	var ms []bot.ChatMessage
	for rows.Next() {
		var m bot.ChatMessage
		var at int64
		if err := rows.Scan(&m.ID, &m.FromBot, &at); err != nil {
			return nil, fmt.Errorf("recent messages of a %s chat: %w", p, err)
		}
		m.At = time.Unix(at, 0).UTC()
		ms = append(ms, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("recent messages of a %s chat: %w", p, err)
	}
	return ms, nil
}

// ForgetMessages deletes the records of the chat's messages with these ids,
// e.g. once they are deleted from the chat. Unknown ids are ignored.
func (s *Store) ForgetMessages(ctx context.Context, p bot.Platform, chatID string, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	err := s.writeNormal(ctx, func(conn *sql.Conn) error {
		_, err := conn.ExecContext(ctx, `DELETE FROM chat_messages WHERE platform = ? AND chat_id = ?
			AND message_id IN (SELECT value FROM json_each(?))`, string(p), chatID, jsonOf(ids))
		return err
	})
	if err != nil {
		return fmt.Errorf("forget %d messages of a %s chat: %w", len(ids), p, err)
	}
	return nil
}

// sealedSelect is sealedColumns (see seal.go) with the answers of safety
// plans, once their table exists: a database opened with only the earlier
// migrations (in tests of upgrades) has none.
func (s *Store) sealedSelect(ctx context.Context) (string, error) {
	q := sealedColumns
	for _, t := range []struct{ table, sel string }{
		{"safety_plans", `
	UNION ALL SELECT warning_signs, calming FROM safety_plans
	UNION ALL SELECT people, places FROM safety_plans`},
		// Telegram updates left unhandled by a crash hold what people wrote.
		{"telegram_inbox", `
	UNION ALL SELECT raw, '' FROM telegram_inbox`},
	} {
		var n int
		if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_schema
		WHERE type = 'table' AND name = ?`, t.table).Scan(&n); err != nil {
			return "", err
		}
		if n > 0 {
			q += t.sel
		}
	}
	return q, nil
}

// safetyPlanResealer re-seals the answers of safety plans for Rekey.
func safetyPlanResealer(s *Store, cur *Key) resealer {
	return resealer{
		table: "safety_plans",
		read:  `SELECT user_id, warning_signs, calming, people, places FROM safety_plans WHERE user_id > ? ORDER BY user_id LIMIT ?`,
		fix: func(scan func(...any) error) (int64, []any, error) {
			var id int64
			vs := make([]string, len(safetyPlanColumns))
			if err := scan(&id, &vs[0], &vs[1], &vs[2], &vs[3]); err != nil {
				return 0, nil, err
			}
			done := true
			for _, v := range vs {
				done = done && (v == "" || sealedWith(v, cur))
			}
			if done {
				return id, nil, nil
			}
			args := make([]any, 0, len(vs)+1)
			for i, v := range vs {
				ad := safetyPlanAD(safetyPlanColumns[i], id)
				plain, err := s.keys.open(v, ad)
				if err != nil {
					return id, nil, fmt.Errorf("%s: %w", safetyPlanColumns[i], err)
				}
				args = append(args, s.keys.seal(plain, ad))
			}
			return id, append(args, id), nil
		},
		update: `UPDATE safety_plans SET warning_signs = ?, calming = ?, people = ?, places = ? WHERE user_id = ?`,
	}
}
