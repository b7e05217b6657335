package storage

import (
	"context"
	"fmt"
)

// Ping reports whether the database can be read: it runs one query on a
// read connection, which in WAL mode never waits for a writer. It is cheap
// enough for a health check every second.
func (s *Store) Ping(ctx context.Context) error {
	var v int
	if err := s.r.QueryRowContext(ctx, "SELECT COUNT(*) FROM migrations").Scan(&v); err != nil {
		return fmt.Errorf("storage: ping: %w", err)
	}
	return nil
}
