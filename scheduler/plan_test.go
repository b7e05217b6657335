package scheduler

import (
	"testing"
	"time"
	_ "time/tzdata" // the zones below, also on machines without a zone database

	"github.com/trustbot/trustbot/bot"
)

func utc(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04", s)
	if err != nil {
		panic(err)
	}
	return t
}

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// TestAt covers the daylight saving changes of 2026 (checked against the
// zone database's transitions) and a 45-minute zone.
func TestAt(t *testing.T) {
	for _, tt := range []struct {
		name, zone string
		day        date
		clock      string
		want       string // UTC
	}{
		{"NewYork/winter", "America/New_York", date{2026, 3, 7}, "20:00", "2026-03-08 01:00"},
		{"NewYork/summer", "America/New_York", date{2026, 3, 9}, "20:00", "2026-03-10 00:00"},
		{"NewYork/spring gap fires at 03:00", "America/New_York", date{2026, 3, 8}, "02:30", "2026-03-08 07:00"},
		{"NewYork/spring gap start", "America/New_York", date{2026, 3, 8}, "02:00", "2026-03-08 07:00"},
		{"NewYork/just before the gap", "America/New_York", date{2026, 3, 8}, "01:59", "2026-03-08 06:59"},
		{"NewYork/first 03:00", "America/New_York", date{2026, 3, 8}, "03:00", "2026-03-08 07:00"},
		{"NewYork/fall overlap fires once, first", "America/New_York", date{2026, 11, 1}, "01:30", "2026-11-01 05:30"},
		{"NewYork/after the overlap", "America/New_York", date{2026, 11, 1}, "02:00", "2026-11-01 07:00"},
		{"Berlin/spring gap", "Europe/Berlin", date{2026, 3, 29}, "02:30", "2026-03-29 01:00"},
		{"Berlin/fall overlap", "Europe/Berlin", date{2026, 10, 25}, "02:30", "2026-10-25 00:30"},
		{"Berlin/evening of the change", "Europe/Berlin", date{2026, 10, 25}, "20:00", "2026-10-25 19:00"},
		{"LordHowe/30-minute overlap", "Australia/Lord_Howe", date{2026, 4, 5}, "01:45", "2026-04-04 14:45"},
		{"LordHowe/after the overlap", "Australia/Lord_Howe", date{2026, 4, 5}, "02:00", "2026-04-04 15:30"},
		{"LordHowe/30-minute gap", "Australia/Lord_Howe", date{2026, 10, 4}, "02:15", "2026-10-03 15:30"},
		{"LordHowe/end of the gap", "Australia/Lord_Howe", date{2026, 10, 4}, "02:30", "2026-10-03 15:30"},
		{"LordHowe/winter", "Australia/Lord_Howe", date{2026, 6, 1}, "20:00", "2026-06-01 09:30"},
		{"Kathmandu/+05:45", "Asia/Kathmandu", date{2026, 6, 1}, "20:00", "2026-06-01 14:15"},
		{"Kathmandu/midnight", "Asia/Kathmandu", date{2026, 6, 1}, "00:00", "2026-05-31 18:15"},
		{"UTC", "UTC", date{2026, 2, 28}, "23:59", "2026-02-28 23:59"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			clock, ok := parseClock(tt.clock)
			if !ok {
				t.Fatalf("parseClock(%q) failed", tt.clock)
			}
			got := at(tt.day, clock, mustZone(t, tt.zone)).UTC()
			if want := utc(tt.want); !got.Equal(want) {
				t.Errorf("at(%v, %s) in %s = %s, want %s", tt.day, tt.clock, tt.zone, got.Format(time.DateTime), want.Format(time.DateTime))
			}
		})
	}
}

