package scheduler_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/trustbot/trustbot/bot"
	"github.com/trustbot/trustbot/scheduler"
)

// Skipped days are counted (Stats.Skipped) and recorded, so that the
// operator's stats show them; a skipped day does not stop a prompt the
// person then asks for the same day.
func TestSweep_skippedDaysAreRecorded(t *testing.T) {
	tests := []struct {
		name  string
		setup func(h *harness)
		at    string
		want  int // skipped
	}{
		{"Downtime", func(h *harness) {}, "2026-06-03 10:00", 3},
		{"QuietHours", func(h *harness) {}, "2026-06-01 20:30", 3}, // 22:30 Berlin
		{"NoSender", func(h *harness) { delete(h.sched.Senders, bot.PlatformTelegram) }, "2026-06-01 18:00", 3},
		{"OnTime", func(h *harness) {}, "2026-06-01 18:00", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, "2026-06-01 10:00")
			for i := range 3 {
				h.join(strconv.Itoa(i))
			}
			tt.setup(h)
			st := h.sweepAt(tt.at)
			if st.Skipped != tt.want {
				t.Fatalf("Stats.Skipped = %d, want %d (%+v)", st.Skipped, tt.want, st)
			}
			stats, err := h.store.Stats(context.Background(), h.clock.Now(), bot.StatsDays)
			if err != nil {
				t.Fatal(err)
			}
			if got := stats.Days[len(stats.Days)-1].Nudges[bot.NudgeSkipped]; got != tt.want {
				t.Fatalf("skipped in the operator's stats today: %d, want %d", got, tt.want)
			}
			if again := h.sweep(); again.Skipped != 0 {
				t.Fatalf("the next sweep skipped %d more, want 0", again.Skipped)
			}
		})
	}

	t.Run("ThenChosenTimeTheSameDay", func(t *testing.T) {
		h := newHarness(t, "2026-06-01 10:00")
		h.join("1")
		h.sweepAt("2026-06-01 20:30") // 22:30 Berlin: skipped
		h.wantCount("1", 0, "back at 22:30")
		h.say("1", "/time 23:30") // chosen, so honoured in quiet hours
		h.sweepAt("2026-06-01 21:30")
		h.wantCount("1", 1, "at the chosen 23:30")
	})
}

// Run reports every sweep to Observe, with its stats and duration.
func TestRun_observe(t *testing.T) {
	h := newHarness(t, "2026-06-01 10:00")
	h.join("1")
	h.join("2")
	h.at("2026-06-01 18:00")
	type sweep struct {
		st   scheduler.Stats
		took time.Duration
	}
	seen := make(chan sweep, 100)
	h.sched.Tick = "@every 1s"
	h.sched.Observe = func(st scheduler.Stats, took time.Duration) { seen <- sweep{st, took} }
	cancel, wait := runInBackground(t, h, 15*time.Second)
	deadline := time.After(15 * time.Second)
	for {
		select {
		case s := <-seen:
			if s.took <= 0 {
				t.Fatalf("Observe got a duration of %v", s.took)
			}
			if s.st.Claimed == 0 {
				continue
			}
			if s.st.Claimed != 2 || s.st.Sent != 2 {
				t.Fatalf("Observe got %+v, want 2 claimed and 2 sent", s.st)
			}
			cancel()
			if err := wait(); err != nil {
				t.Fatal(err)
			}
			return
		case <-deadline:
			t.Fatal("Observe saw no sweep that sent the two prompts within 15s")
		}
	}
}
