package bot_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trustbot/trustbot/bot"
	"github.com/trustbot/trustbot/content"
	"github.com/trustbot/trustbot/storage"
)

// clock is a fake clock that tests advance by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// harness is a real engine on a real SQLite file, with the embedded program.
type harness struct {
	t     testing.TB
	eng   *bot.Engine
	store *storage.Store
	clock *clock
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	st, err := storage.Open(filepath.Join(t.TempDir(), "trustbot.db"))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	c := &clock{t: time.Date(2026, 11, 25, 21, 30, 0, 0, time.UTC)}
	st.Now = c.Now
	eng := &bot.Engine{Program: content.Default(), Store: st, Now: c.Now, DefaultTime: "20:00", DefaultTimeZone: "Europe/Berlin"}
	return &harness{t: t, eng: eng, store: st, clock: c}
}

const alice = "1001"

func (h *harness) in(text string) bot.Incoming {
	return bot.Incoming{Platform: bot.PlatformTelegram, UserID: alice, ChatID: alice, Private: true, Name: "Alice", Text: text}
}

// send handles text from alice in a private chat and returns the replies.
func (h *harness) send(text string) []bot.Reply {
	h.t.Helper()
	rs, err := h.eng.Handle(context.Background(), h.in(text))
	if err != nil {
		h.t.Fatalf("Handle(%q): %v", text, err)
	}
	return rs
}

// press presses a button as alice.
func (h *harness) press(a bot.Action) []bot.Reply {
	h.t.Helper()
	in := h.in("")
	in.Action = &a
	rs, err := h.eng.Handle(context.Background(), in)
	if err != nil {
		h.t.Fatalf("press %v: %v", a, err)
	}
	return rs
}

func (h *harness) user() *bot.User {
	h.t.Helper()
	u, err := h.store.User(context.Background(), bot.PlatformTelegram, alice)
	if err != nil {
		h.t.Fatalf("load alice: %v", err)
	}
	return u
}

// started returns a harness where alice has started and skipped the role question.
func started(t testing.TB) *harness {
	h := newHarness(t)
	h.send("/start")
	h.press(bot.Action{Kind: bot.ActRole})
	return h
}

func all(rs []bot.Reply) string {
	var b strings.Builder
	for _, r := range rs {
		b.WriteString(r.Text.String())
		b.WriteString("\n---\n")
	}
	return b.String()
}

func buttons(rs []bot.Reply) []bot.Action {
	var as []bot.Action
	for _, r := range rs {
		for _, row := range r.Buttons {
			for _, b := range row {
				as = append(as, b.Action)
			}
		}
	}
	return as
}

func mustContain(t testing.TB, rs []bot.Reply, wants ...string) {
	t.Helper()
	got := all(rs)
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Fatalf("replies do not contain %q; got:\n%s", w, got)
		}
	}
}

func mustNotContain(t testing.TB, rs []bot.Reply, nots ...string) {
	t.Helper()
	got := all(rs)
	for _, n := range nots {
		if strings.Contains(got, n) {
			t.Fatalf("replies contain %q but must not; got:\n%s", n, got)
		}
	}
}

func stepHeading(h *harness, n int) string {
	st, ok := h.eng.Program.Step(n)
	if !ok {
		h.t.Fatalf("no step %d", n)
	}
	return st.Title
}

