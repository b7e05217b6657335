package bot

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Command is a parsed "/name@mention args" message.
type Command struct {
	Name    string // lower case, without the slash
	Mention string // the "@botname" suffix without '@', if any; adapters check it
	Args    string // the rest, trimmed
}

// ParseCommand parses a message that starts with '/'. It returns false for
// anything else, including a lone "/" or "/ step". Command names are letters,
// digits and underscores, as Telegram and Discord allow.
func ParseCommand(text string) (Command, bool) {
	text = strings.TrimSpace(text)
	if !strings.HasPrefix(text, "/") {
		return Command{}, false
	}
	head, args, _ := strings.Cut(text[1:], " ")
	if i := strings.IndexAny(head, "\n\t"); i >= 0 {
		args = head[i+1:] + " " + args
		head = head[:i]
	}
	name, mention, _ := strings.Cut(head, "@")
	if name == "" || len(name) > 32 {
		return Command{}, false
	}
	for _, r := range name {
		if !(r == '_' || r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r))) {
			return Command{}, false
		}
	}
	return Command{Name: strings.ToLower(name), Mention: mention, Args: strings.TrimSpace(args)}, true
}

// CommandInfo describes a command for platform menus (Telegram's
// setMyCommands, Discord's slash commands).
type CommandInfo struct {
	Name        string
	Description string // one line, under 100 characters
	Arg         string // the optional argument's name, "" if none
	ArgHelp     string
}

// Commands lists the commands every platform offers, in menu order.
var Commands = []CommandInfo{
	{Name: "start", Description: "Begin, or pick up where you left off"},
	{Name: "step", Description: "Show the step you are on", Arg: "number", ArgHelp: "Reread an earlier step"},
	{Name: "next", Description: "Mark this step done and go to the next"},
	{Name: "journal", Description: "Read your reflections", Arg: "page", ArgHelp: "Page number"},
	{Name: "progress", Description: "Where you are in the program"},
	{Name: "time", Description: "Set the time of your daily prompt", Arg: "time", ArgHelp: "24-hour time, like 19:00"},
	{Name: "timezone", Description: "Set your time zone", Arg: "zone", ArgHelp: "Area/City, like Europe/Berlin"},
	{Name: "pause", Description: "Pause daily prompts", Arg: "days", ArgHelp: "For how many days (optional)"},
	{Name: "resume", Description: "Resume daily prompts"},
	{Name: "pace", Description: "Daily prompts every day or every other day", Arg: "pace", ArgHelp: "daily or alternate"},
	{Name: "role", Description: "Change which side of the story you are on"},
	{Name: "safetyplan", Description: "Write or read your safety plan"},
	{Name: "country", Description: "Set your country, for the right helplines", Arg: "code", ArgHelp: "Two letters, like GB, US or DE"},
	{Name: "discreet", Description: "Neutral notifications and no forwarding", Arg: "on_off", ArgHelp: "on or off"},
	{Name: "wipe", Description: "Clear our recent messages from this chat"},
	{Name: "export", Description: "Get everything stored about you as a file"},
	{Name: "delete", Description: "Erase everything stored about you"},
	{Name: "restart", Description: "Walk the program again, keeping your journal"},
	{Name: "about", Description: "What this program is based on"},
	{Name: "privacy", Description: "What is stored, and how to export or erase it"},
	{Name: "help", Description: "What I can do"},
}

// ParseClock parses a 24-hour "HH:MM" (or "H:MM") time of day and returns it
// normalised as "HH:MM". Errors are *Error with a message for the person.
func ParseClock(s string) (string, error) {
	s = strings.TrimSpace(s)
	bad := Errorf(EINVALID, "Please use 24-hour time, like /time 19:00.")
	h, m, ok := strings.Cut(s, ":")
	if !ok || len(h) < 1 || len(h) > 2 || len(m) != 2 || !allDigits(h) || !allDigits(m) {
		return "", bad
	}
	hh, _ := strconv.Atoi(h)
	mm, _ := strconv.Atoi(m)
	if hh > 23 || mm > 59 {
		return "", bad
	}
	return fmt.Sprintf("%02d:%02d", hh, mm), nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// ParseTimeZone resolves an IANA zone name such as "Europe/Berlin" (any
// letter case, e.g. "europe/berlin") and returns its canonical name. "UTC"
// is accepted; "Local" and file paths are not.
func ParseTimeZone(s string) (string, *time.Location, error) {
	s = strings.TrimSpace(s)
	bad := Errorf(EINVALID, "I don't know that time zone. Please use an Area/City name, like /timezone Europe/Berlin or /timezone America/New_York.")
	if s == "" || len(s) > 64 || strings.EqualFold(s, "local") || strings.Contains(s, "..") ||
		strings.HasPrefix(s, "/") || strings.ContainsAny(s, "\\ \x00") {
		return "", nil, bad
	}
	for _, name := range []string{s, zoneCase(s)} {
		if loc, err := time.LoadLocation(name); err == nil {
			return loc.String(), loc, nil
		}
	}
	return "", nil, bad
}

// zoneCase capitalises a zone name the way the IANA database does for most
// zones: "america/new_york" -> "America/New_York", "utc" -> "UTC".
func zoneCase(s string) string {
	if strings.EqualFold(s, "utc") {
		return "UTC"
	}
	b := []byte(strings.ToLower(s))
	up := true
	for i, c := range b {
		if up && c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
		up = c == '/' || c == '_' || c == '-'
	}
	return string(b)
}
