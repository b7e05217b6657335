package bot_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/trustbot/trustbot/bot"
	"github.com/trustbot/trustbot/content"
	"github.com/trustbot/trustbot/scheduler"
)

// planned returns a started harness whose engine plans daily prompts with
// the real planner (quiet hours 22:00-08:00). Its clock starts at 22:30 in
// Berlin, where alice is, on Wednesday 25 November 2026.
func planned(t *testing.T) *harness {
	h := newHarness(t)
	h.eng.Schedule = scheduler.Planner{}
	h.send("/start")
	h.press(bot.Action{Kind: bot.ActRole})
	return h
}

func wantDue(t *testing.T, h *harness, want string) {
	t.Helper()
	got := h.user().NextDue
	if want == "" {
		if !got.IsZero() {
			t.Fatalf("next prompt due %s, want none", got)
		}
		return
	}
	w, err := time.Parse(time.DateTime, want)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Equal(w) {
		t.Fatalf("next prompt due %s, want %s UTC", got, want)
	}
}

func TestSchedule_plannedOnEveryTurn(t *testing.T) {
	h := planned(t)
	wantDue(t, h, "2026-11-26 19:00:00") // 20:00 tomorrow in Berlin

	mustContain(t, h.send("/time 23:15"), "Done. Your daily prompt will come at 23:15", "The next one comes today at 23:15.", "night hours", "since you chose it")
	wantDue(t, h, "2026-11-25 22:15:00")
	mustContain(t, h.send("/time 21:00"), "tomorrow at 21:00")
	mustNotContain(t, h.send("/time 19:00"), "night hours")
	mustContain(t, h.send("/time"), "19:00 (Europe/Berlin)", "The next one comes tomorrow at 19:00.")

	mustContain(t, h.send("/timezone Asia/Kathmandu"), "The next one comes today at 19:00.") // 03:15 there
	wantDue(t, h, "2026-11-26 13:15:00")

	mustContain(t, h.send("/pause"), "paused")
	wantDue(t, h, "")
	mustContain(t, h.send("/time 08:00"), "paused for now", "/resume")
	mustContain(t, h.send("/resume"), "on again", "The next one comes today at 08:00.")
	wantDue(t, h, "2026-11-26 02:15:00")

	mustContain(t, h.send("/pause 2"), "for 2 days")
	wantDue(t, h, "2026-11-28 02:15:00")
	h.clock.Advance(49 * time.Hour)
	h.send("/step")
	if u := h.user(); u.Paused || !u.PausedUntil.IsZero() {
		t.Fatalf("a pause that ran out is still set: paused=%v until %v", u.Paused, u.PausedUntil)
	}
}

func TestSchedule_messageEndsBackOff(t *testing.T) {
	h := planned(t)
	// The sweep claims tomorrow's prompt, the fifth in a row with no
	// message, and plans the next a week later.
	due := time.Date(2026, 11, 26, 19, 0, 0, 0, time.UTC)
	h.clock.Advance(due.Sub(h.clock.Now()))
	u := h.user()
	c := *u
	c.LastNudgeAt, c.NudgeStreak = due, 5
	c.NextDue = (scheduler.Planner{}).NextDue(&c, due)
	n := &bot.Nudge{User: &c, Date: "2026-11-26", Was: u.NextDue}
	if err := h.store.ClaimNudges(context.Background(), due, []*bot.Nudge{n}); err != nil || !n.Claimed {
		t.Fatalf("claim: %v (claimed %v)", err, n.Claimed)
	}
	wantDue(t, h, "2026-12-03 19:00:00")

	// Any message brings daily prompts back.
	h.clock.Advance(15 * time.Hour)
	h.send("Still here.")
	wantDue(t, h, "2026-11-27 19:00:00")
}

func TestSchedule_noScheduler(t *testing.T) {
	h := started(t)
	rs := h.send("/time 19:00")
	mustContain(t, rs, "Done. Your daily prompt will come at 19:00, Europe/Berlin time.")
	mustNotContain(t, rs, "next one")
	if !h.user().NextDue.IsZero() {
		t.Fatal("NextDue set with no scheduler")
	}
}

func TestNudge(t *testing.T) {
	h := planned(t)
	u := h.user()
	program := content.Default()
	var prev string
	for i := range 7 {
		rs := h.eng.Nudge(u)
		if len(rs) != 1 || !rs[0].Personal {
			t.Fatalf("nudge %d: %d replies (personal %v), want one personal reply", i, len(rs), len(rs) > 0 && rs[0].Personal)
		}
		if i == bot.CheckInEvery { // that day asks how things are instead: see TestCheckIn
			mustContain(t, rs, "How are things today?")
			h.clock.Advance(24 * time.Hour)
			continue
		}
		mustContain(t, rs, "Step 1 of 10 — "+program.Steps[0].Title)
		var prompt string
		for _, sp := range rs[0].Text {
			if sp.Style == bot.Italic {
				prompt = sp.Text
			}
		}
		if prompt == "" || prompt == prev || prompt != u.LastPrompt {
			t.Fatalf("nudge %d: prompt %q (previous %q, LastPrompt %q): want a new one, and LastPrompt set to it", i, prompt, prev, u.LastPrompt)
		}
		prev = prompt
		got := buttons(rs)
		want := []bot.ActionKind{bot.ActReflect, bot.ActStep, bot.ActPause}
		if len(got) != len(want) {
			t.Fatalf("buttons %v, want %v", got, want)
		}
		for j := range want {
			if got[j].Kind != want[j] {
				t.Fatalf("buttons %v, want %v", got, want)
			}
		}
		h.clock.Advance(24 * time.Hour)
	}
	u.Completed = true
	if rs := h.eng.Nudge(u); rs != nil {
		t.Fatalf("a nudge after completion: %s", all(rs))
	}
}

// /export holds everything stored about a person, the schedule too.
func TestExport_schedule(t *testing.T) {
	h := planned(t)
	rs := h.send("/export")
	if len(rs) != 1 || rs[0].Doc == nil {
		t.Fatalf("export = %+v, want a document", rs)
	}
	var x bot.Export
	if err := json.Unmarshal(rs[0].Doc.Data, &x); err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 11, 26, 19, 0, 0, 0, time.UTC); x.User.NextPromptAt == nil || !x.User.NextPromptAt.Equal(want) {
		t.Fatalf("next_prompt_at = %v, want %s", x.User.NextPromptAt, want)
	}
}