func TestStart(t *testing.T) {
	t.Run("New", func(t *testing.T) {
		h := newHarness(t)
		rs := h.send("/start")
		mustContain(t, rs, h.eng.Program.Title, h.eng.Program.Welcome)
		if got, want := len(buttons(rs)), 4; got != want {
			t.Fatalf("role question has %d buttons, want %d (three roles and skip)", got, want)
		}
		u := h.user()
		if u.Step != 1 || u.Completed || u.NudgeTime != "20:00" || u.TimeZone != "Europe/Berlin" {
			t.Fatalf("new user = step %d completed %v time %s zone %s; want step 1, 20:00 Europe/Berlin", u.Step, u.Completed, u.NudgeTime, u.TimeZone)
		}
	})
	t.Run("RoleThenStep1", func(t *testing.T) {
		h := newHarness(t)
		h.send("/start")
		rs := h.press(bot.Action{Kind: bot.ActRole, Arg: string(bot.RoleHurt)})
		mustContain(t, rs, "Step 1 of 10", stepHeading(h, 1))
		if got := h.user().Role; got != bot.RoleHurt {
			t.Fatalf("role = %q, want %q", got, bot.RoleHurt)
		}
	})
	t.Run("ReturningKeepsProgress", func(t *testing.T) {
		h := started(t)
		h.send("/next")
		h.send("/next")
		rs := h.send("/start")
		mustContain(t, rs, "Welcome back", "Step 3 of 10")
		if got := h.user().Step; got != 3 {
			t.Fatalf("step after /start = %d, want 3: /start must never reset progress", got)
		}
	})
	t.Run("FirstPlainTextWelcomes", func(t *testing.T) {
		h := newHarness(t)
		rs := h.send("hello?")
		mustContain(t, rs, h.eng.Program.Welcome)
		if n, _ := h.store.CountReflections(context.Background(), h.user().ID, 0); n != 0 {
			t.Fatalf("a first hello was stored as a reflection (%d); it must not be", n)
		}
	})
}

func TestStep(t *testing.T) {
	h := started(t)
	tests := []struct {
		name  string
		text  string
		wants []string
		nots  []string
	}{
		{"Current", "/step", []string{"Step 1 of 10 — " + stepHeading(h, 1), "For today:", "To reflect on:"}, nil},
		{"CurrentByNumber", "/step 1", []string{"Step 1 of 10"}, nil},
		{"NotReachedYet", "/step 3", []string{"you are on step 1"}, []string{"Step 3 of 10"}},
		{"OutOfRange", "/step 11", []string{"from 1 to 10"}, nil},
		{"NotANumber", "/step two", []string{"from 1 to 10"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs := h.send(tt.text)
			mustContain(t, rs, tt.wants...)
			mustNotContain(t, rs, tt.nots...)
		})
	}
	t.Run("Buttons", func(t *testing.T) {
		as := buttons(h.send("/step"))
		if len(as) != 2 || as[0].Kind != bot.ActReflect || as[1].Kind != bot.ActNext {
			t.Fatalf("step buttons = %v, want [reflect next]", as)
		}
	})
	t.Run("RereadEarlier", func(t *testing.T) {
		h.send("/next")
		rs := h.send("/step 1")
		mustContain(t, rs, "Step 1 of 10", "You are on step 2 now")
	})
}

func TestNext(t *testing.T) {
	t.Run("WithoutReflectionIsGentle", func(t *testing.T) {
		h := started(t)
		rs := h.send("/next")
		mustContain(t, rs, "Step 1 is done", "reflection help", "Step 2 of 10 — "+stepHeading(h, 2))
	})
	t.Run("WithReflection", func(t *testing.T) {
		h := started(t)
		h.send("I know I hurt her.")
		rs := h.send("/next")
		mustContain(t, rs, "Step 2 of 10")
		mustNotContain(t, rs, "reflection help")
	})
	t.Run("ButtonLikeCommand", func(t *testing.T) {
		h := started(t)
		rs := h.press(bot.Action{Kind: bot.ActNext})
		mustContain(t, rs, "Step 2 of 10")
	})
	t.Run("CompletionAndRestart", func(t *testing.T) {
		h := started(t)
		h.send("a first thought")
		for i := 0; i < 9; i++ {
			h.send("/next")
		}
		rs := h.send("/next")
		mustContain(t, rs, "Step 10 is done", h.eng.Program.Completion)
		if u := h.user(); !u.Completed {
			t.Fatalf("after the last /next, completed = false")
		}
		mustContain(t, h.send("/next"), h.eng.Program.Completion)
		rs = h.send("/restart")
		mustContain(t, rs, "Step 1 of 10", "journal is kept")
		if u := h.user(); u.Completed || u.Step != 1 {
			t.Fatalf("after /restart: step %d completed %v, want step 1, not completed", u.Step, u.Completed)
		}
		mustContain(t, h.send("/journal"), "a first thought")
	})
	t.Run("RestartMidwayAsks", func(t *testing.T) {
		h := started(t)
		h.send("/next")
		rs := h.send("/restart")
		if as := buttons(rs); len(as) != 2 || as[0].Kind != bot.ActRestart {
			t.Fatalf("mid-program /restart buttons = %v, want a confirmation", as)
		}
		if h.user().Step != 2 {
			t.Fatalf("/restart moved the user before confirming")
		}
		h.press(bot.Action{Kind: bot.ActRestart})
		if h.user().Step != 1 {
			t.Fatalf("confirmed restart left the user on step %d", h.user().Step)
		}
	})
}

