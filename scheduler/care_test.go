package scheduler_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trustbot/trustbot/bot"
)

// days sweeps at start and at the same time on each of the n-1 days after,
// and returns what person id got each day: "P" a prompt, "?" a check-in,
// "." nothing. With answer, they write back after each prompt (which keeps
// the back-off away).
func (h *harness) days(t *testing.T, id string, start time.Time, n int, answer bool) []string {
	t.Helper()
	var got []string
	for d := range n {
		before := h.rec.count(id)
		h.clock.Set(start.AddDate(0, 0, d))
		h.sweep()
		switch {
		case h.rec.count(id) == before:
			got = append(got, ".")
		case strings.Contains(h.rec.last(t, id).Text.String(), "How are things today?"):
			got = append(got, "?")
		default:
			got = append(got, "P")
		}
		if answer && h.rec.count(id) > before {
			h.clock.Set(start.AddDate(0, 0, d).Add(time.Hour))
			h.say(id, "A few lines.")
		}
	}
	return got
}

// A gentler pace: a prompt every other day at the time they chose, and
// back to daily when they ask; check-ins every few days at either pace.
func TestSweep_pace(t *testing.T) {
	for _, tt := range []struct {
		name     string
		commands []string
		want     string
	}{
		{"Daily", nil, "PPPP?PPP?PPP"},
		{"EveryOtherDay", []string{"/pace alternate"}, "P.P.?.P.?.P."},
		{"BackToDaily", []string{"/pace alternate", "/pace daily"}, "PPPP?PPP?PPP"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, "2026-06-01 10:00")
			h.join("1", tt.commands...)
			got := strings.Join(h.days(t, "1", utc("2026-06-01 18:00"), 12, true), "")
			if got != tt.want {
				t.Fatalf("12 days: got %s, want %s (P prompt, ? check-in, . nothing)", got, tt.want)
			}
		})
	}
}

// Unanswered, the back-off spaces prompts further than the pace; a pace
// day is the moment they chose, so even in quiet hours it is kept, while a
// back-off prompt waits for the end of the quiet hours.
func TestSweep_paceAndQuietHours(t *testing.T) {
	h := newHarness(t, "2026-06-01 10:00")
	h.join("1", "/time 23:00", "/pace alternate") // 21:00 UTC, in quiet hours
	h.sweepAt("2026-06-01 21:00")
	h.wantCount("1", 1, "at 23:00 Berlin")
	h.wantNext("1", "2026-06-03 21:00") // the chosen time, two days on
	h.sweepAt("2026-06-03 21:00")
	h.sweepAt("2026-06-05 21:00")
	h.wantCount("1", 3, "three unanswered prompts, every other day")
	// Three in a row unanswered: every third day, out of quiet hours
	// (08:00 Berlin is 06:00 UTC).
	h.wantNext("1", "2026-06-09 06:00")
}

// Check-ins: the mood buttons of a real daily prompt record the answer for
// the local day, "harder" offers every other day, and the next plan
// follows it.
func TestSweep_checkIns(t *testing.T) {
	h := newHarness(t, "2026-06-01 10:00")
	h.join("1")
	got := strings.Join(h.days(t, "1", utc("2026-06-01 18:00"), 5, true), "")
	if got != "PPPP?" {
		t.Fatalf("five days: got %s, want PPPP?", got)
	}
	checkIn := h.rec.last(t, "1")
	var moods []bot.Action
	for _, row := range checkIn.Buttons {
		for _, b := range row {
			moods = append(moods, b.Action)
		}
	}
	if len(moods) != 4 || moods[2] != (bot.Action{Kind: bot.ActMood, Arg: "harder"}) {
		t.Fatalf("check-in buttons = %v, want the four moods", moods)
	}
	if got := h.user("1").CheckInAt; !got.Equal(utc("2026-06-05 18:00")) {
		t.Fatalf("CheckInAt = %v, want the check-in's due time", got)
	}
	press := func(a bot.Action) []bot.Reply {
		rs, err := h.eng.Handle(context.Background(), bot.Incoming{Platform: bot.PlatformTelegram, UserID: "1", ChatID: "c1", Private: true, Action: &a})
		if err != nil {
			t.Fatal(err)
		}
		return rs
	}
	h.at("2026-06-05 19:30") // 21:30 in Berlin
	rs := press(moods[2])
	mustContain(t, rs, "every other day")
	var pace bot.Action
	for _, row := range rs[0].Buttons {
		for _, b := range row {
			if b.Action.Kind == bot.ActPace && b.Action.Arg == "2" {
				pace = b.Action
			}
		}
	}
	if pace.Kind == "" {
		t.Fatalf("harder: no button for every other day in %v", rs[0].Buttons)
	}
	press(pace)
	h.wantNext("1", "2026-06-07 18:00")
	moodsStored, err := h.store.Moods(context.Background(), h.user("1").ID, "2026-06-01")
	if err != nil || !slices.Equal(moodsStored, []bot.MoodEntry{{Date: "2026-06-05", Mood: bot.MoodHarder}}) {
		t.Fatalf("stored moods = %v, %v; want harder on 2026-06-05", moodsStored, err)
	}
	// A transient failure on a check-in day retries the check-in.
	h2 := newHarness(t, "2026-06-01 10:00")
	h2.join("1")
	h2.days(t, "1", utc("2026-06-01 18:00"), 4, true)
	h2.rec.setFail(func(bot.Address) error { return bot.Errorf(bot.ETRANSIENT, "telegram: 502") })
	h2.sweepAt("2026-06-05 18:00")
	h2.rec.setFail(nil)
	h2.sweepAt("2026-06-05 18:10")
	h2.wantCount("1", 5, "after the retry")
	if got := h2.rec.last(t, "1").Text.String(); !strings.Contains(got, "How are things today?") {
		t.Fatalf("the retried prompt is %q, want the check-in again", got)
	}
	if fmt.Sprint(h2.user("1").CheckInAt) != fmt.Sprint(utc("2026-06-05 18:00")) {
		t.Fatalf("CheckInAt after the retry = %v", h2.user("1").CheckInAt)
	}
}