// TestAt_everyMinuteOfChangeDays checks, for every minute of each change
// day, that at returns an instant showing that minute, or (in a gap) the
// first instant after it, and that consecutive minutes never go backwards.
func TestAt_everyMinuteOfChangeDays(t *testing.T) {
	for _, tt := range []struct {
		zone string
		days []date
	}{
		{"America/New_York", []date{{2026, 3, 8}, {2026, 11, 1}}},
		{"Europe/Berlin", []date{{2026, 3, 29}, {2026, 10, 25}}},
		{"Australia/Lord_Howe", []date{{2026, 4, 5}, {2026, 10, 4}}},
		{"Asia/Kathmandu", []date{{2026, 6, 1}}},
	} {
		loc := mustZone(t, tt.zone)
		for _, d := range tt.days {
			var prev time.Time
			for m := range 24 * 60 {
				got := at(d, m, loc)
				lt := got.In(loc)
				shows := dateOf(lt, loc) == d && lt.Hour()*60+lt.Minute() == m
				if !shows {
					// In a gap: the wall clock must already be past m, and
					// one second earlier it must have been before m.
					before := got.Add(-time.Second).In(loc)
					if lt.Hour()*60+lt.Minute() <= m || before.Hour()*60+before.Minute() >= m {
						t.Fatalf("%s %v minute %d: got %s, neither that time nor the first instant after it", tt.zone, d, m, lt)
					}
				}
				if got.Before(prev) {
					t.Fatalf("%s %v minute %d: got %s, before minute %d's %s", tt.zone, d, m, got, m-1, prev)
				}
				prev = got
			}
		}
	}
}

