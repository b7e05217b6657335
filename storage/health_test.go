package storage

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestPing(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "ping.db"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		if err := s.Ping(ctx); err != nil {
			t.Fatalf("Ping = %v, want nil", err)
		}
	})
	t.Run("NotWaitingForAWriter", func(t *testing.T) {
		conn, err := s.w.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
			t.Fatal(err)
		}
		defer conn.ExecContext(ctx, "ROLLBACK")
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		if err := s.Ping(pctx); err != nil {
			t.Fatalf("Ping with a write transaction open = %v, want nil", err)
		}
	})
	t.Run("ErrClosed", func(t *testing.T) {
		s.Close()
		err := s.Ping(ctx)
		if err == nil || !strings.Contains(err.Error(), "storage: ping") {
			t.Fatalf("Ping after Close = %v, want a storage: ping error", err)
		}
	})
}