func TestReflection(t *testing.T) {
	h := started(t)
	u := h.user()
	rs := h.send("  I keep replaying the night I found out.  ")
	if len(rs) != 1 || !rs[0].Personal {
		t.Fatalf("acknowledgment = %+v, want one personal reply", rs)
	}
	list, total, err := h.store.Reflections(context.Background(), u.ID, 10, 0)
	if err != nil || total != 1 {
		t.Fatalf("Reflections = %d, %v; want 1", total, err)
	}
	r := list[0]
	if r.Text != "I keep replaying the night I found out." || r.Step != 1 || r.Prompt != u.LastPrompt || r.Prompt == "" || !r.CreatedAt.Equal(h.clock.Now()) {
		t.Fatalf("stored reflection = %+v; want the trimmed text on step 1, prompt %q, at %v", r, u.LastPrompt, h.clock.Now())
	}
	// Acknowledgments vary.
	seen := map[string]bool{all(rs): true}
	for i := 0; i < 3; i++ {
		seen[all(h.send("another thought"))] = true
	}
	if len(seen) < 3 {
		t.Fatalf("four reflections got %d different acknowledgments, want variety", len(seen))
	}
}

func TestLongAndEmptyText(t *testing.T) {
	h := started(t)
	id := h.user().ID
	count := func() int {
		n, err := h.store.CountReflections(context.Background(), id, 0)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	tests := []struct {
		name      string
		text      string
		wantReply bool
		wantSaved int
	}{
		{"Empty", "", false, 0},
		{"Whitespace", " \n\t ", false, 0},
		{"Over8000StoredWhole", strings.Repeat("é", 8001), true, 1},
		{"OverLimitRefused", strings.Repeat("a", bot.MaxReflectionRunes+1), true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := count()
			rs := h.send(tt.text)
			if got := len(rs) > 0; got != tt.wantReply {
				t.Fatalf("replied = %v, want %v", got, tt.wantReply)
			}
			if got := count() - before; got != tt.wantSaved {
				t.Fatalf("stored %d reflections, want %d", got, tt.wantSaved)
			}
		})
	}
	list, _, _ := h.store.Reflections(context.Background(), id, 1, 0)
	if got := len([]rune(list[0].Text)); got != 8001 {
		t.Fatalf("long reflection stored with %d runes, want 8001 (never truncated)", got)
	}
	mustContain(t, h.send(strings.Repeat("a", bot.MaxReflectionRunes+1)), "two or more parts")
}

func TestJournal(t *testing.T) {
	h := started(t)
	mustContain(t, h.send("/journal"), "journal is empty")
	for i := 0; i < 12; i++ {
		h.clock.Advance(time.Hour)
		h.send("entry " + string(rune('A'+i)))
		if i == 5 {
			h.send("/next")
		}
	}
	rs := h.send("/journal")
	if !rs[0].Personal {
		t.Fatal("journal reply is not marked personal")
	}
	got := all(rs)
	mustContain(t, rs, "page 1 of 2", "12 reflections", "Step 2 — "+stepHeading(h, 2), "Step 1 — "+stepHeading(h, 1), "entry L", "entry C")
	if strings.Index(got, "entry L") > strings.Index(got, "entry K") {
		t.Fatalf("journal is not newest first:\n%s", got)
	}
	mustNotContain(t, rs, "entry B")
	// Dates are shown in the person's zone (Europe/Berlin is UTC+1 in winter).
	mustContain(t, rs, "Thu 26 Nov 2026, 10:30")
	as := buttons(rs)
	if len(as) != 1 || as[0] != (bot.Action{Kind: bot.ActJournal, Arg: "2"}) {
		t.Fatalf("journal buttons = %v, want one 'journal:2'", as)
	}
	page2 := h.press(as[0])
	mustContain(t, page2, "page 2 of 2", "entry A", "entry B")
	if len(buttons(page2)) != 0 {
		t.Fatal("last page offers a More button")
	}
	mustContain(t, h.send("/journal 2"), "entry A")
	mustContain(t, h.send("/journal 9"), "pick one from 1 to 2")
	mustContain(t, h.send("/journal x"), "like /journal 2")
}

