package bot_test

import (
	"strings"
	"testing"
	"time"

	"github.com/trustbot/trustbot/bot"
)

// TestStatsReportSkipped: skipped days show in the report, after the other
// outcomes, and a store that keeps all the days shown adds no caveat.
func TestStatsReportSkipped(t *testing.T) {
	st := &bot.Stats{
		At: time.Date(2026, 3, 14, 15, 9, 0, 0, time.UTC),
		Days: []bot.DayStats{
			{Date: "2026-03-13", Nudges: map[bot.NudgeStatus]int{bot.NudgeSkipped: 4}},
			{Date: "2026-03-14", Nudges: map[bot.NudgeStatus]int{bot.NudgeSent: 2, bot.NudgeClaimed: 1, bot.NudgeSkipped: 1}},
		},
		NudgeDays: 15,
	}
	got := st.Report(1).String()
	for _, want := range []string{
		"2026-03-13: 0 reflections; prompts: 0 sent, 4 skipped\n",
		"2026-03-14: 0 reflections; prompts: 2 sent, 1 no outcome, 1 skipped",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("report lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "incomplete") {
		t.Errorf("a caveat about incomplete counts, with every day kept:\n%s", got)
	}
}
