package storage

import (
	"context"
	"path/filepath"
	"testing"
	"testing/fstest"
	"time"

	"github.com/trustbot/trustbot/bot"
)

// TestClaimNudges_skipped: a reschedule with Skipped records the day as
// skipped (for the stats), only where next_due is still Was and the day
// has no row; and a skipped day can still be claimed.
func TestClaimNudges_skipped(t *testing.T) {
	s := MustOpen(t)
	ctx := context.Background()
	now := time.Date(2026, 6, 2, 9, 0, 0, 0, time.UTC)
	was := now.AddDate(0, 0, -1)
	tomorrow := now.AddDate(0, 0, 1)
	skip := func(u *bot.User, day string, was time.Time) error {
		c := *u
		c.NextDue = tomorrow
		return s.ClaimNudges(ctx, now, []*bot.Nudge{{User: &c, Was: was, Skipped: day}})
	}

	t.Run("OK", func(t *testing.T) {
		u := scheduled(t, s, "1", was)
		if err := skip(u, "2026-06-01", was); err != nil {
			t.Fatal(err)
		}
		if st, attempts := claimState(t, s, u.ID, "2026-06-01"); st != "skipped" || attempts != 0 {
			t.Fatalf("skipped day: state %q, attempts %d; want skipped, 0", st, attempts)
		}
		if got := scheduledUser(t, s, "1").NextDue; !got.Equal(tomorrow) {
			t.Fatalf("next_due = %v, want %v", got, tomorrow)
		}
		if n := count(t, s, "SELECT COUNT(*) FROM nudges WHERE user_id = ? AND claimed_at = ? AND finished_at = ?", u.ID, now.Unix(), now.Unix()); n != 1 {
			t.Fatalf("skipped rows stamped with now: %d, want 1", n)
		}
	})
	t.Run("Stale", func(t *testing.T) {
		u := scheduled(t, s, "2", was)
		if err := skip(u, "2026-06-01", was.Add(time.Minute)); err != nil { // next_due changed meanwhile
			t.Fatal(err)
		}
		if st, _ := claimState(t, s, u.ID, "2026-06-01"); st != "" {
			t.Fatalf("a stale skip wrote a row in state %q", st)
		}
	})
	t.Run("KeepsAClaim", func(t *testing.T) {
		u := scheduled(t, s, "3", was)
		c := *u
		c.NextDue = now
		if err := s.ClaimNudges(ctx, now, []*bot.Nudge{{User: &c, Date: "2026-06-01", Was: was}}); err != nil {
			t.Fatal(err)
		}
		if err := skip(scheduledUser(t, s, "3"), "2026-06-01", now); err != nil {
			t.Fatal(err)
		}
		if st, _ := claimState(t, s, u.ID, "2026-06-01"); st != "claimed" {
			t.Fatalf("a claimed day skipped later is %q, want claimed", st)
		}
	})
	t.Run("SkippedDayCanBeClaimed", func(t *testing.T) {
		// E.g. skipped in quiet hours, then the person chose a later time
		// that day with /time.
		u := scheduled(t, s, "4", was)
		if err := skip(u, "2026-06-02", was); err != nil {
			t.Fatal(err)
		}
		c := *scheduledUser(t, s, "4")
		was := c.NextDue
		c.NextDue = tomorrow.Add(time.Hour)
		n := &bot.Nudge{User: &c, Date: "2026-06-02", Was: was}
		if err := s.ClaimNudges(ctx, now, []*bot.Nudge{n}); err != nil {
			t.Fatal(err)
		}
		if !n.Claimed || n.Attempt != 1 {
			t.Fatalf("claim of a skipped day: claimed=%v attempt=%d, want true, 1", n.Claimed, n.Attempt)
		}
		if st, _ := claimState(t, s, u.ID, "2026-06-02"); st != "claimed" {
			t.Fatalf("state %q, want claimed", st)
		}
	})
	t.Run("ErrBadDate", func(t *testing.T) {
		u := scheduled(t, s, "5", was)
		if err := skip(u, "June 1st", was); err == nil {
			t.Fatal("a skip with a bad date was accepted")
		}
	})
	t.Run("Stats", func(t *testing.T) {
		st, err := s.Stats(ctx, now, bot.StatsDays)
		if err != nil {
			t.Fatal(err)
		}
		// 1 (OK) is still skipped; 3 and 4 were claimed.
		if got := st.Days[len(st.Days)-1].Nudges[bot.NudgeSkipped]; got != 1 {
			t.Fatalf("skipped today: %d, want 1 (days: %+v)", got, st.Days[len(st.Days)-1])
		}
		if st.NudgeDays < bot.StatsDays {
			t.Fatalf("NudgeDays = %d, want at least the %d days the stats show", st.NudgeDays, bot.StatsDays)
		}
	})
}

// TestMigrate0005_keepsClaims: rebuilding the nudges table for 'skipped'
// keeps every claim.
func TestMigrate0005_keepsClaims(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trustbot.db")
	all := withMigrations(t, nil)
	before := fstest.MapFS{}
	for name, f := range all {
		if name < "0005" {
			before[name] = f
		}
	}
	old, err := open(path, before)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		"INSERT INTO users (id, platform, platform_id) VALUES (7, 'telegram', '7')",
		"INSERT INTO nudges (user_id, local_date, state, attempts, claimed_at, finished_at) VALUES (7, '2026-06-01', 'sent', 2, 100, 200)",
	} {
		if _, err := old.w.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	old.Close()

	s := MustOpenPath(t, path)
	if st, attempts := claimState(t, s, 7, "2026-06-01"); st != "sent" || attempts != 2 {
		t.Fatalf("after 0005: state %q attempts %d, want sent, 2", st, attempts)
	}
	if _, err := s.w.Exec("INSERT INTO nudges (user_id, local_date, state, attempts, claimed_at) VALUES (7, '2026-06-02', 'skipped', 0, 300)"); err != nil {
		t.Fatalf("a skipped row after 0005: %v", err)
	}
	if _, err := s.w.Exec("DELETE FROM users WHERE id = 7"); err != nil {
		t.Fatal(err)
	}
	if n := count(t, s, "SELECT COUNT(*) FROM nudges WHERE user_id = 7"); n != 0 {
		t.Fatalf("rows of a deleted person after 0005: %d, want 0 (ON DELETE CASCADE kept)", n)
	}
}