func TestProgress(t *testing.T) {
	h := started(t)
	h.send("one")
	h.send("/next")
	h.send("two")
	h.clock.Advance(40 * time.Hour) // 22:30 on the 25th to 14:30 on the 27th, Berlin time
	rs := h.send("/progress")
	mustContain(t, rs, "Step 2 of 10", "Day 3 since you began", "Steps done: 1 of 10", "Reflections written: 2", "20:00")
	if !rs[0].Personal {
		t.Fatal("progress is not marked personal")
	}
}

func TestSettings(t *testing.T) {
	h := started(t)
	tests := []struct {
		text  string
		want  string
		check func(u *bot.User) bool
	}{
		{"/time 7pm", "Please use 24-hour time, like /time 19:00", func(u *bot.User) bool { return u.NudgeTime == "20:00" }},
		{"/time 25:00", "24-hour time", func(u *bot.User) bool { return u.NudgeTime == "20:00" }},
		{"/time 7:05", "07:05", func(u *bot.User) bool { return u.NudgeTime == "07:05" }},
		{"/time", "07:05", nil},
		{"/timezone Mars/Olympus", "like /timezone Europe/Berlin", func(u *bot.User) bool { return u.TimeZone == "Europe/Berlin" }},
		{"/timezone america/new_york", "America/New_York", func(u *bot.User) bool { return u.TimeZone == "America/New_York" }},
		{"/timezone ../../etc/passwd", "Area/City", func(u *bot.User) bool { return u.TimeZone == "America/New_York" }},
		{"/pause x", "like /pause 7", func(u *bot.User) bool { return !u.Paused }},
		{"/pause 7", "for 7 days", func(u *bot.User) bool { return u.Paused && u.PausedUntil.Equal(h.clock.Now().AddDate(0, 0, 7)) }},
		{"/resume", "on again", func(u *bot.User) bool { return !u.Paused && u.PausedUntil.IsZero() }},
		{"/pause", "paused", func(u *bot.User) bool { return u.Paused && u.PausedUntil.IsZero() }},
		{"/resume", "on again", func(u *bot.User) bool { return !u.Paused }},
		{"/resume", "Daily prompts are on: the next one comes at 07:05 (America/New_York)", func(u *bot.User) bool { return !u.Paused }},
		{"/timezone", "Your time zone is America/New_York.", nil},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			mustContain(t, h.send(tt.text), tt.want)
			if tt.check != nil && !tt.check(h.user()) {
				t.Fatalf("after %q the stored user is %+v", tt.text, h.user())
			}
		})
	}
}

func TestExport(t *testing.T) {
	h := started(t)
	h.send("first <b>thought</b> & \"quotes\"")
	h.send("/next")
	h.send("second")
	h.send("/pause 7")
	rs := h.send("/export")
	if len(rs) != 1 || rs[0].Doc == nil || !rs[0].Personal {
		t.Fatalf("export = %+v, want one personal reply with a document", rs)
	}
	if rs[0].Doc.MIME != "application/json" || !strings.HasSuffix(rs[0].Doc.Name, ".json") {
		t.Fatalf("document = %s (%s), want a .json file", rs[0].Doc.Name, rs[0].Doc.MIME)
	}
	var x bot.Export
	if err := json.Unmarshal(rs[0].Doc.Data, &x); err != nil {
		t.Fatalf("export is not JSON: %v", err)
	}
	if x.User.PlatformID != alice || x.User.Step != 2 || len(x.Reflections) != 2 ||
		x.Reflections[1].Text != "first <b>thought</b> & \"quotes\"" || x.Reflections[0].Text != "second" {
		t.Fatalf("export = %+v", x)
	}
	// Times are UTC; unset ones are left out.
	want := h.clock.Now().AddDate(0, 0, 7).UTC()
	if pu := x.User.PausedUntil; !x.User.Paused || pu == nil || !pu.Equal(want) || pu.Location() != time.UTC {
		t.Fatalf("export paused %v until %v, want paused until %v (UTC)", x.User.Paused, pu, want)
	}
	if x.User.LastPromptAt != nil || x.User.LastCheckInAt != nil || x.User.PromptsUnanswered != 0 {
		t.Fatalf("export of someone never prompted: last prompt %v, last check-in %v, unanswered %d; want none",
			x.User.LastPromptAt, x.User.LastCheckInAt, x.User.PromptsUnanswered)
	}
}

