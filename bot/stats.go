package bot

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"time"
)

// Stats are aggregates about everybody, for the operator: how many people
// are where in the program and how the last days went. They hold counts
// only: never any text a person wrote, nor anything about one person.
type Stats struct {
	At time.Time // when they were taken, UTC

	People     int
	ByPlatform map[Platform]int
	// ByStep counts the people who have not completed the program, by the
	// step they are on.
	ByStep map[int]int
	// Everybody is in exactly one of these, in this order of precedence:
	// completed the program; unreachable (the platform cannot deliver to
	// them); paused (daily prompts paused, and the pause has not run out);
	// active.
	Completed, Unreachable, Paused, Active int

	// Days are the last days, oldest first, the last one being today
	// (UTC days).
	Days []DayStats
	// NudgeDays is how many days of daily-prompt outcomes the store keeps
	// per person; the nudge counts of older days are incomplete.
	NudgeDays int
}

// DayStats are one UTC day's counts.
type DayStats struct {
	Date        string // "2006-01-02"
	Reflections int    // written that day
	// Nudges counts the daily prompts claimed that day by their outcome:
	// sent, failed, unreachable, retry (a later try is due), claimed (no
	// outcome recorded: cut off mid-send and never sent again, or being
	// sent right now); and skipped, the days found too late to send.
	Nudges map[NudgeStatus]int
}

// StatsStore computes Stats. storage.Store implements it; the engine uses
// it for /stats when its Store has it.
type StatsStore interface {
	// Stats returns the aggregates as of now, with the last days days
	// (today included).
	Stats(ctx context.Context, now time.Time, days int) (*Stats, error)
}

// StatsDays is how many days /stats and `trustbot stats` show.
const StatsDays = 14

// Reached returns, for each step of a program of steps steps, how many
// people reached it: those on it or on a later step, and those who
// completed the program. It counts where people are now, so someone who
// used /restart counts as having reached only step 1.
func (s *Stats) Reached(steps int) []int {
	reached := make([]int, steps)
	for step, n := range s.ByStep {
		step = min(max(step, 1), steps) // a program that shrank: its last step
		for i := range step {
			reached[i] += n
		}
	}
	for i := range reached {
		reached[i] += s.Completed
	}
	return reached
}

// Report renders s for a program of steps steps, as plain lines with bold
// headings: the same for /stats and `trustbot stats`.
func (s *Stats) Report(steps int) Text {
	var b textBuilder
	b.bold("trustbot stats").plain(" — ", s.At.UTC().Format("2006-01-02 15:04"), " UTC").para()

	b.bold("People: ", strconv.Itoa(s.People))
	var ps []string
	for p := range s.ByPlatform {
		ps = append(ps, string(p))
	}
	sort.Strings(ps)
	for i, p := range ps {
		sep := " — "
		if i > 0 {
			sep = ", "
		}
		b.plain(sep, p, " ", strconv.Itoa(s.ByPlatform[Platform(p)]))
	}
	b.plain(fmt.Sprintf("\nactive %d, paused %d, unreachable %d, completed %d", s.Active, s.Paused, s.Unreachable, s.Completed)).para()

	b.bold("On each step").plain(" (not completed)")
	var on []int
	for step := range s.ByStep {
		on = append(on, step)
	}
	for i := 1; i <= steps; i++ {
		if !slices.Contains(on, i) {
			on = append(on, i)
		}
	}
	sort.Ints(on)
	for _, step := range on {
		b.plain(fmt.Sprintf("\nstep %d: %d", step, s.ByStep[step]))
	}
	b.para()

	b.bold("Reached each step")
	for i, n := range s.Reached(steps) {
		b.plain(fmt.Sprintf("\nstep %d: %d%s", i+1, n, percent(n, s.People)))
	}
	b.plain(fmt.Sprintf("\ncompleted: %d%s", s.Completed, percent(s.Completed, s.People))).para()

	b.bold(fmt.Sprintf("Last %d days", len(s.Days))).plain(" (UTC): reflections written; daily prompts sent, and what else became of them")
	for _, d := range s.Days {
		b.plain(fmt.Sprintf("\n%s: %d %s; prompts: %d sent", d.Date, d.Reflections, plural(d.Reflections, "reflection", "reflections"), d.Nudges[NudgeSent]))
		for _, st := range []NudgeStatus{NudgeFailed, NudgeUnreachable, NudgeRetry, NudgeClaimed, NudgeSkipped} {
			if n := d.Nudges[st]; n > 0 {
				label := string(st)
				if st == NudgeClaimed {
					label = "no outcome"
				}
				b.plain(fmt.Sprintf(", %d %s", n, label))
			}
		}
	}
	if s.NudgeDays > 0 && s.NudgeDays < len(s.Days) {
		b.para().italic(fmt.Sprintf("Daily-prompt outcomes are kept for %d %s, so the prompt counts of earlier days are incomplete.", s.NudgeDays, plural(s.NudgeDays, "day", "days")))
	}
	return b.text()
}

func percent(n, of int) string {
	if of == 0 {
		return ""
	}
	return fmt.Sprintf(" (%d%%)", n*100/of)
}

// isAdmin reports whether the message comes from one of the operator's
// admins, in a private chat.
func (e *Engine) isAdmin(in Incoming) bool {
	return in.Private && in.UserID != "" && slices.Contains(e.Admins[in.Platform], in.UserID)
}

// stats answers /stats for an admin.
func (e *Engine) stats(ctx context.Context) ([]Reply, error) {
	ss, ok := e.Store.(StatsStore)
	if !ok {
		return nil, fmt.Errorf("stats: the store (%T) keeps no stats", e.Store)
	}
	st, err := ss.Stats(ctx, e.now(), StatsDays)
	if err != nil {
		return nil, fmt.Errorf("stats: %w", err)
	}
	return []Reply{{Text: st.Report(len(e.Program.Steps)), Personal: true}}, nil
}
