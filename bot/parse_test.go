package bot_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/trustbot/trustbot/bot"
)

func TestParseCommand(t *testing.T) {
	tests := []struct {
		in   string
		ok   bool
		want bot.Command
	}{
		{"/start", true, bot.Command{Name: "start"}},
		{"  /STEP 3 ", true, bot.Command{Name: "step", Args: "3"}},
		{"/step@trustbot 2", true, bot.Command{Name: "step", Mention: "trustbot", Args: "2"}},
		{"/time  19:00", true, bot.Command{Name: "time", Args: "19:00"}},
		{"/journal\n2", true, bot.Command{Name: "journal", Args: "2"}},
		{"/time_zone x", true, bot.Command{Name: "time_zone", Args: "x"}},
		{"/", false, bot.Command{}},
		{"/ step", false, bot.Command{}},
		{"step", false, bot.Command{}},
		{"/étape", false, bot.Command{}},
		{"/@bot", false, bot.Command{}},
		{"I said /start yesterday", false, bot.Command{}},
		{"/" + strings.Repeat("a", 33), false, bot.Command{}},
	}
	for _, tt := range tests {
		got, ok := bot.ParseCommand(tt.in)
		if ok != tt.ok || got != tt.want {
			t.Errorf("ParseCommand(%q) = %+v, %v; want %+v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestParseAction(t *testing.T) {
	valid := []bot.Action{
		{Kind: bot.ActReflect}, {Kind: bot.ActNext}, {Kind: bot.ActStep}, {Kind: bot.ActRole},
		{Kind: bot.ActRole, Arg: "hurt"}, {Kind: bot.ActRole, Arg: "repairing"}, {Kind: bot.ActRole, Arg: "together"},
		{Kind: bot.ActJournal, Arg: "12"}, {Kind: bot.ActDeleteConfirm}, {Kind: bot.ActDeleteCancel},
		{Kind: bot.ActPause}, {Kind: bot.ActRestart},
	}
	for _, a := range valid {
		got, ok := bot.ParseAction(a.String())
		if !ok || got != a {
			t.Errorf("ParseAction(%q) = %+v, %v; want %+v", a.String(), got, ok, a)
		}
		if len(a.String()) > 64 {
			t.Errorf("action %q is longer than Telegram's 64-byte callback data", a.String())
		}
	}
	for _, s := range []string{"", "next:1", "role:boss", "journal:0", "journal:01", "journal:x", "fly", strings.Repeat("x", 100)} {
		if a, ok := bot.ParseAction(s); ok {
			t.Errorf("ParseAction(%q) = %+v, true; want false", s, a)
		}
	}
}

func TestParseClock(t *testing.T) {
	tests := []struct{ in, want string }{
		{"19:00", "19:00"}, {"7:05", "07:05"}, {" 00:00 ", "00:00"}, {"23:59", "23:59"},
		{"7pm", ""}, {"24:00", ""}, {"12:60", ""}, {"1900", ""}, {"12:5", ""}, {"-1:00", ""}, {"", ""}, {"１２:００", ""},
	}
	for _, tt := range tests {
		got, err := bot.ParseClock(tt.in)
		if got != tt.want || (err == nil) != (tt.want != "") {
			t.Errorf("ParseClock(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
		if err != nil && bot.ErrorCode(err) != bot.EINVALID {
			t.Errorf("ParseClock(%q) error code = %s, want invalid", tt.in, bot.ErrorCode(err))
		}
	}
}

func TestParseTimeZone(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Europe/Berlin", "Europe/Berlin"}, {"europe/berlin", "Europe/Berlin"}, {"UTC", "UTC"}, {"utc", "UTC"},
		{"Asia/Kathmandu", "Asia/Kathmandu"}, {"america/new_york", "America/New_York"},
		{"Local", ""}, {"", ""}, {"Mars/Base", ""}, {"../etc/passwd", ""}, {"/etc/localtime", ""}, {"Europe/ Berlin", ""},
	}
	for _, tt := range tests {
		got, loc, err := bot.ParseTimeZone(tt.in)
		if got != tt.want || (err == nil) != (tt.want != "") || (err == nil && loc == nil) {
			t.Errorf("ParseTimeZone(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{"/start", "/step@bot 3", "/journal\n2", "/", "hello", "/ä", "/time 19:00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, ok := bot.ParseCommand(s)
		if !ok {
			return
		}
		if c.Name == "" || c.Name != strings.ToLower(c.Name) || len(c.Name) > 32 {
			t.Fatalf("ParseCommand(%q) gave a bad name %q", s, c.Name)
		}
		if c.Args != strings.TrimSpace(c.Args) {
			t.Fatalf("ParseCommand(%q) args %q not trimmed", s, c.Args)
		}
		if utf8.ValidString(s) && !utf8.ValidString(c.Args) {
			t.Fatalf("ParseCommand(%q) split a rune: args %q", s, c.Args)
		}
	})
}

func FuzzParseAction(f *testing.F) {
	for _, s := range []string{"next", "role:hurt", "journal:2", "journal:", ":", "delete"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, ok := bot.ParseAction(s)
		if ok && a.String() != s {
			t.Fatalf("ParseAction(%q) = %+v, which encodes back as %q", s, a, a.String())
		}
	})
}

func FuzzParseClock(f *testing.F) {
	for _, s := range []string{"19:00", "7pm", "7:05", "24:00", "", "99:99"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := bot.ParseClock(s)
		if err != nil {
			return
		}
		again, err := bot.ParseClock(got)
		if err != nil || again != got || len(got) != 5 {
			t.Fatalf("ParseClock(%q) = %q, which does not parse back to itself (%q, %v)", s, got, again, err)
		}
	})
}

func FuzzParseTimeZone(f *testing.F) {
	for _, s := range []string{"Europe/Berlin", "utc", "Local", "../x", "America/New_York"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		name, loc, err := bot.ParseTimeZone(s)
		if err != nil {
			return
		}
		if loc == nil || name != loc.String() || name == "Local" {
			t.Fatalf("ParseTimeZone(%q) = %q, %v", s, name, loc)
		}
	})
}
