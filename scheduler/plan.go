package scheduler

import (
	"fmt"
	"time"

	"github.com/trustbot/trustbot/bot"
)

// Planner decides when daily prompts are due: at each person's time in their
// time zone, never twice on one local date, less often while prompts go
// unanswered, and never in quiet hours unless the person chose that moment.
// It implements bot.Scheduler and keeps no state. The zero value keeps quiet
// hours from 22:00 to 08:00.
type Planner struct {
	// QuietStart and QuietEnd ("HH:MM", in each person's own time) bound
	// the quiet hours, which may span midnight; equal values mean none.
	// Empty means the defaults, 22:00 and 08:00.
	QuietStart, QuietEnd string
}

var _ bot.Scheduler = Planner{}

// Back-off: daily while prompts are answered (any message counts); after
// three in a row with no message, every third day twice; then weekly.
const (
	dailyStreak   = 3 // prompts in a row before backing off
	everyThird    = 5 // streak up to which prompts come every third day
	defaultNudge  = 20 * 60
	defaultQuietS = 22 * 60
	defaultQuietE = 8 * 60
)

// NextDue returns when u's next daily prompt is due, at or after now, in
// UTC; the zero time when none is planned (completed, unreachable, paused
// without an end). It is the first occurrence of u.NudgeTime in u.TimeZone
// that is not before now (or before the end of a pause), on a local date
// after that of u.LastNudgeAt: u.Pace days after it normally (one, or two
// for every other day), three or seven days after it in back-off (see
// gap). A back-off prompt whose time falls in quiet hours moves to their
// end.
//
// Local times that do not exist (spring forward) resolve to the first
// valid instant after them; times that occur twice (fall back) to the
// first occurrence, so they fire once.
func (p Planner) NextDue(u *bot.User, now time.Time) time.Time {
	return p.plan(u, now, date{})
}

// plan is NextDue with a floor: no date before min (when set).
func (p Planner) plan(u *bot.User, now time.Time, min date) time.Time {
	if u.Completed || u.Unreachable {
		return time.Time{}
	}
	after := now
	if u.Paused {
		if u.PausedUntil.IsZero() {
			return time.Time{}
		}
		if u.PausedUntil.After(after) {
			after = u.PausedUntil
		}
	}
	loc := bot.Zone(u.TimeZone)
	clock, ok := parseClock(u.NudgeTime)
	if !ok {
		clock = defaultNudge
	}
	g := gap(u)
	day := dateOf(after, loc)
	if !u.LastNudgeAt.IsZero() {
		if d := dateOf(u.LastNudgeAt, loc).add(g); day.before(d) {
			day = d
		}
	}
	if day.before(min) {
		day = min
	}
	var t time.Time
	for range 4 { // twice at most, but for odd zone histories
		t = at(day, clock, loc)
		if g > max(u.Pace, 1) { // a back-off, not the moment they chose: keep out of quiet hours
			t = p.outOfQuiet(t, loc)
		}
		if !t.Before(after) {
			break
		}
		day = day.add(1)
	}
	return t.UTC()
}

// gap returns how many days after the last prompt the next one comes: the
// person's pace (u.Pace, e.g. 2 for every other day), or the back-off if
// that is longer. Only prompts with no message from the person since
// count toward the back-off; NudgeStreak counts them up to LastNudgeAt.
func gap(u *bot.User) int {
	switch {
	case answered(u) || u.NudgeStreak < dailyStreak:
		return max(u.Pace, 1)
	case u.NudgeStreak < everyThird:
		return max(u.Pace, 3)
	}
	return max(u.Pace, 7)
}

// answered reports whether the person wrote since their last prompt (or
// never had one).
func answered(u *bot.User) bool {
	return u.LastNudgeAt.IsZero() || u.LastSeenAt.After(u.LastNudgeAt)
}

