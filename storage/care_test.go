package storage

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trustbot/trustbot/bot"
)

func TestMoods(t *testing.T) {
	ctx := context.Background()
	s := MustOpen(t)
	u := mustUser(t, s, "1")
	other := mustUser(t, s, "2")

	for _, m := range []struct {
		id   int64
		date string
		mood bot.Mood
	}{
		{u.ID, "2026-06-03", bot.MoodHarder},
		{u.ID, "2026-06-01", bot.MoodBetter},
		{u.ID, "2026-06-03", bot.MoodSame}, // the last answer of a day wins
		{u.ID, "2026-05-20", bot.MoodUnsafe},
		{other.ID, "2026-06-02", bot.MoodHarder},
	} {
		if err := s.SetMood(ctx, m.id, m.date, m.mood); err != nil {
			t.Fatalf("SetMood(%d, %s, %s): %v", m.id, m.date, m.mood, err)
		}
	}
	got, err := s.Moods(ctx, u.ID, "2026-06-01")
	if err != nil {
		t.Fatal(err)
	}
	want := []bot.MoodEntry{{Date: "2026-06-01", Mood: bot.MoodBetter}, {Date: "2026-06-03", Mood: bot.MoodSame}}
	if !slices.Equal(got, want) {
		t.Fatalf("Moods since 2026-06-01: got %v, want %v (oldest first, one per day, the other person's left out)", got, want)
	}
	if all, _ := s.Moods(ctx, u.ID, "0000-01-01"); len(all) != 3 {
		t.Fatalf("all moods: got %v, want 3", all)
	}

	t.Run("Errors", func(t *testing.T) {
		for _, tt := range []struct {
			name string
			id   int64
			date string
			mood bot.Mood
			code string
		}{
			{"UnknownPerson", 999, "2026-06-01", bot.MoodSame, bot.ENOTFOUND},
			{"BadDate", u.ID, "June 1st", bot.MoodSame, bot.EINTERNAL},
			{"BadMood", u.ID, "2026-06-01", "fine", bot.EINTERNAL},
		} {
			err := s.SetMood(ctx, tt.id, tt.date, tt.mood)
			if err == nil || bot.ErrorCode(err) != tt.code {
				t.Errorf("%s: got %v (code %q), want an error with code %q", tt.name, err, bot.ErrorCode(err), tt.code)
			}
		}
	})
}

func TestSafetyPlan(t *testing.T) {
	ctx := context.Background()
	s := MustOpen(t)
	u := mustUser(t, s, "1")

	p, err := s.SafetyPlan(ctx, u.ID)
	if err != nil || !p.Empty() || !p.UpdatedAt.IsZero() {
		t.Fatalf("no plan yet: got %+v, %v; want a zero plan and no error", p, err)
	}
	s.Now = func() time.Time { return time.Date(2026, 6, 1, 20, 0, 0, 0, time.UTC) }
	want := bot.SafetyPlan{WarningSigns: "I stop sleeping", Calming: "a walk by the river", People: "Sam, 0123", Places: ""}
	if err := s.SaveSafetyPlan(ctx, u.ID, want); err != nil {
		t.Fatal(err)
	}
	want.UpdatedAt = s.now()
	if got, err := s.SafetyPlan(ctx, u.ID); err != nil || got != want {
		t.Fatalf("round trip: got %+v, %v; want %+v", got, err, want)
	}
	want.Places, want.Calming, want.UpdatedAt = "my sister's flat", "", time.Date(2026, 6, 2, 8, 0, 0, 0, time.UTC)
	if err := s.SaveSafetyPlan(ctx, u.ID, want); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.SafetyPlan(ctx, u.ID); got != want {
		t.Fatalf("after replacing: got %+v, want %+v", got, want)
	}
	if err := s.SaveSafetyPlan(ctx, 999, want); bot.ErrorCode(err) != bot.ENOTFOUND {
		t.Fatalf("plan of an unknown person: got %v, want ENOTFOUND", err)
	}
}

