package storage

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/trustbot/trustbot/bot"
)

// AddReflection stores r and sets r.ID; when r.CreatedAt is zero it sets
// it from s.Now (in UTC, to the second). The commit is fsynced
// (synchronous=FULL): once AddReflection returns, the reflection survives
// a crash of the process and a power loss. It returns ENOTFOUND when the
// person does not exist (e.g. they deleted their data meanwhile).
func (s *Store) AddReflection(ctx context.Context, r *bot.Reflection) error {
	created := r.CreatedAt
	if created.IsZero() {
		created = s.now()
	}
	// Sealed (with a key) before taking the writer: see seal.go.
	prompt := s.keys.seal(r.Prompt, reflectionAD("prompt", r.UserID))
	text := s.keys.seal(r.Text, reflectionAD("text", r.UserID))
	var id int64
	err := s.write(ctx, func(conn *sql.Conn) error {
		res, err := conn.ExecContext(ctx, `INSERT INTO reflections (user_id, step, prompt, text, created_at, source_id)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, r.UserID, r.Step, prompt, text, created.Unix(), r.SourceID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			id, _ = res.LastInsertId()
			return err
		}
		// The same message again (replayed after a crash): keep the first.
		var at int64
		if err := conn.QueryRowContext(ctx, `SELECT id, created_at FROM reflections WHERE user_id = ? AND source_id = ?`,
			r.UserID, r.SourceID).Scan(&id, &at); err != nil {
			return err
		}
		created = time.Unix(at, 0).UTC()
		return nil
	})
	err = userMissing(err)
	if err != nil {
		return fmt.Errorf("add reflection of user %d: %w", r.UserID, err)
	}
	r.ID = id
	r.CreatedAt = created
	return nil
}

// Reflections returns up to limit of the person's reflections, newest first
// (the latest id first among equal times), skipping offset, and how many
// there are in all. A limit of 0 or less means no limit, e.g. for an export.
func (s *Store) Reflections(ctx context.Context, userID int64, limit, offset int) ([]bot.Reflection, int, error) {
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	offset = max(offset, 0)
	// One statement, so the page and the total come from the same snapshot.
	rows, err := s.r.QueryContext(ctx, `SELECT id, step, prompt, text, created_at,
			(SELECT COUNT(*) FROM reflections WHERE user_id = ?1)
		FROM reflections WHERE user_id = ?1
		ORDER BY created_at DESC, id DESC
		LIMIT ?2 OFFSET ?3`, userID, limit, offset)
	if err != nil {
		return nil, 0, fmt.Errorf("reflections of user %d: %w", userID, err)
	}
	defer rows.Close()

	var rs []bot.Reflection
	total := 0
	for rows.Next() {
		r := bot.Reflection{UserID: userID}
		var created int64
		if err := rows.Scan(&r.ID, &r.Step, &r.Prompt, &r.Text, &created, &total); err != nil {
			return nil, 0, fmt.Errorf("reflections of user %d: %w", userID, err)
		}
		if err := s.openReflection(&r); err != nil {
			return nil, 0, fmt.Errorf("reflections of user %d: reflection %d: %w", userID, r.ID, err)
		}
		r.CreatedAt = fromUnix(sql.NullInt64{Int64: created, Valid: true})
		rs = append(rs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("reflections of user %d: %w", userID, err)
	}
	if len(rs) == 0 && offset > 0 {
		// A page past the end has no row to carry the total.
		total, err = s.CountReflections(ctx, userID, 0)
		if err != nil {
			return nil, 0, err
		}
	}
	return rs, total, nil
}

// CountReflections returns how many reflections the person wrote on step,
// or on all steps when step is 0.
func (s *Store) CountReflections(ctx context.Context, userID int64, step int) (int, error) {
	var n int
	var err error
	if step == 0 {
		err = s.r.QueryRowContext(ctx, "SELECT COUNT(*) FROM reflections WHERE user_id = ?", userID).Scan(&n)
	} else {
		err = s.r.QueryRowContext(ctx, "SELECT COUNT(*) FROM reflections WHERE user_id = ? AND step = ?", userID, step).Scan(&n)
	}
	if err != nil {
		return 0, fmt.Errorf("count reflections of user %d on step %d: %w", userID, step, err)
	}
	return n, nil
}