// Quiet reports whether clock ("HH:MM") falls within quiet hours. An
// invalid clock is not quiet.
func (p Planner) Quiet(clock string) bool {
	m, ok := parseClock(clock)
	return ok && p.inQuiet(m)
}

// quietAt reports whether t falls within quiet hours in loc.
func (p Planner) quietAt(t time.Time, loc *time.Location) bool {
	lt := t.In(loc)
	return p.inQuiet(lt.Hour()*60 + lt.Minute())
}

func (p Planner) inQuiet(m int) bool {
	start, end := p.window()
	switch {
	case start == end:
		return false
	case start < end:
		return start <= m && m < end
	}
	return m >= start || m < end
}

// window returns the quiet hours as minutes of the day.
func (p Planner) window() (start, end int) {
	start, end = defaultQuietS, defaultQuietE
	if m, ok := parseClock(p.QuietStart); ok {
		start = m
	}
	if m, ok := parseClock(p.QuietEnd); ok {
		end = m
	}
	return start, end
}

// outOfQuiet returns t, or the end of the quiet hours t falls in.
func (p Planner) outOfQuiet(t time.Time, loc *time.Location) time.Time {
	lt := t.In(loc)
	m := lt.Hour()*60 + lt.Minute()
	if !p.inQuiet(m) {
		return t
	}
	_, end := p.window()
	d := dateOf(lt, loc)
	if m >= end { // before midnight: they end tomorrow
		d = d.add(1)
	}
	return at(d, end, loc)
}

// at returns the instant the clocks in loc read the minute of day clock on
// date d. If that happens twice (the clocks go back), the first; if never
// (they jump forward over it), the first instant after it: the moment of
// the jump.
func at(d date, clock int, loc *time.Location) time.Time {
	hh, mm := clock/60, clock%60
	wall := time.Date(d.y, d.m, d.d, hh, mm, 0, 0, time.UTC).Unix()
	// The offsets in effect a day either side cover any change near the
	// target, in every zone (offsets lie within a day of UTC).
	var best time.Time
	for _, probe := range [...]int64{wall - 86400, wall, wall + 86400} {
		_, off := time.Unix(probe, 0).In(loc).Zone()
		t := time.Unix(wall-int64(off), 0).In(loc)
		if t.Hour() == hh && t.Minute() == mm && dateOf(t, loc) == d && (best.IsZero() || t.Before(best)) {
			best = t
		}
	}
	if !best.IsZero() {
		return best
	}
	// Skipped: read with the offset from before the jump, the wall time
	// lands after it, in the period that the jump starts.
	_, off := time.Unix(wall-86400, 0).In(loc).Zone()
	t := time.Unix(wall-int64(off), 0).In(loc)
	if start, _ := t.ZoneBounds(); !start.IsZero() && !start.After(t) {
		return start
	}
	return t
}

// date is a calendar date, without a zone.
type date struct {
	y int
	m time.Month
	d int
}

func dateOf(t time.Time, loc *time.Location) date {
	y, m, d := t.In(loc).Date()
	return date{y, m, d}
}

func (d date) add(days int) date {
	return dateOf(time.Date(d.y, d.m, d.d+days, 12, 0, 0, 0, time.UTC), time.UTC)
}

func (d date) before(o date) bool {
	if d.y != o.y {
		return d.y < o.y
	}
	if d.m != o.m {
		return d.m < o.m
	}
	return d.d < o.d
}

// String returns the date as "2006-01-02", the form of bot.Nudge.Date.
func (d date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.y, d.m, d.d) }

// parseClock parses "HH:MM" (or "H:MM") into minutes of the day.
func parseClock(s string) (int, bool) {
	if len(s) == 4 {
		s = "0" + s
	}
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	for _, i := range []int{0, 1, 3, 4} {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	h := int(s[0]-'0')*10 + int(s[1]-'0')
	m := int(s[3]-'0')*10 + int(s[4]-'0')
	if h > 23 || m > 59 {
		return 0, false
	}
	return h*60 + m, true
}