func TestNextDue(t *testing.T) {
	berlin := "Europe/Berlin"
	base := func(mod func(u *bot.User)) *bot.User {
		u := &bot.User{NudgeTime: "20:00", TimeZone: berlin, LastSeenAt: utc("2026-06-01 08:00")}
		if mod != nil {
			mod(u)
		}
		return u
	}
	p := Planner{}
	for _, tt := range []struct {
		name string
		u    *bot.User
		now  string
		want string // UTC, "" for none
	}{
		{"today, before the time", base(nil), "2026-06-01 10:00", "2026-06-01 18:00"},
		{"exactly at the time", base(nil), "2026-06-01 18:00", "2026-06-01 18:00"},
		{"after the time: tomorrow", base(nil), "2026-06-01 18:01", "2026-06-02 18:00"},
		{"not twice on a day", base(func(u *bot.User) {
			u.NudgeTime = "21:00"
			u.LastNudgeAt = utc("2026-06-01 18:00")
		}), "2026-06-01 18:30", "2026-06-02 19:00"},
		{"an earlier time after today's prompt: tomorrow", base(func(u *bot.User) {
			u.NudgeTime = "07:00"
			u.LastNudgeAt = utc("2026-06-01 18:00")
		}), "2026-06-01 18:30", "2026-06-02 05:00"},
		{"completed", base(func(u *bot.User) { u.Completed = true }), "2026-06-01 10:00", ""},
		{"unreachable", base(func(u *bot.User) { u.Unreachable = true }), "2026-06-01 10:00", ""},
		{"paused", base(func(u *bot.User) { u.Paused = true }), "2026-06-01 10:00", ""},
		{"paused for 7 days", base(func(u *bot.User) {
			u.Paused, u.PausedUntil = true, utc("2026-06-08 10:00")
		}), "2026-06-01 10:00", "2026-06-08 18:00"},
		{"paused until after the time", base(func(u *bot.User) {
			u.Paused, u.PausedUntil = true, utc("2026-06-08 19:00")
		}), "2026-06-01 10:00", "2026-06-09 18:00"},
		{"a pause that ran out", base(func(u *bot.User) {
			u.Paused, u.PausedUntil = true, utc("2026-05-30 10:00")
		}), "2026-06-01 10:00", "2026-06-01 18:00"},
		{"two unanswered: still daily", base(func(u *bot.User) {
			u.LastNudgeAt, u.NudgeStreak = utc("2026-06-01 18:00"), 2
		}), "2026-06-01 18:00", "2026-06-02 18:00"},
		{"three unanswered: every third day", base(func(u *bot.User) {
			u.LastNudgeAt, u.NudgeStreak = utc("2026-06-01 18:00"), 3
		}), "2026-06-01 18:00", "2026-06-04 18:00"},
		{"five unanswered: weekly", base(func(u *bot.User) {
			u.LastNudgeAt, u.NudgeStreak = utc("2026-06-01 18:00"), 5
		}), "2026-06-01 18:00", "2026-06-08 18:00"},
		{"a message ends the back-off", base(func(u *bot.User) {
			u.LastNudgeAt, u.NudgeStreak = utc("2026-06-01 18:00"), 9
			u.LastSeenAt = utc("2026-06-02 07:00")
		}), "2026-06-02 07:00", "2026-06-02 18:00"},
		{"back-off keeps out of quiet hours", base(func(u *bot.User) {
			u.NudgeTime = "23:00"
			u.LastNudgeAt, u.NudgeStreak = utc("2026-06-01 21:00"), 3
		}), "2026-06-01 21:00", "2026-06-05 06:00"}, // 08:00 Berlin the next morning
		{"a chosen time in quiet hours is kept", base(func(u *bot.User) { u.NudgeTime = "23:30" }), "2026-06-01 10:00", "2026-06-01 21:30"},
		{"Kathmandu", base(func(u *bot.User) { u.TimeZone = "Asia/Kathmandu" }), "2026-06-01 10:00", "2026-06-01 14:15"},
		{"unknown zone is UTC", base(func(u *bot.User) { u.TimeZone = "Mars/Olympus" }), "2026-06-01 10:00", "2026-06-01 20:00"},
		{"bad time is 20:00", base(func(u *bot.User) { u.NudgeTime = "" }), "2026-06-01 10:00", "2026-06-01 18:00"},
		{"NewYork: the day after a nudge, across spring forward", base(func(u *bot.User) {
			u.TimeZone, u.NudgeTime = "America/New_York", "02:30"
			u.LastNudgeAt = utc("2026-03-07 07:30")
		}), "2026-03-07 08:00", "2026-03-08 07:00"},
		{"NewYork: and the day after that", base(func(u *bot.User) {
			u.TimeZone, u.NudgeTime = "America/New_York", "02:30"
			u.LastNudgeAt = utc("2026-03-08 07:00")
		}), "2026-03-08 07:00", "2026-03-09 06:30"},
		{"NewYork: the repeated hour once", base(func(u *bot.User) {
			u.TimeZone, u.NudgeTime = "America/New_York", "01:30"
			u.LastNudgeAt = utc("2026-11-01 05:30")
		}), "2026-11-01 05:30", "2026-11-02 06:30"},
		{"LordHowe: into summer time", base(func(u *bot.User) {
			u.TimeZone, u.NudgeTime = "Australia/Lord_Howe", "02:15"
			u.LastNudgeAt = utc("2026-10-02 15:45")
		}), "2026-10-02 16:00", "2026-10-03 15:30"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := p.NextDue(tt.u, utc(tt.now))
			if tt.want == "" {
				if !got.IsZero() {
					t.Fatalf("got %s, want none", got)
				}
				return
			}
			if want := utc(tt.want); !got.Equal(want) || got.Location() != time.UTC {
				t.Fatalf("got %s, want %s (UTC)", got, want.Format(time.DateTime))
			}
		})
	}
}

func TestQuiet(t *testing.T) {
	for _, tt := range []struct {
		name       string
		start, end string
		clock      string
		want       bool
	}{
		{"default late", "", "", "23:00", true},
		{"default start", "", "", "22:00", true},
		{"default just before", "", "", "21:59", false},
		{"default early", "", "", "07:59", true},
		{"default end", "", "", "08:00", false},
		{"same-day window", "13:00", "15:00", "14:00", true},
		{"same-day window, outside", "13:00", "15:00", "16:00", false},
		{"off", "00:00", "00:00", "03:00", false},
		{"short form", "9:00", "17:00", "10:00", true},
		{"bad clock", "", "", "3am", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := (Planner{QuietStart: tt.start, QuietEnd: tt.end}).Quiet(tt.clock); got != tt.want {
				t.Errorf("Quiet(%q) with %q-%q = %v, want %v", tt.clock, tt.start, tt.end, got, tt.want)
			}
		})
	}
}