func TestDelete(t *testing.T) {
	t.Run("Cancel", func(t *testing.T) {
		h := started(t)
		h.send("keep me")
		rs := h.send("/delete")
		as := buttons(rs)
		if len(as) != 2 || as[0].Kind != bot.ActDeleteConfirm || as[1].Kind != bot.ActDeleteCancel {
			t.Fatalf("delete buttons = %v, want [delete keep]", as)
		}
		mustContain(t, h.press(as[1]), "Nothing was deleted")
		mustContain(t, h.send("/journal"), "keep me")
	})
	t.Run("Confirm", func(t *testing.T) {
		h := started(t)
		id := h.user().ID
		h.send("erase me")
		h.send("/delete")
		mustContain(t, h.press(bot.Action{Kind: bot.ActDeleteConfirm}), "erased")
		if _, err := h.store.User(context.Background(), bot.PlatformTelegram, alice); bot.ErrorCode(err) != bot.ENOTFOUND {
			t.Fatalf("user after delete: err = %v, want ENOTFOUND", err)
		}
		if n, err := h.store.CountReflections(context.Background(), id, 0); err != nil || n != 0 {
			t.Fatalf("reflections after delete = %d, %v; want 0", n, err)
		}
		mustContain(t, h.send("/journal"), "don't have anything stored")
		mustContain(t, h.press(bot.Action{Kind: bot.ActDeleteConfirm}), "don't have anything stored")
	})
}

func TestHelpPrivacyAbout(t *testing.T) {
	h := newHarness(t)
	mustContain(t, h.send("/help"), "/step", "/journal", "/export", "/delete", "/privacy")
	mustContain(t, h.send("/privacy"), "What I keep", "/export", "/delete", "never written to logs")
	mustContain(t, h.send("/about"), h.eng.Program.About)
	if _, err := h.store.User(context.Background(), bot.PlatformTelegram, alice); bot.ErrorCode(err) != bot.ENOTFOUND {
		t.Fatalf("help, privacy and about created a user (err=%v); they must not", err)
	}
}

func TestUnknownCommand(t *testing.T) {
	h := started(t)
	mustContain(t, h.send("/dance"), "I don't know /dance", "/help")
}

func TestCrisis(t *testing.T) {
	h := started(t)
	rs := h.send("Some nights I want to end my life.")
	mustContain(t, rs, h.eng.Program.Crisis.Message)
	for _, r := range h.eng.Program.Crisis.Resources {
		mustContain(t, rs, r.Contact)
	}
	mustNotContain(t, rs, "To reflect on", "For today")
	if n, _ := h.store.CountReflections(context.Background(), h.user().ID, 0); n != 1 {
		t.Fatalf("crisis message stored %d times, want 1: the reflection is still kept", n)
	}
	t.Run("NewUserNothingStored", func(t *testing.T) {
		h := newHarness(t)
		mustContain(t, h.send("he hit me again tonight"), h.eng.Program.Crisis.Message)
		if _, err := h.store.User(context.Background(), bot.PlatformTelegram, alice); bot.ErrorCode(err) != bot.ENOTFOUND {
			t.Fatalf("a stranger's crisis message created a user: %v", err)
		}
	})
}

