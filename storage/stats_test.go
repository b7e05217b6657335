package storage

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/trustbot/trustbot/bot"
)

func TestStats(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)
	s := mustOpenWith(t, t.TempDir()+"/trustbot.db", Options{Key: mustKey(t, 1)})

	people := []struct {
		platform    bot.Platform
		step        int
		completed   bool
		unreachable bool
		paused      bool
		until       time.Time
	}{
		{platform: bot.PlatformTelegram, step: 1},
		{platform: bot.PlatformTelegram, step: 1},
		{platform: bot.PlatformTelegram, step: 3, paused: true},                             // paused until /resume
		{platform: bot.PlatformTelegram, step: 3, paused: true, until: now.Add(time.Hour)},  // paused a while longer
		{platform: bot.PlatformTelegram, step: 4, paused: true, until: now.Add(-time.Hour)}, // the pause ran out: active
		{platform: bot.PlatformDiscord, step: 2, unreachable: true, paused: true},           // unreachable first
		{platform: bot.PlatformDiscord, step: 10, completed: true, paused: true},            // completed first
		{platform: bot.PlatformConsole, step: 10},
	}
	var ids []int64
	for i, p := range people {
		u := &bot.User{Platform: p.platform, PlatformID: fmt.Sprint(i), Name: "N", Step: p.step, Completed: p.completed,
			Unreachable: p.unreachable, Paused: p.paused, PausedUntil: p.until}
		if err := s.SaveUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, u.ID)
	}
	// Reflections: 2 today, 1 yesterday, 1 thirteen days ago (the first day
	// shown), 1 fourteen days ago (not shown), 1 tomorrow (not shown).
	for _, ago := range []int{0, 0, 1, 13, 14, -1} {
		r := &bot.Reflection{UserID: ids[0], Step: 1, Text: "private words", CreatedAt: now.AddDate(0, 0, -ago)}
		if err := s.AddReflection(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	// Daily prompts by claim time and outcome.
	nudges := []struct {
		user  int
		ago   int
		state string
	}{
		{0, 0, "sent"}, {1, 0, "sent"}, {2, 0, "claimed"}, {3, 0, "retry"},
		{0, 1, "sent"}, {1, 1, "failed"}, {2, 1, "unreachable"},
		{0, 20, "sent"}, // too old to show
	}
	for _, n := range nudges {
		at := now.AddDate(0, 0, -n.ago)
		if _, err := s.w.Exec(`INSERT INTO nudges (user_id, local_date, state, claimed_at) VALUES (?, ?, ?, ?)`,
			ids[n.user], at.Format(time.DateOnly), n.state, at.Unix()); err != nil {
			t.Fatal(err)
		}
	}

	st, err := s.Stats(ctx, now, 14)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := st.People, len(people); got != want {
		t.Errorf("People = %d, want %d", got, want)
	}
	if got, want := st.ByPlatform, map[bot.Platform]int{"telegram": 5, "discord": 2, "console": 1}; !reflect.DeepEqual(got, want) {
		t.Errorf("ByPlatform = %v, want %v", got, want)
	}
	if got, want := st.ByStep, map[int]int{1: 2, 2: 1, 3: 2, 4: 1, 10: 1}; !reflect.DeepEqual(got, want) {
		t.Errorf("ByStep = %v, want %v", got, want)
	}
	if got, want := [4]int{st.Active, st.Paused, st.Unreachable, st.Completed}, [4]int{4, 2, 1, 1}; got != want {
		t.Errorf("active, paused, unreachable, completed = %v, want %v", got, want)
	}
	if len(st.Days) != 14 || st.Days[0].Date != "2026-03-01" || st.Days[13].Date != "2026-03-14" {
		t.Fatalf("days %d, from %s to %s; want 14, from 2026-03-01 to 2026-03-14", len(st.Days), st.Days[0].Date, st.Days[len(st.Days)-1].Date)
	}
	wantRefl := map[string]int{"2026-03-14": 2, "2026-03-13": 1, "2026-03-01": 1}
	wantNudges := map[string]map[bot.NudgeStatus]int{
		"2026-03-14": {"sent": 2, "claimed": 1, "retry": 1},
		"2026-03-13": {"sent": 1, "failed": 1, "unreachable": 1},
	}
	for _, d := range st.Days {
		if d.Reflections != wantRefl[d.Date] {
			t.Errorf("%s: %d reflections, want %d", d.Date, d.Reflections, wantRefl[d.Date])
		}
		want := wantNudges[d.Date]
		if want == nil {
			want = map[bot.NudgeStatus]int{}
		}
		if !reflect.DeepEqual(d.Nudges, want) {
			t.Errorf("%s: nudges %v, want %v", d.Date, d.Nudges, want)
		}
	}
	if st.NudgeDays != keepNudges || !st.At.Equal(now) {
		t.Errorf("NudgeDays, At = %d, %v; want %d, %v", st.NudgeDays, st.At, keepNudges, now)
	}
}

// TestStats_empty: a new database has nobody, and every day at zero.
func TestStats_empty(t *testing.T) {
	st, err := MustOpen(t).Stats(context.Background(), time.Now(), 3)
	if err != nil {
		t.Fatal(err)
	}
	if st.People != 0 || len(st.Days) != 3 || st.Days[2].Date != time.Now().UTC().Format(time.DateOnly) {
		t.Fatalf("stats of an empty database: %+v", st)
	}
}
