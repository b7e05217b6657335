package bot

import (
	"sync"
	"time"
)

// Scheduler plans daily prompts; the scheduler package implements it. The
// engine asks it after every turn, so that a change of /time, /timezone,
// /pause or /resume (and any message, which ends a back-off) plans the next
// prompt at once, and /time can say when it will come.
type Scheduler interface {
	// NextDue returns when u's next daily prompt is due as of now, in UTC,
	// or the zero time when none is planned (paused without an end,
	// completed, unreachable).
	NextDue(u *User, now time.Time) time.Time
	// Quiet reports whether the time of day clock ("HH:MM") falls within
	// the quiet hours, when no prompt is sent unless the person chose it.
	Quiet(clock string) bool
}

// NudgeStatus is how a daily prompt's claim ended.
type NudgeStatus string

const (
	// NudgeClaimed: taken before sending. A claim that stays in this state
	// (a crash or a cut-off mid-send) is never sent again: at most once.
	NudgeClaimed     NudgeStatus = "claimed"
	NudgeSent        NudgeStatus = "sent"
	NudgeRetry       NudgeStatus = "retry" // not delivered; may be claimed again the same local day
	NudgeFailed      NudgeStatus = "failed"
	NudgeUnreachable NudgeStatus = "unreachable" // the platform cannot reach the person
	// NudgeSkipped: no prompt for that day (the bot was down past the day,
	// or the platform is not running); recorded for the stats only. A
	// skipped day may still be claimed later that day.
	NudgeSkipped NudgeStatus = "skipped"
)

// Nudge is one daily prompt for one person and one local date, as the
// scheduler claims it in the store before sending it and then records how
// it went. It also carries plain reschedules (Date == ""), which move
// NextDue without sending anything.
type Nudge struct {
	// User holds the schedule to store: NextDue, and for a claim also
	// LastNudgeAt, NudgeStreak, PromptIndex, LastPrompt and CheckInAt.
	User *User
	// Date is the person's local date ("2006-01-02") the prompt is for.
	// At most one claim per person and date ever succeeds.
	Date string
	// Was is the NextDue the scheduler read. Nothing is changed if the
	// stored value differs (the person changed their settings meanwhile).
	Was time.Time
	// IfTaken is the NextDue to store instead when Date was claimed before.
	IfTaken time.Time
	// Skipped is, for a plain reschedule, the local date whose prompt it
	// skips ("" for none): the store records that day as NudgeSkipped.
	Skipped string

	// Set by the store when claiming: whether this claim won, and which
	// attempt for this date it is (1 for the first).
	Claimed bool
	Attempt int

	// Status is the outcome to record.
	Status NudgeStatus
}

// Nudge renders u's daily prompt: a short opener, the current step's title,
// and the next of its reflection prompts for u's role, with buttons to
// write a reflection, show the step or pause reminders. It moves u to that
// prompt (so a reflection answers it, and two prompts in a row always
// differ); the caller saves u. It returns nil once the program is
// completed: daily prompts stop then.
//
// Every CheckInEvery days instead it asks "How are things today?" and sets
// u.CheckInAt; the question waits for the next prompt. In discreet mode
// the prompt only says that a note is ready (the question shows when they
// open it), and it is marked Protect.
func (e *Engine) Nudge(u *User) []Reply {
	if u.Completed {
		return nil
	}
	st, ok := e.Program.Step(u.Step)
	if !ok || len(st.Prompts) == 0 {
		return nil
	}
	if day := e.nudgeDay(u); e.checkInDue(u, day) {
		u.CheckInAt = day
		r := checkIn()
		r.Protect = u.Discreet
		return []Reply{r}
	}
	prompt := e.NextPrompt(u)
	if u.Discreet {
		return []Reply{discreetNudge()}
	}
	// Openers turn with the local day, so consecutive prompts (daily, every
	// other, third or seventh day) never open alike: 5 divides none of 1,
	// 2, 3, 7.
	y, m, d := e.now().In(e.location(u)).Date()
	day := int(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
	var b textBuilder
	n := len(nudgeOpeners)
	b.plain(nudgeOpeners[(day%n+n)%n]).para().
		bold(e.stepHeading(st)).para().
		italic(prompt).para().
		plain(nudgeClosing(u.Role))
	return []Reply{{Text: b.text(), Personal: true, Buttons: [][]Button{{
		{Label: "Write a reflection", Action: Action{Kind: ActReflect}},
		{Label: "Show the step", Action: Action{Kind: ActStep}},
		{Label: "Pause reminders", Action: Action{Kind: ActPause}},
	}}}}
}

var nudgeOpeners = []string{
	"A gentle prompt for today.",
	"Here's today's question, for a quiet moment.",
	"Checking in, gently.",
	"A small pause for reflection, if you have one.",
	"Something to sit with today.",
}

// zones caches loaded time zones: time.LoadLocation parses the zone data on
// every call, and the scheduler renders a prompt per person.
var zones sync.Map // name -> *time.Location

// Zone returns the named IANA zone, or UTC if it cannot be loaded (the
// engine only stores names it could load). Zones are cached: the scheduler
// looks one up for every person it plans.
func Zone(name string) *time.Location {
	if loc, ok := zones.Load(name); ok {
		return loc.(*time.Location)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return time.UTC
	}
	zones.Store(name, loc)
	return loc
}