// With a key the answers are sealed at rest, bound to their column and
// person, checked at open and resealed by Rekey.
func TestSafetyPlan_sealed(t *testing.T) {
	ctx := context.Background()
	a, b := mustKey(t, 1), mustKey(t, 2)
	path := filepath.Join(t.TempDir(), "trustbot.db")
	const marker = "ochre-lantern-marker"
	plan := bot.SafetyPlan{WarningSigns: "signs " + marker, Calming: "calm " + marker, People: "people " + marker, Places: "places " + marker}

	s := mustOpenWith(t, path, Options{Key: a})
	u := mustUser(t, s, "1")
	v := mustUser(t, s, "2")
	if err := s.SaveSafetyPlan(ctx, u.ID, plan); err != nil {
		t.Fatal(err)
	}
	for _, col := range safetyPlanColumns {
		if got := raw(t, s, "SELECT "+col+" FROM safety_plans WHERE user_id = ?", u.ID); !sealedWith(got, a) || strings.Contains(got, marker) {
			t.Fatalf("%s is stored as %q, want it sealed with key %s", col, got, a.ID())
		}
	}
	got, err := s.SafetyPlan(ctx, u.ID)
	if err != nil || got.WarningSigns != plan.WarningSigns || got.Places != plan.Places {
		t.Fatalf("sealed plan reads back as %+v, %v", got, err)
	}

	// Moved to another person, a sealed answer does not open.
	if _, err := s.w.Exec(`INSERT INTO safety_plans (user_id, warning_signs, updated_at)
		SELECT ?, warning_signs, updated_at FROM safety_plans WHERE user_id = ?`, v.ID, u.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SafetyPlan(ctx, v.ID); err == nil || strings.Contains(err.Error(), marker) {
		t.Fatalf("an answer moved to another person: got %v, want an error that shows no content", err)
	}
	if _, err := s.w.Exec(`DELETE FROM safety_plans WHERE user_id = ?`, v.ID); err != nil {
		t.Fatal(err)
	}
	s.Close()

	// Without the key, or with another, the store refuses to open.
	for _, o := range []Options{{}, {Key: b}} {
		if s, err := OpenWith(path, o); err == nil {
			s.Close()
			t.Fatalf("opened with %+v although a safety plan is sealed with key %s", o, a.ID())
		}
	}

	// Rekey seals the plan with the new key.
	s2, err := OpenWith(path, Options{Key: b, OldKeys: []*Key{a}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := s2.Rekey(ctx, 1)
	s2.Close()
	if err != nil || res.SafetyPlans != 1 {
		t.Fatalf("rekey: %+v, %v; want 1 safety plan resealed", res, err)
	}
	s3 := mustOpenWith(t, path, Options{Key: b})
	if got, err := s3.SafetyPlan(ctx, u.ID); err != nil || got.People != plan.People {
		t.Fatalf("after rekey: %+v, %v", got, err)
	}

	// A plan written in the clear counts as plain text for rekey.
	plainPath := filepath.Join(t.TempDir(), "plain.db")
	p := MustOpenPath(t, plainPath)
	w := mustUser(t, p, "3")
	if err := p.SaveSafetyPlan(ctx, w.ID, bot.SafetyPlan{Calming: "tea"}); err != nil {
		t.Fatal(err)
	}
	p.Close()
	k := mustOpenWith(t, plainPath, Options{Key: a})
	if got := k.Plaintext(); got != 2 { // the name and the one answer
		t.Fatalf("Plaintext() = %d, want 2 (a name and one safety plan answer)", got)
	}
}

func TestChatMessages(t *testing.T) {
	ctx := context.Background()
	s := MustOpen(t)
	now := time.Date(2026, 6, 3, 12, 0, 0, 0, time.UTC)
	s.Now = func() time.Time { return now }
	tg, dc := bot.PlatformTelegram, bot.PlatformDiscord

	record := func(p bot.Platform, chat string, ms ...bot.ChatMessage) {
		t.Helper()
		if err := s.RecordMessages(ctx, p, chat, ms); err != nil {
			t.Fatal(err)
		}
	}
	ids := func(ms []bot.ChatMessage) []string {
		var out []string
		for _, m := range ms {
			out = append(out, m.ID)
		}
		return out
	}
	old := now.Add(-50 * time.Hour)
	record(tg, "1", bot.ChatMessage{ID: "10", FromBot: false, At: old})
	record(tg, "1",
		bot.ChatMessage{ID: "11", FromBot: false, At: now.Add(-time.Hour)},
		bot.ChatMessage{ID: "12", FromBot: true, At: now.Add(-time.Hour)},
		bot.ChatMessage{ID: "13", FromBot: true},          // at now
		bot.ChatMessage{ID: "12", FromBot: true, At: now}, // twice: the first record stays
	)
	record(tg, "2", bot.ChatMessage{ID: "11", FromBot: true, At: now})
	record(dc, "1", bot.ChatMessage{ID: "11", FromBot: true, At: now})

	got, err := s.RecentMessages(ctx, tg, "1", now.Add(-bot.WipeWindow))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"11", "12", "13"}; !slices.Equal(ids(got), want) {
		t.Fatalf("recent messages: got %v, want %v (oldest first; the one older than 48 hours pruned; other chats left out)", ids(got), want)
	}
	if got[0].FromBot || !got[1].FromBot || !got[1].At.Equal(now.Add(-time.Hour)) || !got[2].At.Equal(now) {
		t.Fatalf("recent messages: got %+v, want 11 from the person, 12 from the bot an hour ago, 13 now", got)
	}
	if n := count(t, s, "SELECT COUNT(*) FROM chat_messages WHERE message_id = '10'"); n != 0 {
		t.Fatalf("a message older than 48 hours is still recorded (%d rows), want it pruned", n)
	}

	if err := s.ForgetMessages(ctx, tg, "1", []string{"11", "13", "nope"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.RecentMessages(ctx, tg, "1", time.Time{}); !slices.Equal(ids(got), []string{"12"}) {
		t.Fatalf("after forgetting 11 and 13: got %v, want [12]", ids(got))
	}
	if got, _ := s.RecentMessages(ctx, tg, "2", time.Time{}); len(got) != 1 {
		t.Fatalf("forgetting in chat 1 touched chat 2: %v", got)
	}

	// /delete erases the person's chat's records, and only theirs.
	u := &bot.User{Platform: tg, PlatformID: "1", ChatID: "1"}
	if err := s.SaveUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.RecentMessages(ctx, tg, "1", time.Time{}); len(got) != 0 {
		t.Fatalf("after /delete the chat's message ids are still kept: %v", ids(got))
	}
	for _, c := range []struct {
		p    bot.Platform
		chat string
	}{{tg, "2"}, {dc, "1"}} {
		if got, _ := s.RecentMessages(ctx, c.p, c.chat, time.Time{}); len(got) != 1 {
			t.Fatalf("deleting telegram chat 1 touched %s chat %s: %v", c.p, c.chat, got)
		}
	}
}

// Everything about a person that the care features keep goes with them.
func TestDeleteUser_care(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "trustbot.db")
	s := MustOpenPath(t, path)
	u := mustUser(t, s, "1")
	stays := mustUser(t, s, "2")
	const marker = "saffron-quay-marker"
	for id, people := range map[int64]string{u.ID: "call " + marker, stays.ID: "call a friend"} {
		if err := s.SetMood(ctx, id, "2026-06-01", bot.MoodHarder); err != nil {
			t.Fatal(err)
		}
		if err := s.SaveSafetyPlan(ctx, id, bot.SafetyPlan{People: people}); err != nil {
			t.Fatal(err)
		}
	}
	files := []string{path, path + "-wal", path + "-shm"}
	if !onDisk(t, files, marker) {
		t.Fatal("the marker is not on disk before the delete: the check below proves nothing")
	}
	if err := s.DeleteUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if onDisk(t, files, marker) {
		t.Error("the deleted person's safety plan is still in the database files")
	}
	for _, table := range []string{"moods", "safety_plans"} {
		if got := count(t, s, "SELECT COUNT(*) FROM "+table+" WHERE user_id = ?", u.ID); got != 0 {
			t.Errorf("%s rows of the deleted person: got %d, want 0", table, got)
		}
		if got := count(t, s, "SELECT COUNT(*) FROM "+table+" WHERE user_id = ?", stays.ID); got != 1 {
			t.Errorf("%s rows of the other person: got %d, want 1", table, got)
		}
	}
}

// The care settings round-trip through SaveUser; CheckInAt is written by
// claims only, like LastNudgeAt.
func TestSaveUser_careFields(t *testing.T) {
	ctx := context.Background()
	s := MustOpen(t)
	u := &bot.User{Platform: bot.PlatformTelegram, PlatformID: "1", ChatID: "1", Step: 1,
		Discreet: true, Country: "DE", Pace: 2, Flow: bot.FlowSafetyPlan, FlowStep: 3,
		CheckInAt: time.Date(2026, 6, 1, 18, 0, 0, 0, time.UTC)}
	if err := s.SaveUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	got, err := s.User(ctx, bot.PlatformTelegram, "1")
	if err != nil {
		t.Fatal(err)
	}
	if !got.Discreet || got.Country != "DE" || got.Pace != 2 || got.Flow != bot.FlowSafetyPlan || got.FlowStep != 3 {
		t.Fatalf("care settings: got discreet %v country %q pace %d flow %q/%d; want true DE 2 safetyplan/3",
			got.Discreet, got.Country, got.Pace, got.Flow, got.FlowStep)
	}
	if !got.CheckInAt.IsZero() {
		t.Fatalf("SaveUser stored CheckInAt %v; only claims may", got.CheckInAt)
	}

	// A claim stores it.
	due := time.Date(2026, 6, 5, 18, 0, 0, 0, time.UTC)
	got.NextDue = due
	if err := s.SaveUser(ctx, got); err != nil {
		t.Fatal(err)
	}
	claimed := *got
	claimed.LastNudgeAt, claimed.CheckInAt, claimed.NextDue = due, due, due.AddDate(0, 0, 2)
	n := &bot.Nudge{User: &claimed, Date: "2026-06-05", Was: due}
	if err := s.ClaimNudges(ctx, due, []*bot.Nudge{n}); err != nil || !n.Claimed {
		t.Fatalf("claim: %v (claimed %v)", err, n.Claimed)
	}
	if got, _ := s.User(ctx, bot.PlatformTelegram, "1"); !got.CheckInAt.Equal(due) {
		t.Fatalf("after the claim: CheckInAt %v, want %v", got.CheckInAt, due)
	}

	// The schema refuses what the engine never writes.
	for _, bad := range []*bot.User{
		{Platform: bot.PlatformTelegram, PlatformID: "x1", Country: "de"},
		{Platform: bot.PlatformTelegram, PlatformID: "x2", Country: "DEU"},
	} {
		if err := s.SaveUser(ctx, bad); err == nil {
			t.Errorf("SaveUser with country %q succeeded, want the CHECK constraint to refuse it", bad.Country)
		}
	}
}

// messageLog is the method set the adapters declare for /wipe (e.g.
// telegram.MessageLog); pinned here so that a change to it is a choice.
type messageLog interface {
	RecordMessages(ctx context.Context, p bot.Platform, chatID string, ms []bot.ChatMessage) error
	RecentMessages(ctx context.Context, p bot.Platform, chatID string, since time.Time) ([]bot.ChatMessage, error)
	ForgetMessages(ctx context.Context, p bot.Platform, chatID string, ids []string) error
}

var _ messageLog = (*Store)(nil)
