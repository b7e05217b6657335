package storage

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/trustbot/trustbot/bot"
)

func TestUser_notFound(t *testing.T) {
	s := MustOpen(t)
	mustUser(t, s, "1")
	ctx := context.Background()

	for _, tt := range []struct {
		name       string
		platform   bot.Platform
		platformID string
	}{
		{"unknown id", bot.PlatformTelegram, "2"},
		{"same id, other platform", bot.PlatformDiscord, "1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			u, err := s.User(ctx, tt.platform, tt.platformID)
			if got := bot.ErrorCode(err); got != bot.ENOTFOUND {
				t.Errorf("got code %q (err %v, user %+v), want %q", got, err, u, bot.ENOTFOUND)
			}
		})
	}
}

func TestSaveUser_roundTrip(t *testing.T) {
	s := MustOpen(t)
	ctx := context.Background()
	berlin := time.FixedZone("CEST", 2*60*60)

	u := &bot.User{
		Platform:    bot.PlatformDiscord,
		PlatformID:  "123456789",
		ChatID:      "987",
		Name:        "Robin",
		Role:        bot.RoleHurt,
		Step:        4,
		Completed:   true,
		PromptIndex: 2,
		LastPrompt:  "What would safety look like today?",
		NudgeTime:   "20:30",
		TimeZone:    "Europe/Berlin",
		Paused:      true,
		PausedUntil: time.Date(2031, 5, 6, 7, 8, 9, 500_000_000, berlin),
		Unreachable: true,
		StartedAt:   time.Date(2030, 1, 2, 3, 4, 5, 999, time.UTC),
		LastSeenAt:  time.Date(2031, 5, 1, 12, 0, 0, 0, berlin),
	}
	if err := s.SaveUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if u.ID == 0 {
		t.Fatal("SaveUser did not set ID")
	}

	got, err := s.User(ctx, bot.PlatformDiscord, "123456789")
	if err != nil {
		t.Fatal(err)
	}
	want := *u
	want.PausedUntil = time.Date(2031, 5, 6, 5, 8, 9, 0, time.UTC) // UTC, to the second
	want.StartedAt = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	want.LastSeenAt = time.Date(2031, 5, 1, 10, 0, 0, 0, time.UTC)
	if !reflect.DeepEqual(*got, want) {
		t.Errorf("got  %+v\nwant %+v", *got, want)
	}

	// Update every field back to its zero value (but the identity).
	zero := &bot.User{ID: u.ID, Platform: u.Platform, PlatformID: u.PlatformID}
	if err := s.SaveUser(ctx, zero); err != nil {
		t.Fatal(err)
	}
	got, err = s.User(ctx, bot.PlatformDiscord, "123456789")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, zero) {
		t.Errorf("after update: got %+v, want %+v", got, zero)
	}
}

func TestSaveUser_errors(t *testing.T) {
	s := MustOpen(t)
	ctx := context.Background()
	u := mustUser(t, s, "1")

	t.Run("update a missing user", func(t *testing.T) {
		err := s.SaveUser(ctx, &bot.User{ID: u.ID + 100, Platform: bot.PlatformTelegram, PlatformID: "9"})
		if got := bot.ErrorCode(err); got != bot.ENOTFOUND {
			t.Errorf("got code %q (%v), want %q", got, err, bot.ENOTFOUND)
		}
	})
	t.Run("insert a duplicate", func(t *testing.T) {
		dup := &bot.User{Platform: u.Platform, PlatformID: u.PlatformID}
		err := s.SaveUser(ctx, dup)
		if err == nil || !strings.Contains(err.Error(), "telegram/1 is already a user") {
			t.Errorf("got %v, want an error saying telegram/1 is already a user", err)
		}
		if dup.ID != 0 {
			t.Errorf("ID after a failed insert: got %d, want 0", dup.ID)
		}
	})
	t.Run("no platform id", func(t *testing.T) {
		if err := s.SaveUser(ctx, &bot.User{Platform: bot.PlatformTelegram}); err == nil {
			t.Error("got no error, want a CHECK failure")
		}
	})
}

