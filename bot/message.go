package bot

import (
	"strconv"
	"strings"
)

// Incoming is one message or button press from a person, as an adapter saw it.
type Incoming struct {
	Platform Platform
	UserID   string // the platform's id of the person
	ChatID   string // where the message came from
	Private  bool   // a one-to-one chat with the bot
	Name     string // display name, for greetings only
	Text     string // the text as typed; adapters strip a "@botname" suffix from commands
	// MessageID is the platform's id of the message, unique within the
	// chat, or "" if unknown. A message delivered twice (a replay after a
	// crash) then adds one reflection, not two.
	MessageID string
	Action    *Action
}

// ActionKind says what a button does.
type ActionKind string

const (
	ActReflect       ActionKind = "reflect" // write a reflection: show a prompt
	ActNext          ActionKind = "next"    // done with this step
	ActStep          ActionKind = "step"    // show the current step
	ActRole          ActionKind = "role"    // Arg: a Role, or "" to skip
	ActJournal       ActionKind = "journal" // Arg: page number
	ActDeleteConfirm ActionKind = "delete"  // erase everything
	ActDeleteCancel  ActionKind = "keep"    // cancel /delete
	ActPause         ActionKind = "pause"   // pause reminders
	ActRestart       ActionKind = "restart" // walk the program again

	ActDiscreet   ActionKind = "discreet" // Arg: "on" or "off"
	ActWipe       ActionKind = "wipe"     // clear the chat: confirmed
	ActWipeCancel ActionKind = "nowipe"   // cancel /wipe
	ActDeleteWipe ActionKind = "delwipe"  // clear the chat, then erase everything
	ActMood       ActionKind = "mood"     // Arg: a Mood, the answer to a check-in
	ActPace       ActionKind = "pace"     // Arg: "1" daily or "2" every other day
	ActPlan       ActionKind = "plan"     // Arg: a PlanAction, in the safety plan flow
)

// Action is what a button does when pressed. Its String form is short (well
// under Telegram's 64 bytes of callback data and Discord's 100-character
// custom IDs) and round-trips through ParseAction.
type Action struct {
	Kind ActionKind
	Arg  string
}

// String encodes the action as "kind" or "kind:arg".
func (a Action) String() string {
	if a.Arg == "" {
		return string(a.Kind)
	}
	return string(a.Kind) + ":" + a.Arg
}

// MaxActionLen is the longest encoded action ParseAction accepts.
const MaxActionLen = 48

// ParseAction decodes an Action encoded by Action.String. It returns false
// for anything it does not know, e.g. a button from an older version.
func ParseAction(s string) (Action, bool) {
	if s == "" || len(s) > MaxActionLen {
		return Action{}, false
	}
	kind, arg, _ := strings.Cut(s, ":")
	a := Action{Kind: ActionKind(kind), Arg: arg}
	switch a.Kind {
	case ActReflect, ActNext, ActStep, ActDeleteConfirm, ActDeleteCancel, ActPause, ActRestart,
		ActWipe, ActWipeCancel, ActDeleteWipe:
		return a, arg == ""
	case ActRole:
		return a, Role(arg).Valid()
	case ActDiscreet:
		return a, arg == "on" || arg == "off"
	case ActMood:
		return a, Mood(arg).Valid()
	case ActPace:
		return a, arg == "1" || arg == "2"
	case ActPlan:
		return a, PlanAction(arg).Valid()
	case ActJournal:
		n, err := strconv.Atoi(arg)
		return a, err == nil && n >= 1 && strconv.Itoa(n) == arg
	}
	return Action{}, false
}

// Style is how a span of text is shown.
type Style uint8

const (
	Plain Style = iota
	Bold
	Italic
)

// Span is a run of text in one style. Text is always literal: adapters escape
// it for their platform, so nothing a person types is ever read as markup.
type Span struct {
	Text  string
	Style Style
}

// Text is structured text: spans in order. Paragraphs are separated by "\n\n"
// inside spans, so adapters can split long texts at paragraph boundaries.
type Text []Span

// String returns the text without styling.
func (t Text) String() string {
	var b strings.Builder
	for _, s := range t {
		b.WriteString(s.Text)
	}
	return b.String()
}

// Button is a choice offered under a reply.
type Button struct {
	Label  string
	Action Action
}

// Document is a file sent with a reply, e.g. the /export JSON.
type Document struct {
	Name string
	MIME string
	Data []byte
}

// Reply is one message to send back.
type Reply struct {
	Text    Text
	Buttons [][]Button // rows of buttons
	Doc     *Document
	// Personal marks replies that carry anything private (journal, progress,
	// export, reflections). Adapters never show them to anyone but the person:
	// Discord sends them ephemeral in servers; no adapter posts them in a group.
	Personal bool
	// Protect asks the platform not to let the message be forwarded, copied
	// or saved (Telegram's protect_content). The engine sets it on every
	// reply and daily prompt to a person in discreet mode; platforms
	// without such an option ignore it.
	Protect bool
}

// Address is where to reach a person privately on their platform.
type Address struct {
	Platform Platform
	UserID   string
	ChatID   string
}

// AddressOf returns the private address of u.
func AddressOf(u *User) Address {
	return Address{Platform: u.Platform, UserID: u.PlatformID, ChatID: u.ChatID}
}
