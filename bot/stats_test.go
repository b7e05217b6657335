package bot_test

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/trustbot/trustbot/bot"
)

// TestStatsCommand: /stats answers the operator's admins in a private chat
// with aggregates only; to anyone else it is an unknown command.
func TestStatsCommand(t *testing.T) {
	h := started(t)
	h.send("My private words about the betrayal.")
	h.eng.Admins = map[bot.Platform][]string{bot.PlatformTelegram: {alice}, bot.PlatformDiscord: {"2002"}}

	rs := h.send("/stats")
	mustContain(t, rs, "trustbot stats", "People: 1 — telegram 1", "active 1", "step 1: 1 (100%)",
		"2026-11-25: 1 reflection;", "2026-11-12:")
	mustNotContain(t, rs, "My private words", "Alice", "I don't know")
	if len(rs) != 1 || !rs[0].Personal {
		t.Fatalf("got %d replies (personal: %v), want one personal reply", len(rs), len(rs) > 0 && rs[0].Personal)
	}

	unknown := all(h.send("/nosuchcommand"))
	tests := []struct {
		name string
		in   bot.Incoming
	}{
		{"NotAnAdmin", bot.Incoming{Platform: bot.PlatformTelegram, UserID: "999", ChatID: "999", Private: true}},
		{"SameIDOtherPlatform", bot.Incoming{Platform: bot.PlatformDiscord, UserID: alice, ChatID: alice, Private: true}},
		{"Console", bot.Incoming{Platform: bot.PlatformConsole, UserID: alice, ChatID: alice, Private: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.in.Text = "/stats"
			rs, err := h.eng.Handle(context.Background(), tt.in)
			if err != nil {
				t.Fatal(err)
			}
			got := all(rs)
			if want := strings.ReplaceAll(unknown, "nosuchcommand", "stats"); got != want {
				t.Fatalf("/stats from a non-admin = %q, want the ordinary unknown-command hint %q", got, want)
			}
		})
	}
	t.Run("AdminInAGroup", func(t *testing.T) {
		in := h.in("/stats")
		in.Private, in.ChatID = false, "-100"
		rs, err := h.eng.Handle(context.Background(), in)
		if err != nil || len(rs) != 0 {
			t.Fatalf("/stats in a group = %q, %v; want no answer", all(rs), err)
		}
	})
}

func TestStatsReached(t *testing.T) {
	tests := []struct {
		name  string
		st    bot.Stats
		steps int
		want  []int
	}{
		{"Empty", bot.Stats{}, 3, []int{0, 0, 0}},
		{"OnSteps", bot.Stats{ByStep: map[int]int{1: 5, 2: 3, 3: 1}}, 3, []int{9, 4, 1}},
		{"Completed", bot.Stats{ByStep: map[int]int{2: 1}, Completed: 2}, 3, []int{3, 3, 2}},
		{"ProgramShrank", bot.Stats{ByStep: map[int]int{5: 1}}, 3, []int{1, 1, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.st.Reached(tt.steps); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Reached(%d) = %v, want %v", tt.steps, got, tt.want)
			}
		})
	}
}

func TestStatsReport(t *testing.T) {
	st := &bot.Stats{
		At: time.Date(2026, 3, 14, 15, 9, 0, 0, time.UTC), People: 4,
		ByPlatform: map[bot.Platform]int{bot.PlatformTelegram: 3, bot.PlatformDiscord: 1},
		ByStep:     map[int]int{1: 2, 2: 1}, Completed: 1, Active: 2, Paused: 1,
		Days: []bot.DayStats{
			{Date: "2026-03-13", Reflections: 0, Nudges: map[bot.NudgeStatus]int{}},
			{Date: "2026-03-14", Reflections: 5, Nudges: map[bot.NudgeStatus]int{bot.NudgeSent: 3, bot.NudgeFailed: 1, bot.NudgeClaimed: 1}},
		},
		NudgeDays: 1,
	}
	got := st.Report(2).String()
	for _, want := range []string{
		"trustbot stats — 2026-03-14 15:09 UTC",
		"People: 4 — discord 1, telegram 3",
		"active 2, paused 1, unreachable 0, completed 1",
		"step 1: 2\nstep 2: 1",
		"step 1: 4 (100%)\nstep 2: 2 (50%)\ncompleted: 1 (25%)",
		"2026-03-13: 0 reflections; prompts: 0 sent\n",
		"2026-03-14: 5 reflections; prompts: 3 sent, 1 failed, 1 no outcome",
		"kept for 1 day, so",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("report lacks %q:\n%s", want, got)
		}
	}
}
