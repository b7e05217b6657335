package storage

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/trustbot/trustbot/bot"
)

// scheduled saves a person whose next prompt is due at due (zero: none).
func scheduled(tb testing.TB, s *Store, id string, due time.Time) *bot.User {
	tb.Helper()
	u := &bot.User{Platform: bot.PlatformTelegram, PlatformID: id, ChatID: id, Step: 1, NudgeTime: "20:00", TimeZone: "UTC", NextDue: due}
	if err := s.SaveUser(context.Background(), u); err != nil {
		tb.Fatal(err)
	}
	return u
}

// claimState returns the state and attempts of a claim, or "" if none.
func claimState(tb testing.TB, s *Store, userID int64, date string) (string, int) {
	tb.Helper()
	var state string
	var attempts int
	err := s.r.QueryRow("SELECT state, attempts FROM nudges WHERE user_id = ? AND local_date = ?", userID, date).Scan(&state, &attempts)
	if err == sql.ErrNoRows {
		return "", 0
	}
	if err != nil {
		tb.Fatal(err)
	}
	return state, attempts
}

// bigStats gives the planner statistics of a million people with a week
// of claims each (as if ANALYZE had run on a big database), so that a plan
// that scans would show here.
func bigStats(t *testing.T, s *Store) {
	t.Helper()
	for _, q := range []string{
		"ANALYZE",
		"INSERT OR REPLACE INTO sqlite_stat1 VALUES ('users', NULL, '1000000'), ('users', 'users_next_due', '900000 2'), ('nudges', 'sqlite_autoindex_nudges_1', '7000000 7 1')",
		"ANALYZE sqlite_schema",
	} {
		if _, err := s.w.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// TestDueUsers_queryPlan shows that the sweep's query walks the next_due
// index (a SEARCH, in order, stopping at LIMIT) instead of scanning users.
func TestDueUsers_queryPlan(t *testing.T) {
	s := MustOpen(t)
	bigStats(t, s)
	got := queryPlan(t, s, dueQuery, time.Now().Unix(), 100)
	t.Logf("EXPLAIN QUERY PLAN:\n%s", got)
	if !strings.Contains(got, "SEARCH users USING INDEX users_next_due (next_due<?)") {
		t.Errorf("the due query does not search users_next_due:\n%s", got)
	}
	for _, bad := range []string{"SCAN", "TEMP B-TREE"} {
		if strings.Contains(got, bad) {
			t.Errorf("the due query plan has %s:\n%s", bad, got)
		}
	}
}

// TestClaimNudges_queryPlans shows that every batch statement reads the
// JSON batch as its outer loop and reaches rows by key: no statement scans
// users or nudges, however many there are.
func TestClaimNudges_queryPlans(t *testing.T) {
	s := MustOpen(t)
	bigStats(t, s)
	for name, q := range map[string]string{
		"claim": claimSQL, "take": takeSQL, "move": moveSQL, "prune": pruneSQL,
		"finish": finishSQL, "unreachable": unreachableSQL, "skip": skipSQL,
	} {
		got := queryPlan(t, s, q, 1, "[]")
		t.Logf("%s:\n%s", name, got)
		for _, bad := range []string{"SCAN users", "SCAN nudges"} {
			if strings.Contains(got, bad) {
				t.Errorf("%s has %s:\n%s", name, bad, got)
			}
		}
	}
}

// queryPlan returns SQLite's EXPLAIN QUERY PLAN for query, one step a line.
func queryPlan(tb testing.TB, s *Store, query string, args ...any) string {
	tb.Helper()
	rows, err := s.r.Query("EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		tb.Fatalf("explain %q: %v", query, err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			tb.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	return strings.Join(plan, "\n")
}

func TestDueUsers(t *testing.T) {
	s := MustOpen(t)
	ctx := context.Background()
	now := time.Date(2026, 6, 1, 18, 0, 0, 0, time.UTC)
	late := scheduled(t, s, "late", now.Add(-time.Hour))
	onTime := scheduled(t, s, "now", now)
	scheduled(t, s, "later", now.Add(time.Second))
	scheduled(t, s, "never", time.Time{})
	epoch := scheduled(t, s, "epoch", time.Unix(0, 0))

	us, err := s.DueUsers(ctx, now, 10)
	if err != nil {
		t.Fatal(err)
	}
	var got []int64
	for _, u := range us {
		got = append(got, u.ID)
	}
	if want := []int64{epoch.ID, late.ID, onTime.ID}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("due: got ids %v, want %v (earliest first, nothing later or unplanned)", got, want)
	}
	if !us[2].NextDue.Equal(now) || us[2].NudgeTime != "20:00" {
		t.Errorf("due user not read in full: %+v", us[2])
	}
	if us, err := s.DueUsers(ctx, now, 2); err != nil || len(us) != 2 {
		t.Errorf("limit 2: got %d (%v)", len(us), err)
	}
}

func TestClaimNudges(t *testing.T) {
	s := MustOpen(t)
	ctx := context.Background()
	now := time.Date(2026, 6, 1, 18, 0, 0, 0, time.UTC)
	tomorrow, later := now.AddDate(0, 0, 1), now.AddDate(0, 0, 2)

	u := scheduled(t, s, "1", now)
	claim := func(u *bot.User, date string, was, next, ifTaken time.Time) *bot.Nudge {
		t.Helper()
		c := *u
		c.NextDue, c.LastNudgeAt, c.NudgeStreak, c.PromptIndex, c.LastPrompt = next, was, 2, 1, "a question"
		n := &bot.Nudge{User: &c, Date: date, Was: was, IfTaken: ifTaken}
		if err := s.ClaimNudges(ctx, now, []*bot.Nudge{n}); err != nil {
			t.Fatal(err)
		}
		return n
	}

	n := claim(u, "2026-06-01", now, tomorrow, later)
	if !n.Claimed || n.Attempt != 1 {
		t.Fatalf("first claim: claimed=%v attempt=%d, want true, 1", n.Claimed, n.Attempt)
	}
	got := scheduledUser(t, s, "1")
	if !got.NextDue.Equal(tomorrow) || !got.LastNudgeAt.Equal(now) || got.NudgeStreak != 2 || got.PromptIndex != 1 || got.LastPrompt != "a question" {
		t.Fatalf("after the claim the person is %+v", got)
	}
	if st, _ := claimState(t, s, u.ID, "2026-06-01"); st != "claimed" {
		t.Fatalf("claim state %q, want claimed", st)
	}

	t.Run("stale", func(t *testing.T) {
		n := claim(u, "2026-06-02", now, later, later) // next_due is tomorrow now, not now
		if n.Claimed {
			t.Fatal("a claim with a stale next_due won")
		}
		if st, _ := claimState(t, s, u.ID, "2026-06-02"); st != "" || !scheduledUser(t, s, "1").NextDue.Equal(tomorrow) {
			t.Fatal("a stale claim changed something")
		}
	})
	t.Run("the same day again", func(t *testing.T) {
		// E.g. a stale save put next_due back to today.
		back := scheduledUser(t, s, "1")
		back.NextDue = now
		if err := s.SaveUser(ctx, back); err != nil {
			t.Fatal(err)
		}
		n := claim(back, "2026-06-01", now, tomorrow, later)
		if n.Claimed {
			t.Fatal("a second claim of the same day won")
		}
		got := scheduledUser(t, s, "1")
		if !got.NextDue.Equal(later) || got.NudgeStreak != 2 {
			t.Fatalf("after a taken day: next %s streak %d, want %s (IfTaken) and the streak untouched", got.NextDue, got.NudgeStreak, later)
		}
	})
	t.Run("a retry is claimed again", func(t *testing.T) {
		v := scheduled(t, s, "2", now)
		n := claim(v, "2026-06-01", now, tomorrow, later)
		retryAt := now.Add(5 * time.Minute)
		n.Status, n.Was, n.User.NextDue = bot.NudgeRetry, tomorrow, retryAt
		if err := s.FinishNudges(ctx, now, []*bot.Nudge{n}); err != nil {
			t.Fatal(err)
		}
		if got := scheduledUser(t, s, "2").NextDue; !got.Equal(retryAt) {
			t.Fatalf("after a retry: next %s, want %s", got, retryAt)
		}
		again := claim(scheduledUser(t, s, "2"), "2026-06-01", retryAt, tomorrow, later)
		if !again.Claimed || again.Attempt != 2 {
			t.Fatalf("reclaiming a retry: claimed=%v attempt=%d, want true, 2", again.Claimed, again.Attempt)
		}
		again.Status = bot.NudgeSent
		if err := s.FinishNudges(ctx, now, []*bot.Nudge{again}); err != nil {
			t.Fatal(err)
		}
		if st, a := claimState(t, s, v.ID, "2026-06-01"); st != "sent" || a != 2 {
			t.Fatalf("claim: %s after %d attempts, want sent after 2", st, a)
		}
		back := scheduledUser(t, s, "2")
		back.NextDue = now
		if err := s.SaveUser(ctx, back); err != nil {
			t.Fatal(err)
		}
		if n := claim(back, "2026-06-01", now, tomorrow, later); n.Claimed {
			t.Fatal("a sent day was claimed again")
		}
	})
	t.Run("move", func(t *testing.T) {
		w := scheduled(t, s, "3", now)
		c := *w
		c.NextDue = time.Time{}
		if err := s.ClaimNudges(ctx, now, []*bot.Nudge{{User: &c, Was: now}}); err != nil {
			t.Fatal(err)
		}
		if got := scheduledUser(t, s, "3").NextDue; !got.IsZero() {
			t.Fatalf("after a move to none: next %s", got)
		}
	})
	t.Run("unreachable", func(t *testing.T) {
		x := scheduled(t, s, "4", now)
		n := claim(x, "2026-06-01", now, tomorrow, later)
		n.Status = bot.NudgeUnreachable
		if err := s.FinishNudges(ctx, now, []*bot.Nudge{n}); err != nil {
			t.Fatal(err)
		}
		got := scheduledUser(t, s, "4")
		if !got.Unreachable || !got.NextDue.IsZero() {
			t.Fatalf("after unreachable: %+v", got)
		}
	})
	t.Run("old claims are pruned, and deleted with the person", func(t *testing.T) {
		y := scheduled(t, s, "5", now.AddDate(0, 0, -20))
		claim(y, "2026-05-12", now.AddDate(0, 0, -20), now.AddDate(0, 0, -10), later)
		claim(scheduledUser(t, s, "5"), "2026-05-22", now.AddDate(0, 0, -10), now, later)
		// Each person is pruned one day a week: within a week of claims,
		// the one older than keepNudges goes, and the stats' 14 days stay.
		for d := range 7 {
			due := now.AddDate(0, 0, d)
			claim(scheduledUser(t, s, "5"), due.Format(time.DateOnly), due, due.AddDate(0, 0, 1), later)
		}
		if st, _ := claimState(t, s, y.ID, "2026-05-12"); st != "" {
			t.Errorf("a claim 20 days old is still there (%s) after a week of claims", st)
		}
		if st, _ := claimState(t, s, y.ID, "2026-05-22"); st != "claimed" {
			t.Errorf("a claim 10 days old is %q after a week of claims, want it kept (claimed)", st)
		}
		if n := count(t, s, "SELECT COUNT(*) FROM nudges WHERE user_id = ?", y.ID); n != 8 {
			t.Errorf("claims kept: %d, want 8 (the last %d days)", n, keepNudges)
		}
		if err := s.DeleteUser(ctx, y.ID); err != nil {
			t.Fatal(err)
		}
		if n := count(t, s, "SELECT COUNT(*) FROM nudges WHERE user_id = ?", y.ID); n != 0 {
			t.Errorf("claims of a deleted person: %d, want 0", n)
		}
	})
}

// scheduledUser loads the Telegram person id.
func scheduledUser(tb testing.TB, s *Store, id string) *bot.User {
	tb.Helper()
	u, err := s.User(context.Background(), bot.PlatformTelegram, id)
	if err != nil {
		tb.Fatal(err)
	}
	return u
}

// SaveUser stores NextDue but never the claim's fields, so a stale copy
// cannot undo a claim.
func TestSaveUser_scheduleFields(t *testing.T) {
	s := MustOpen(t)
	ctx := context.Background()
	now := time.Date(2026, 6, 1, 18, 0, 0, 0, time.UTC)
	u := scheduled(t, s, "1", now)
	c := *u
	c.NextDue, c.LastNudgeAt, c.NudgeStreak = now.AddDate(0, 0, 1), now, 3
	if err := s.ClaimNudges(ctx, now, []*bot.Nudge{{User: &c, Date: "2026-06-01", Was: now}}); err != nil {
		t.Fatal(err)
	}
	stale := *u // read before the claim
	stale.Name = "renamed"
	if err := s.SaveUser(ctx, &stale); err != nil {
		t.Fatal(err)
	}
	got := scheduledUser(t, s, "1")
	if !got.LastNudgeAt.Equal(now) || got.NudgeStreak != 3 || !got.NextDue.Equal(now) || got.Name != "renamed" {
		t.Fatalf("after a stale save: %+v; want the claim's LastNudgeAt and streak kept, NextDue and name saved", got)
	}
}

// Migration 0002 plans existing people "at the epoch": due at once, which
// the first sweep treats as a missed day and replans without sending.
func TestMigrate0002_existingPeople(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trustbot.db")
	v1 := fstest.MapFS{"0001_init.sql": withMigrations(t, nil)["0001_init.sql"]}
	old, err := open(path, v1)
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range []string{
		"('active', 0, 0, 0, NULL)",
		"('done', 1, 0, 0, NULL)",
		"('paused', 0, 1, 0, NULL)",
		"('paused-a-week', 0, 1, 0, 1780000000)",
		"('blocked', 0, 0, 1, NULL)",
	} {
		if _, err := old.w.Exec("INSERT INTO users (platform, platform_id, completed, paused, unreachable, paused_until) VALUES ('telegram', " + row[1:]); err != nil {
			t.Fatal(err)
		}
	}
	old.Close()

	s := MustOpenPath(t, path)
	for _, tt := range []struct {
		id      string
		planned bool
	}{{"active", true}, {"done", false}, {"paused", false}, {"paused-a-week", true}, {"blocked", false}} {
		got := scheduledUser(t, s, tt.id).NextDue
		if tt.planned && !got.Equal(time.Unix(0, 0).UTC()) || !tt.planned && !got.IsZero() {
			t.Errorf("%s: next_due %v, want planned=%v", tt.id, got, tt.planned)
		}
	}
}
