package storage

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// inboxRows returns the inbox as id -> raw, and the ids in the order
// TelegramInbox gave them.
func inboxRows(t *testing.T, s *Store) (map[int64]string, []int64) {
	t.Helper()
	rows := map[int64]string{}
	var order []int64
	if err := s.TelegramInbox(context.Background(), func(id int64, raw []byte) error {
		rows[id] = string(raw)
		order = append(order, id)
		return nil
	}); err != nil {
		t.Fatalf("TelegramInbox: %v", err)
	}
	return rows, order
}

func TestTelegramInbox(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	raw := func(id int64) []byte {
		return fmt.Appendf(nil, `{"update_id":%d,"message":{"text":"words of %d"}}`, id, id)
	}
	tests := []struct {
		name string
		key  bool
	}{
		{"plain", false},
		{"sealed", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "trustbot.db")
			var o Options
			if tt.key {
				o.Key = mustKey(t, 7)
			}
			s := mustOpenWith(t, path, o)
			if err := s.AddTelegramInbox(ctx, nil, nil); err != nil {
				t.Fatalf("add nothing: %v", err)
			}
			if err := s.AddTelegramInbox(ctx, []int64{1}, nil); err == nil {
				t.Fatal("add 1 id with 0 updates: got no error")
			}
			// Out of order, and 12 twice (a webhook retry): kept once, as first stored.
			if err := s.AddTelegramInbox(ctx, []int64{12, 10, 11}, [][]byte{raw(12), raw(10), raw(11)}); err != nil {
				t.Fatal(err)
			}
			if err := s.AddTelegramInbox(ctx, []int64{12, 13}, [][]byte{[]byte(`{"update_id":12}`), raw(13)}); err != nil {
				t.Fatal(err)
			}
			rows, order := inboxRows(t, s)
			if want := []int64{10, 11, 12, 13}; !slices.Equal(order, want) {
				t.Fatalf("inbox order %v, want %v", order, want)
			}
			for _, id := range order {
				if rows[id] != string(raw(id)) {
					t.Errorf("update %d: got %q, want %q", id, rows[id], raw(id))
				}
			}
			var stored string
			if err := s.r.QueryRowContext(ctx, `SELECT raw FROM telegram_inbox WHERE update_id = 10`).Scan(&stored); err != nil {
				t.Fatal(err)
			}
			if sealed := strings.HasPrefix(stored, sealPrefix); sealed != tt.key || strings.Contains(stored, "words of") == tt.key {
				t.Errorf("stored update 10 as %q: sealed %v, want %v", stored, sealed, tt.key)
			}

			// Handled: out of the inbox.
			if err := s.MarkTelegramUpdatesHandled(ctx, []int64{11, 13, 99}, t0); err != nil {
				t.Fatal(err)
			}
			if _, order := inboxRows(t, s); !slices.Equal(order, []int64{10, 12}) {
				t.Errorf("inbox after marking 11 and 13 handled: %v, want [10 12]", order)
			}

			// A stop at fn's first error.
			stop := fmt.Errorf("stop")
			n := 0
			if err := s.TelegramInbox(ctx, func(int64, []byte) error { n++; return stop }); err != stop || n != 1 {
				t.Errorf("fn failing: %d calls, err %v; want 1 call, err %v", n, err, stop)
			}
		})
	}

	t.Run("WrongKey", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "trustbot.db")
		s, err := OpenWith(path, Options{Key: mustKey(t, 1)})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.AddTelegramInbox(ctx, []int64{5}, [][]byte{raw(5)}); err != nil {
			t.Fatal(err)
		}
		s.Close()
		// The key check at open covers the inbox: another key fails at start,
		// not later at replay.
		s2, err := OpenWith(path, Options{Key: mustKey(t, 2)})
		if err == nil {
			s2.Close()
			t.Fatal("open with another key succeeded")
		}
		if !strings.Contains(err.Error(), "encryption key") || strings.Contains(err.Error(), "words") {
			t.Errorf("open with another key: got %v, want a key error and no content", err)
		}
	})
	t.Run("ReadFailureNamesUpdate", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "trustbot.db")
		s := mustOpenWith(t, path, Options{Key: mustKey(t, 1)})
		if err := s.AddTelegramInbox(ctx, []int64{5}, [][]byte{raw(5)}); err != nil {
			t.Fatal(err)
		}
		// Tamper: move the sealed row to another update id, so its
		// additional data no longer matches.
		if _, err := s.w.Exec(`UPDATE telegram_inbox SET update_id = 6 WHERE update_id = 5`); err != nil {
			t.Fatal(err)
		}
		err := s.TelegramInbox(ctx, func(int64, []byte) error { return nil })
		if err == nil || !strings.Contains(err.Error(), "update 6") || strings.Contains(err.Error(), "words") {
			t.Errorf("read a tampered row: got %v, want an error naming update 6 and no content", err)
		}
	})
}

// Updates left in the inbox by a crash are checked at open like every
// sealed value, and rekey re-seals them, so that a new key never meets an
// inbox it cannot read at replay.
func TestTelegramInbox_keys(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "trustbot.db")
	a, b := mustKey(t, 1), mustKey(t, 2)
	s, err := OpenWith(path, Options{Key: a})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AddTelegramInbox(ctx, []int64{7}, [][]byte{[]byte(`{"update_id":7}`)}); err != nil {
		t.Fatal(err)
	}
	s.Close()

	if s, err := OpenWith(path, Options{Key: b}); err == nil {
		s.Close()
		t.Fatal("opening with another key succeeded although the inbox holds a value sealed with the first")
	}
	s, err = OpenWith(path, Options{Key: b, OldKeys: []*Key{a}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Rekey(ctx, 10)
	s.Close()
	if err != nil || res.Inbox != 1 {
		t.Fatalf("Rekey = %+v, %v; want the one inbox row sealed anew", res, err)
	}
	s, err = OpenWith(path, Options{Key: b})
	if err != nil {
		t.Fatalf("open with the new key after rekey: %v", err)
	}
	defer s.Close()
	if rows, _ := inboxRows(t, s); rows[7] != `{"update_id":7}` {
		t.Fatalf("inbox after rekey = %v, want update 7 readable", rows)
	}
}