func TestDeleteUser(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trustbot.db")
	s := MustOpenPath(t, path)
	ctx := context.Background()

	// The markers appear nowhere but in what the person wrote.
	const marker = "zq7-lilac-harbour-marker"
	const nameMarker = "Quillon-Vetch"
	gone := &bot.User{Platform: bot.PlatformTelegram, PlatformID: "1001", ChatID: "1001", Name: nameMarker, Step: 3, LastPrompt: "prompt " + marker}
	if err := s.SaveUser(ctx, gone); err != nil {
		t.Fatal(err)
	}
	stays := mustUser(t, s, "2002")
	long := strings.Repeat("a long reflection that spills onto overflow pages "+marker+" ", 300)
	for i, text := range []string{"short " + marker, long, "third"} {
		if err := s.AddReflection(ctx, &bot.Reflection{UserID: gone.ID, Step: i + 1, Prompt: "p " + marker, Text: text}); err != nil {
			t.Fatal(err)
		}
		if err := s.AddReflection(ctx, &bot.Reflection{UserID: stays.ID, Step: i + 1, Text: "mine"}); err != nil {
			t.Fatal(err)
		}
	}

	files := []string{path, path + "-wal", path + "-shm"}
	if !onDisk(t, files, marker) {
		t.Fatal("the marker is not on disk before the delete: the check below proves nothing")
	}

	if err := s.DeleteUser(ctx, gone.ID); err != nil {
		t.Fatal(err)
	}

	for _, tt := range []struct{ table, where string }{
		{"users", "id = ?"},
		{"reflections", "user_id = ?"},
	} {
		if got := count(t, s, "SELECT COUNT(*) FROM "+tt.table+" WHERE "+tt.where, gone.ID); got != 0 {
			t.Errorf("%s rows of the deleted user: got %d, want 0", tt.table, got)
		}
	}
	if _, err := s.User(ctx, bot.PlatformTelegram, "1001"); bot.ErrorCode(err) != bot.ENOTFOUND {
		t.Errorf("User after delete: got %v, want ENOTFOUND", err)
	}
	if got, err := s.CountReflections(ctx, stays.ID, 0); err != nil || got != 3 {
		t.Errorf("the other person's reflections: got %d (%v), want 3", got, err)
	}
	for _, m := range []string{marker, nameMarker} {
		if onDisk(t, files, m) {
			t.Errorf("%q is still in the database files after the delete", m)
		}
	}

	// Deleting again is not an error: a retried /delete succeeds.
	if err := s.DeleteUser(ctx, gone.ID); err != nil {
		t.Errorf("delete again: %v", err)
	}
	// A reflection for the deleted person is refused.
	err := s.AddReflection(ctx, &bot.Reflection{UserID: gone.ID, Step: 1, Text: "late"})
	if got := bot.ErrorCode(err); got != bot.ENOTFOUND {
		t.Errorf("reflection of a deleted user: got code %q (%v), want %q", got, err, bot.ENOTFOUND)
	}
}

// onDisk reports whether s occurs in any of files (missing files count as
// empty).
func onDisk(t *testing.T, files []string, s string) bool {
	t.Helper()
	for _, f := range files {
		b, err := os.ReadFile(f)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(s)) {
			return true
		}
	}
	return false
}

// Every table about a person must go with them on /delete: a table with a
// user_id column must reference users (id) ON DELETE CASCADE, and any other
// table must be listed here with the reason it holds nothing of a person
// once DeleteUser returns. A new table fails this test until its author
// decides which it is.
func TestDeleteUser_everyTableCascades(t *testing.T) {
	notAboutAPerson := map[string]string{
		"users":            "the person's own row",
		"migrations":       "the schema version",
		"chat_messages":    "erased explicitly by DeleteUser (see TestChatMessages)",
		"telegram_updates": "update ids and times only, no person",
		"telegram_inbox":   "updates not yet handled; each row goes once handled",
	}
	s := MustOpen(t)
	rows, err := s.r.Query(`SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	cascading := 0
	for _, table := range tables {
		hasUserID := count(t, s, `SELECT COUNT(*) FROM pragma_table_info(?) WHERE name = 'user_id'`, table) > 0
		if !hasUserID {
			if _, ok := notAboutAPerson[table]; !ok {
				t.Errorf("table %s has no user_id column and is not listed in notAboutAPerson: does DeleteUser erase it?", table)
			}
			continue
		}
		n := count(t, s, `SELECT COUNT(*) FROM pragma_foreign_key_list(?)
			WHERE "table" = 'users' AND "from" = 'user_id' AND "to" = 'id' AND on_delete = 'CASCADE'`, table)
		if n != 1 {
			t.Errorf("table %s: user_id does not reference users (id) ON DELETE CASCADE, so DeleteUser leaves its rows", table)
			continue
		}
		cascading++
	}
	// reflections, nudges, safety_plans, moods: each has its own test
	// that DeleteUser erases its rows.
	if cascading < 4 {
		t.Errorf("tables cascading from users: got %d, want at least 4 (reflections, nudges, safety_plans, moods)", cascading)
	}
}
