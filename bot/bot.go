// Package bot is trustbot's domain: the program a person walks through, the
// people walking it, their reflections, and the conversation engine that turns
// an incoming message into replies.
//
// It imports the standard library only. It declares the small interfaces it
// consumes (Store, Sender, Scheduler); storage, the scheduler and the
// platform adapters implement or call them. No chat-platform type, parse
// mode or SQL lives here.
package bot

import (
	"strings"
	"time"
)

// Platform names the messenger a person uses. A person's journey belongs to
// the platform they started it on.
type Platform string

const (
	PlatformConsole  Platform = "console"
	PlatformTelegram Platform = "telegram"
	PlatformDiscord  Platform = "discord"
)

// Role is who the person is in the story. It only changes the wording of
// prompts; everybody walks the same ten steps.
type Role string

const (
	RoleNone      Role = ""          // not chosen (the question is skippable)
	RoleRepairing Role = "repairing" // I broke the trust
	RoleHurt      Role = "hurt"      // my trust was broken
	RoleTogether  Role = "together"  // we both want to rebuild
)

// Roles lists the roles a person can choose, in the order they are offered.
var Roles = []Role{RoleRepairing, RoleHurt, RoleTogether}

// Valid reports whether r is a known role or RoleNone.
func (r Role) Valid() bool {
	switch r {
	case RoleNone, RoleRepairing, RoleHurt, RoleTogether:
		return true
	}
	return false
}

// Program is a guided program: the texts around it and its steps, in order.
// Steps[i].Number == i+1 for a validated program.
type Program struct {
	ID       string
	Title    string
	Language string
	Version  string

	About      string // what the program is based on, with credit
	Welcome    string // the first words someone reads at /start
	NotThis    string // what this is not: not therapy, when to seek help, when not to rebuild
	HowItWorks string // one step at a time, a daily prompt, the commands
	Breaks     string // what breaks trust, and that not all trust can or should be restored
	Completion string // read after the last step

	Crisis Crisis
	Steps  []Step
}

// Step returns step n (1-based) and whether it exists.
func (p *Program) Step(n int) (Step, bool) {
	if n < 1 || n > len(p.Steps) {
		return Step{}, false
	}
	return p.Steps[n-1], true
}

// Crisis is what the bot says when a message sounds like someone is in
// danger: a calm message and where to find help.
type Crisis struct {
	Message string
	// Resources are for people whose country is unknown or not listed:
	// general numbers for several countries and a worldwide directory.
	Resources []Resource
	// Countries are the helplines of single countries, by code. A
	// validated program lists each code once.
	Countries []Country
}

// ForCountry returns the helplines of the country with the ISO 3166-1
// alpha-2 code (upper case), and whether the program lists it.
func (c Crisis) ForCountry(code string) (Country, bool) {
	if code == "" {
		return Country{}, false
	}
	for _, cc := range c.Countries {
		if cc.Code == code {
			return cc, true
		}
	}
	return Country{}, false
}

// Country is one country's emergency number and helplines.
type Country struct {
	Code      string // ISO 3166-1 alpha-2, upper case: "GB", "DE"
	Name      string // "United Kingdom"
	Resources []Resource
}

// Resource is one place to find help, e.g. {"Emergency services", "112 in the EU, 911 in the US"}.
type Resource struct {
	Name    string
	Contact string
	Kind    ResourceKind // optional in the general list; every country has an emergency one
}

// ResourceKind says what a resource is for.
type ResourceKind string

const (
	ResourceOther     ResourceKind = ""          // a directory, a website
	ResourceEmergency ResourceKind = "emergency" // police, ambulance: immediate danger
	ResourceCrisis    ResourceKind = "crisis"    // suicide and emotional crisis lines
	ResourceAbuse     ResourceKind = "abuse"     // domestic abuse and violence lines
)

// ResourceKinds lists the kinds a program file may name.
var ResourceKinds = []ResourceKind{ResourceEmergency, ResourceCrisis, ResourceAbuse}

// Step is one step of a program.
type Step struct {
	Number  int
	Title   string
	Summary string   // one line
	Body    string   // two to four short paragraphs, separated by blank lines
	Action  string   // one small thing to do today
	Prompts []Prompt // at least three, so daily prompts vary
}

// Prompt is a reflection question, optionally worded differently per role.
type Prompt struct {
	Text     string
	Variants map[Role]string
}

// For returns the prompt worded for role r, or the general wording.
func (p Prompt) For(r Role) string {
	if v, ok := p.Variants[r]; ok && strings.TrimSpace(v) != "" {
		return v
	}
	return p.Text
}

// User is a person walking the program on one platform.
type User struct {
	ID         int64 // assigned by the Store
	Platform   Platform
	PlatformID string // the platform's id of the person
	ChatID     string // where to reach them privately
	Name       string

	Role      Role
	Step      int  // the current step, 1-based
	Completed bool // walked all steps; Step stays at the last one
	// PromptIndex is the index of the last prompt shown for Step, so prompts
	// rotate instead of repeating.
	PromptIndex int
	LastPrompt  string // the last prompt shown: what a reflection answers

	NudgeTime   string // "HH:MM", local to TimeZone
	TimeZone    string // IANA name
	Paused      bool
	PausedUntil time.Time // zero: until /resume
	Unreachable bool      // the platform said we cannot reach them; cleared when they write

	// The daily prompt's schedule. The engine plans NextDue (through its
	// Scheduler) and SaveUser stores it; LastNudgeAt and NudgeStreak are
	// written only by the scheduler's claims, so a save never undoes them.
	NextDue     time.Time // when the next daily prompt is due (UTC); zero: none planned
	LastNudgeAt time.Time // the instant the last claimed daily prompt was due
	NudgeStreak int       // daily prompts in a row, up to LastNudgeAt, with no message in between

	// Care settings (see care.go).
	//
	// Discreet keeps notifications neutral and marks every reply Protect.
	Discreet bool
	// Country is an ISO 3166-1 alpha-2 code, upper case, for the helplines
	// of the safety answer; "" when unknown.
	Country string
	// Pace is the fewest days between daily prompts: 0 or 1 daily, 2 every
	// other day. The scheduler's back-off may space them further.
	Pace int
	// Flow is the guided flow in progress, and FlowStep its question
	// (0-based). While one is on, plain text answers it.
	Flow     Flow
	FlowStep int
	// CheckInAt is when the last "How are things today?" daily prompt was
	// due. Like LastNudgeAt it is written only by the scheduler's claims.
	CheckInAt time.Time

	StartedAt  time.Time
	LastSeenAt time.Time
}

// Reflection is one journal entry.
type Reflection struct {
	ID        int64
	UserID    int64
	Step      int
	Prompt    string // the prompt it answers, if any
	Text      string
	CreatedAt time.Time
	// SourceID is the platform message the reflection came from (see
	// Incoming.MessageID), or "". A person has at most one reflection per
	// SourceID.
	SourceID string
}
