package storage

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestTelegramUpdates(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

	t.Run("OK", func(t *testing.T) {
		s := MustOpen(t)
		seen, err := s.TelegramUpdateHandled(ctx, 42, t0)
		if err != nil || seen {
			t.Fatalf("new update: seen=%v, err=%v; want false, nil", seen, err)
		}
		if err := s.MarkTelegramUpdatesHandled(ctx, []int64{42}, t0); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name string
			id   int64
			at   time.Time
			want bool
		}{
			{"same update, at once", 42, t0, true},
			{"same update, 23h later", 42, t0.Add(23 * time.Hour), true},
			{"same update, 24h later", 42, t0.Add(24 * time.Hour), true},
			{"same update, 24h and 1s later", 42, t0.Add(24*time.Hour + time.Second), false},
			{"another update", 43, t0, false},
		}
		for _, tt := range tests {
			seen, err := s.TelegramUpdateHandled(ctx, tt.id, tt.at)
			if err != nil || seen != tt.want {
				t.Errorf("%s: seen=%v, err=%v; want %v", tt.name, seen, err, tt.want)
			}
		}
		// Marking again (a second handling after all) is not an error, and
		// nothing is not an error either.
		if err := s.MarkTelegramUpdatesHandled(ctx, nil, t0); err != nil {
			t.Fatalf("mark nothing: %v", err)
		}
		if err := s.MarkTelegramUpdatesHandled(ctx, []int64{42, 44}, t0.Add(time.Minute)); err != nil {
			t.Fatalf("mark twice: %v", err)
		}
		if seen, _ := s.TelegramUpdateHandled(ctx, 44, t0.Add(time.Minute)); !seen {
			t.Fatal("update 44 of a batch was not recorded")
		}
	})

	t.Run("Prune", func(t *testing.T) {
		s := MustOpen(t)
		for id := int64(1); id <= 100; id++ {
			if err := s.MarkTelegramUpdatesHandled(ctx, []int64{id}, t0.Add(time.Duration(id)*time.Minute)); err != nil {
				t.Fatal(err)
			}
		}
		if got, want := count(t, s, "SELECT COUNT(*) FROM telegram_updates"), 100; got != want {
			t.Fatalf("rows=%d, want %d", got, want)
		}
		// 24 h after update 50 was handled, updates 1..49 are forgotten.
		if err := s.MarkTelegramUpdatesHandled(ctx, []int64{1000}, t0.Add(24*time.Hour+50*time.Minute)); err != nil {
			t.Fatal(err)
		}
		if got, want := count(t, s, "SELECT COUNT(*) FROM telegram_updates"), 52; got != want {
			t.Fatalf("rows after prune=%d, want %d (updates 50..100 and 1000)", got, want)
		}
		if got := count(t, s, "SELECT COUNT(*) FROM telegram_updates WHERE update_id < 50"); got != 0 {
			t.Fatalf("%d updates older than 24 h were kept", got)
		}
	})

	t.Run("PruneUsesIndex", func(t *testing.T) {
		s := MustOpen(t)
		if p := queryPlan(t, s, "DELETE FROM telegram_updates WHERE handled_at < ?", t0.Unix()); !strings.Contains(p, "telegram_updates_handled_at") {
			t.Fatalf("pruning scans the table: plan %q does not use telegram_updates_handled_at", p)
		}
	})
}

// BenchmarkMarkTelegramUpdatesHandled measures the write the Telegram
// adapter makes for a batch of updates (one, and 20 as at a busy moment),
// with a day's worth of rows to prune from.
func BenchmarkMarkTelegramUpdatesHandled(b *testing.B) {
	for _, n := range []int{1, 20} {
		b.Run(fmt.Sprintf("batch=%d", n), func(b *testing.B) {
			s := MustOpen(b)
			ctx := context.Background()
			t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
			id := int64(0)
			at := func(id int64) time.Time { return t0.Add(time.Duration(id) * 8 * time.Second) }
			for ; id < 10000; id++ {
				if err := s.MarkTelegramUpdatesHandled(ctx, []int64{id}, at(id)); err != nil {
					b.Fatal(err)
				}
			}
			ids := make([]int64, n)
			b.ReportAllocs()
			for b.Loop() {
				for i := range ids {
					id++
					ids[i] = id
				}
				// Each batch pushes the oldest updates out of the 24 h window.
				if err := s.MarkTelegramUpdatesHandled(ctx, ids, at(id)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