func TestDetectCrisis(t *testing.T) {
	tests := []struct {
		text string
		want bool
	}{
		{"I want to kill myself", true},
		{"Sometimes I think about suicide.", true},
		{"I've been cutting myself again", true},
		{"everyone would be better off without me", true},
		{"He hit me last night", true},
		{"my husband threatened to kill me if I leave", true},
		{"I'm scared for my life", true},
		{"I DON’T WANT TO LIVE anymore", true},
		{"She choked me during the argument", true},
		{"I'm not safe at home", true},
		{"self-harm has been on my mind", true},
		{"he won't let me leave the house", true},
		{"I could kill for a coffee", false},
		{"this job is killing me slowly", false},
		{"I nearly died of embarrassment", false},
		{"I'm dying to know what she thinks", false},
		{"It hit me last night how much I hurt her", false},
		{"our marriage is in danger", false},
		{"he hurt me so much with the lies", false},
		{"she pushed me away for weeks", false},
		{"that joke killed me", false},
		{"I could have died when he found the texts", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := bot.DetectCrisis(tt.text); got != tt.want {
			t.Errorf("DetectCrisis(%q) = %v, want %v", tt.text, got, tt.want)
		}
	}
}

func TestGroup(t *testing.T) {
	h := started(t)
	h.send("private words")
	group := func(text string) []bot.Reply {
		in := h.in(text)
		in.Private, in.ChatID = false, "-100"
		rs, err := h.eng.Handle(context.Background(), in)
		if err != nil {
			t.Fatalf("group %q: %v", text, err)
		}
		return rs
	}
	id := h.user().ID
	before, _ := h.store.CountReflections(context.Background(), id, 0)
	if rs := group("just chatting in the group"); len(rs) != 0 {
		t.Fatalf("plain group text got replies: %s", all(rs))
	}
	if after, _ := h.store.CountReflections(context.Background(), id, 0); after != before {
		t.Fatalf("group text was stored (%d -> %d reflections)", before, after)
	}
	rs := group("/step")
	mustContain(t, rs, "Step 1 of 10", "private chat")
	mustNotContain(t, rs, "private words", "To reflect on")
	for _, r := range rs {
		if r.Personal || len(r.Buttons) > 0 {
			t.Fatalf("group step reply is personal or has buttons: %+v", r)
		}
	}
	mustContain(t, group("/step 4"), "Step 4 of 10")
	mustContain(t, group("/help"), "private chat")
	for _, c := range []string{"/journal", "/progress", "/export", "/delete"} {
		rs := group(c)
		mustContain(t, rs, "just for our private chat")
		mustNotContain(t, rs, "private words")
	}
	if rs := group("/otherbotcommand"); len(rs) != 0 {
		t.Fatalf("unknown command in a group got a reply: %s", all(rs))
	}
}

func TestUnreachableClearedByMessage(t *testing.T) {
	h := started(t)
	u := h.user()
	u.Unreachable = true
	if err := h.store.SaveUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	h.send("/step")
	if h.user().Unreachable {
		t.Fatal("a message from the user did not clear unreachable")
	}
}

func TestMarkUnreachable(t *testing.T) {
	h := started(t)
	if err := h.eng.MarkUnreachable(context.Background(), bot.PlatformTelegram, alice); err != nil {
		t.Fatal(err)
	}
	if !h.user().Unreachable {
		t.Fatal("MarkUnreachable did not mark the user")
	}
	if err := h.eng.MarkUnreachable(context.Background(), bot.PlatformTelegram, "nobody"); err != nil {
		t.Fatalf("MarkUnreachable for an unknown person = %v, want nil", err)
	}
}

// TestReplayedMessageStoredOnce: a platform may deliver one message twice
// (the Telegram inbox replays after a crash); the journal keeps it once.
func TestReplayedMessageStoredOnce(t *testing.T) {
	h := started(t)
	in := h.in("The same words, delivered twice.")
	in.MessageID = "9001"
	for range 2 {
		if _, err := h.eng.Handle(context.Background(), in); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := h.store.CountReflections(context.Background(), h.user().ID, 0); err != nil || n != 1 {
		t.Fatalf("reflections after a replayed message = %d, %v; want 1", n, err)
	}
}
