package bot

// Care and discretion: what a person in a fragile relationship needs from
// the bot beyond the steps. Discreet mode, the quick wipe, the country for
// the safety answer, roles, pace and the check-ins that ask how things are.
// The safety plan is in safetyplan.go.

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Mood is a person's answer to "How are things today?".
type Mood string

const (
	MoodBetter Mood = "better"
	MoodSame   Mood = "same"
	MoodHarder Mood = "harder"
	MoodUnsafe Mood = "unsafe"
)

// Moods lists the answers, in the order they are offered.
var Moods = []Mood{MoodBetter, MoodSame, MoodHarder, MoodUnsafe}

// Valid reports whether m is one of Moods.
func (m Mood) Valid() bool {
	switch m {
	case MoodBetter, MoodSame, MoodHarder, MoodUnsafe:
		return true
	}
	return false
}

// MoodEntry is one day's answer.
type MoodEntry struct {
	Date string // the person's local date, "2006-01-02"
	Mood Mood
}

// MoodStore keeps check-in answers, one per person and local date.
// storage.Store implements it; without it the engine asks no check-ins.
type MoodStore interface {
	// SetMood records the answer for date ("2006-01-02"), replacing an
	// earlier one that day. It returns ENOTFOUND if the person is gone.
	SetMood(ctx context.Context, userID int64, date string, m Mood) error
	// Moods returns the answers on dates from since ("2006-01-02") on,
	// oldest first.
	Moods(ctx context.Context, userID int64, since string) ([]MoodEntry, error)
}

// CheckInEvery is how many days apart the check-ins come at least: the
// first daily prompt this many local days after the last check-in (or
// after starting) asks "How are things today?" instead of a question. Daily,
// that is every fourth prompt; every other day, every second.
const CheckInEvery = 4

// MoodWeeks is how many weeks of check-ins /progress shows.
const MoodWeeks = 4

// Wiper removes recent messages from a person's private chat, as far as the
// platform allows. Adapters whose platform can delete messages implement it
// beside bot.Sender, and main registers them with Engine.SetWiper; /wipe
// says so plainly where there is none.
//
// Wipe deletes the messages of the chat at `chat` sent or received at or
// after since that the adapter recorded (the bot's replies and prompts, and
// the person's messages where the platform lets a bot delete them), and
// forgets the ones it deleted. It returns what it did; an error means it
// could not finish (counts so far may still be set).
type Wiper interface {
	Wipe(ctx context.Context, chat Address, since time.Time) (WipeResult, error)
}

// WipeResult counts what a Wipe did, for the engine to say plainly.
type WipeResult struct {
	Removed int // messages deleted from the chat
	// Failed counts recorded messages the platform refused to delete
	// (too old, already gone for one side only, no permission).
	Failed int
	// TheirsKept counts the person's own messages that the platform does
	// not let a bot delete (Discord direct messages): they stay unless the
	// person deletes them.
	TheirsKept int
}

// ChatMessage is a message of a private chat whose id an adapter records
// (storage keeps it for WipeWindow), so that its Wiper can delete it later.
// Only the id, never the text.
type ChatMessage struct {
	ID      string // the platform's message id
	FromBot bool   // sent by the bot; false: sent by the person
	At      time.Time
}

// WipeWindow is how far back /wipe reaches: Telegram lets a bot delete
// messages in a private chat for 48 hours, and adapters keep the ids of
// sent and received messages that long.
const WipeWindow = 48 * time.Hour

// SetWiper registers w to clear chats on platform p for /wipe (nil
// removes it). It is safe to call while the engine is answering messages,
// e.g. once an adapter that already receives them is connected.
func (e *Engine) SetWiper(p Platform, w Wiper) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.wipers == nil {
		e.wipers = map[Platform]Wiper{}
	}
	if w == nil {
		delete(e.wipers, p)
		return
	}
	e.wipers[p] = w
}

func (e *Engine) wiper(p Platform) Wiper {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.wipers[p]
}

// roleButtons are the choices of the role question, at /start and /role.
func roleButtons() [][]Button {
	return [][]Button{
		{{Label: "I broke the trust", Action: Action{Kind: ActRole, Arg: string(RoleRepairing)}}},
		{{Label: "My trust was broken", Action: Action{Kind: ActRole, Arg: string(RoleHurt)}}},
		{{Label: "We both want to rebuild", Action: Action{Kind: ActRole, Arg: string(RoleTogether)}}},
		{{Label: "Skip", Action: Action{Kind: ActRole}}},
	}
}

func roleLabel(r Role) string {
	switch r {
	case RoleRepairing:
		return "you broke the trust"
	case RoleHurt:
		return "your trust was broken"
	case RoleTogether:
		return "the two of you want to rebuild"
	}
	return ""
}

// roleCmd answers /role: the role now, and the choices.
func (e *Engine) roleCmd(u *User) []Reply {
	var b textBuilder
	if u.Role == RoleNone {
		b.plain("You haven't told me which side of the story you are on, and you don't have to.")
	} else {
		b.plain("You told me that ", roleLabel(u.Role), ".")
	}
	b.plain(" It only changes how I word my questions. Which fits you best now?")
	return []Reply{{Text: b.text(), Buttons: roleButtons()}}
}

// setRole answers a role button, at /start or after /role.
func (e *Engine) setRole(u *User, r Role) []Reply {
	u.Role = r
	e.setPrompt(u, u.PromptIndex) // the same question, worded for the role
	var b textBuilder
	switch r {
	case RoleNone:
		b.plain("That's fine. You can tell me later with /role, or never.")
	case RoleRepairing:
		b.plain("Thank you for telling me. I'll ask about owning what happened and about what you are changing.")
	case RoleHurt:
		b.plain("Thank you for telling me. I'm sorry it happened. I'll ask about what you need and where your limits are, and I will never push you to forgive.")
	default:
		b.plain("Thank you for telling me. I'll word my questions for the two of you.")
	}
	if !u.Discreet && u.Step == 1 && !u.Completed {
		b.plain(" If someone else might see your phone, /discreet on keeps my notifications neutral.")
	}
	return []Reply{{Text: b.text()}, e.currentStep(u)}
}

// acknowledgments answer a reflection, worded for the role. They vary so
// that a reflection never gets a form letter. The hurt partner is never
// asked for forgiveness; the one who broke trust hears about ownership and
// change.
var acknowledgments = map[Role][]string{
	RoleNone: {
		"Thank you for writing that down. It's kept in your journal.",
		"Kept, just for you. Putting it into words is part of the work.",
		"That's in your journal now. Thank you for being honest with yourself.",
		"Saved. You can reread everything you've written with /journal.",
		"Thank you. It's safe in your journal, and no one else sees it.",
		"Noted and kept. Go gently with yourself tonight.",
	},
	RoleRepairing: {
		"Thank you for writing that down plainly. Owning it is where repair starts.",
		"Kept in your journal. What you do next will say more than any words.",
		"Saved. Looking at it without excuses takes courage. Keep going at your pace.",
		"That's in your journal now. Change shows in small things, done again and again.",
		"Thank you. Reread it with /journal whenever you want to see what you are changing.",
		"Noted and kept. Be honest with yourself, and kind as well.",
	},
	RoleHurt: {
		"Thank you for writing that down. What you feel makes sense, and it's kept in your journal.",
		"Kept, just for you. Your needs matter here, and so do your limits.",
		"That's in your journal now. There is nothing you have to decide today.",
		"Saved. You can reread everything you've written with /journal.",
		"Thank you. It's safe in your journal, and no one else sees it.",
		"Noted and kept. You are allowed to take all the time you need.",
	},
}

// acknowledge returns the answer to reflection number id for role r.
func acknowledge(r Role, id int64) string {
	acks, ok := acknowledgments[r]
	if !ok {
		acks = acknowledgments[RoleNone]
	}
	return acks[int(id%int64(len(acks)))]
}

// nudgeClosing ends a daily prompt, worded for the role.
func nudgeClosing(r Role) string {
	switch r {
	case RoleHurt:
		return "A few lines are plenty, whenever suits you. There's nothing to decide today. They stay in your private journal."
	case RoleRepairing:
		return "A few honest lines are plenty, whenever suits you. They stay in your private journal."
	}
	return "A few lines are plenty, whenever suits you. They stay in your private journal."
}

// discreetCmd answers /discreet [on|off].
func (e *Engine) discreetCmd(u *User, args string) []Reply {
	switch strings.ToLower(strings.TrimSpace(args)) {
	case "on", "yes", "1":
		return e.setDiscreet(u, true)
	case "off", "no", "0":
		return e.setDiscreet(u, false)
	case "":
	default:
		return []Reply{reply("Please say /discreet on or /discreet off.")}
	}
	var b textBuilder
	if u.Discreet {
		b.plain("Discreet mode is on: my daily messages are neutral, and where the app allows it my messages can't be forwarded or saved.")
		return []Reply{{Text: b.text(), Buttons: [][]Button{{{Label: "Turn it off", Action: Action{Kind: ActDiscreet, Arg: "off"}}}}}}
	}
	b.plain("Discreet mode is off. If someone else might see your phone, turn it on: my daily messages will just say \"Your daily note is ready\", the first line of my messages stays neutral, and where the app allows it my messages can't be forwarded or saved.")
	return []Reply{{Text: b.text(), Buttons: [][]Button{{{Label: "Turn it on", Action: Action{Kind: ActDiscreet, Arg: "on"}}}}}}
}

func (e *Engine) setDiscreet(u *User, on bool) []Reply {
	u.Discreet = on
	if !on {
		return []Reply{reply("Discreet mode is off. My daily prompts show their question again. /discreet on brings it back.")}
	}
	return []Reply{reply("Discreet mode is on. My daily messages will just say \"Your daily note is ready\", the first line of each message stays neutral, and where the app allows it my messages can't be forwarded or saved. ",
		"For more privacy, turn off message previews for this chat in your phone's notification settings. /wipe clears our recent messages from this chat.")}
}

// topicStems are the beginnings of words that give away what the bot is
// about. A discreet person's replies never start with a line holding one.
var topicStems = []string{
	"trust", "distrust", "betray", "partner", "relationship", "affair", "cheat", "unfaithful", "infidel",
	"forgiv", "marri", "marriage", "husband", "wife", "wives", "boyfriend", "girlfriend", "spouse", "couple",
	"abus", "violen", "crisis", "suicid", "helpline", "hotline", "danger", "unsafe", "safe", "safety",
	"hurt", "lie", "lies", "lying", "liar", "divorce", "separat", "therap", "counsel", "breakup", "betrayal",
	"emergency", "kill", "harm", "threat", "rebuild",
}

// revealing reports whether line holds a word that gives away the topic.
func revealing(line string) bool {
	for _, w := range strings.FieldsFunc(strings.ToLower(line), func(r rune) bool { return !unicode.IsLetter(r) }) {
		for _, s := range topicStems {
			if strings.HasPrefix(w, s) {
				return true
			}
		}
	}
	return false
}

// neutralHeader is the first line put above a reply whose own first line
// would give the topic away in a notification preview.
const neutralHeader = "A note for you."

// discreet makes r fit for a discreet person: protected from forwarding,
// and with a first line (what notification previews show) that says
// nothing about the topic.
func discreet(r Reply) Reply {
	r.Protect = true
	first, _, _ := strings.Cut(r.Text.String(), "\n")
	if !revealing(first) {
		return r
	}
	t := make(Text, 0, len(r.Text)+1)
	t = append(t, Span{Text: neutralHeader + "\n\n"})
	r.Text = append(t, r.Text...)
	return r
}

// nudgeDay returns the day a daily prompt is for: the instant it was due,
// which the scheduler sets before rendering it, or now.
func (e *Engine) nudgeDay(u *User) time.Time {
	if !u.LastNudgeAt.IsZero() {
		return u.LastNudgeAt
	}
	return e.now()
}

// checkInDue reports whether u's daily prompt on day asks how things are.
func (e *Engine) checkInDue(u *User, day time.Time) bool {
	if _, ok := e.Store.(MoodStore); !ok {
		return false
	}
	loc := e.location(u)
	if !u.CheckInAt.IsZero() {
		// The same day again is a retry of an undelivered check-in.
		d := daysBetween(u.CheckInAt.In(loc), day.In(loc))
		return d == 0 || d >= CheckInEvery
	}
	return !u.StartedAt.IsZero() && daysBetween(u.StartedAt.In(loc), day.In(loc)) >= CheckInEvery
}

// checkIn is the daily prompt that asks how things are. Its words are
// neutral, so it is the same in discreet mode.
func checkIn() Reply {
	var b textBuilder
	b.plain("How are things today?").para().plain("Just tap one. It helps me go at the right pace for you.")
	return Reply{Text: b.text(), Personal: true, Buttons: [][]Button{
		{{Label: "Better", Action: Action{Kind: ActMood, Arg: string(MoodBetter)}}, {Label: "About the same", Action: Action{Kind: ActMood, Arg: string(MoodSame)}}},
		{{Label: "Harder", Action: Action{Kind: ActMood, Arg: string(MoodHarder)}}, {Label: "I don't feel safe", Action: Action{Kind: ActMood, Arg: string(MoodUnsafe)}}},
	}}
}

// discreetNudge is the daily prompt in discreet mode: nothing about the
// topic, the question shows when they open it.
func discreetNudge() Reply {
	return Reply{Text: Text{{Text: "Your daily note is ready."}}, Personal: true, Protect: true, Buttons: [][]Button{{
		{Label: "Open it", Action: Action{Kind: ActReflect}},
		{Label: "Pause reminders", Action: Action{Kind: ActPause}},
	}}}
}

// today returns u's local date now, "2006-01-02".
func (e *Engine) today(u *User) string {
	return e.now().In(e.location(u)).Format(time.DateOnly)
}

// mood answers a check-in button.
func (e *Engine) mood(ctx context.Context, u *User, m Mood) ([]Reply, error) {
	if ms, ok := e.Store.(MoodStore); ok {
		if err := ms.SetMood(ctx, u.ID, e.today(u), m); err != nil {
			return nil, fmt.Errorf("set mood: %w", err)
		}
	}
	if m == MoodUnsafe {
		return []Reply{e.crisisReply(u)}, nil
	}
	var b textBuilder
	var rows [][]Button
	switch m {
	case MoodBetter:
		b.plain("Good to hear. Thank you for telling me.")
		if u.Pace >= 2 {
			b.para().plain("You're on a gentler pace, with a prompt every other day. Would you like them daily again?")
			rows = append(rows, []Button{{Label: "Daily again", Action: Action{Kind: ActPace, Arg: "1"}}, {Label: "Keep every other day", Action: Action{Kind: ActPace, Arg: "2"}}})
		}
	case MoodSame:
		b.plain("Thank you for telling me. Steady days count too.")
	case MoodHarder:
		b.plain("I'm sorry today is harder. Thank you for telling me. There is nothing you have to do today.")
		if u.Pace < 2 {
			b.para().plain("Would a gentler pace help? I can send a prompt every other day instead of every day.")
			rows = append(rows, []Button{{Label: "Every other day", Action: Action{Kind: ActPace, Arg: "2"}}, {Label: "Keep daily", Action: Action{Kind: ActPace, Arg: "1"}}})
		}
		rows = append(rows, []Button{{Label: "Pause reminders", Action: Action{Kind: ActPause}}})
		b.para().plain("If you ever don't feel safe, /safetyplan and the helplines are here for you.")
		return []Reply{{Text: b.text(), Personal: true, Buttons: rows}}, nil
	}
	if !u.Completed {
		if prompt := e.NextPrompt(u); prompt != "" {
			b.para().plain("If you'd like a question for today: ").italic(prompt)
			rows = append(rows, []Button{{Label: "Write a reflection", Action: Action{Kind: ActReflect}}})
		}
	}
	return []Reply{{Text: b.text(), Personal: true, Buttons: rows}}, nil
}

// paceCmd answers /pace [daily|alternate].
func (e *Engine) paceCmd(u *User, args string) []Reply {
	switch strings.ToLower(strings.TrimSpace(args)) {
	case "daily", "1", "every day", "everyday":
		return e.setPace(u, 1)
	case "alternate", "2", "every other day", "gentle", "slower":
		return e.setPace(u, 2)
	case "":
	default:
		return []Reply{reply("Please say /pace daily or /pace alternate (every other day).")}
	}
	now, other, arg := "every day", "Every other day", "2"
	if u.Pace >= 2 {
		now, other, arg = "every other day", "Every day", "1"
	}
	return []Reply{{
		Text:    Text{{Text: "Your prompts come " + now + ", at " + u.NudgeTime + " (" + u.TimeZone + ")."}},
		Buttons: [][]Button{{{Label: other, Action: Action{Kind: ActPace, Arg: arg}}}},
	}}
}

func (e *Engine) setPace(u *User, pace int) []Reply {
	u.Pace = pace
	e.plan(u)
	if pace >= 2 {
		return []Reply{reply(strings.TrimSpace("Done: a gentler pace, with a prompt every other day at " + u.NudgeTime + ". " +
			e.nextLine(u) + "/pace daily goes back to every day."))}
	}
	return []Reply{reply(strings.TrimSpace("Done: a prompt every day at " + u.NudgeTime + ". " + e.nextLine(u)))}
}

// moodSymbols draw the check-in chart: plain characters that look the
// same on every platform and in the terminal.
var moodSymbols = map[Mood]string{MoodBetter: "+", MoodSame: "=", MoodHarder: "-", MoodUnsafe: "!"}

// moodChart renders the last MoodWeeks weeks of check-ins, one line per
// week from Monday, one symbol per day; "" when there were none.
func (e *Engine) moodChart(ctx context.Context, u *User) (string, error) {
	ms, ok := e.Store.(MoodStore)
	if !ok {
		return "", nil
	}
	loc := e.location(u)
	now := e.now().In(loc)
	y, m, d := now.Date()
	today := time.Date(y, m, d, 12, 0, 0, 0, time.UTC) // noon: days add up across DST
	monday := today.AddDate(0, 0, -((int(today.Weekday())+6)%7 + 7*(MoodWeeks-1)))
	entries, err := ms.Moods(ctx, u.ID, monday.Format(time.DateOnly))
	if err != nil {
		return "", fmt.Errorf("moods: %w", err)
	}
	if len(entries) == 0 {
		return "", nil
	}
	byDate := make(map[string]Mood, len(entries))
	for _, en := range entries {
		byDate[en.Date] = en.Mood
	}
	var b strings.Builder
	for week := monday; !week.After(today); week = week.AddDate(0, 0, 7) {
		b.WriteString("\n")
		b.WriteString(week.Format("Mon 2 Jan"))
		b.WriteString("  ")
		for day := week; day.Before(week.AddDate(0, 0, 7)) && !day.After(today); day = day.AddDate(0, 0, 1) {
			sym, ok := moodSymbols[byDate[day.Format(time.DateOnly)]]
			if !ok {
				sym = "·"
			}
			if day != week {
				b.WriteString(" ")
			}
			b.WriteString(sym)
		}
	}
	b.WriteString("\n+ better  = about the same  - harder  ! not safe  · no answer")
	return b.String(), nil
}

// normaliseCountry returns the ISO 3166-1 alpha-2 code for what a person
// typed ("de", " GB ", "uk"), or an *Error.
func normaliseCountry(s string) (string, error) {
	s = strings.ToUpper(strings.TrimSpace(s))
	if s == "UK" { // reserved for the United Kingdom, whose code is GB
		s = "GB"
	}
	if len(s) != 2 || s[0] < 'A' || s[0] > 'Z' || s[1] < 'A' || s[1] > 'Z' {
		return "", Errorf(EINVALID, "Please give your country as two letters, like /country GB, /country US or /country DE.")
	}
	return s, nil
}

// countryCmd answers /country [XX|off].
func (e *Engine) countryCmd(u *User, args string) []Reply {
	c := e.Program.Crisis
	var listed []string
	for _, cc := range c.Countries {
		listed = append(listed, cc.Name+" ("+cc.Code+")")
	}
	known := "I have helplines for " + strings.Join(listed, ", ") + "; for anywhere else I show general ones."
	if len(listed) == 0 {
		known = ""
	}
	switch strings.ToLower(strings.TrimSpace(args)) {
	case "":
		var b textBuilder
		if cc, ok := c.ForCountry(u.Country); ok {
			b.plain("Your country is ", cc.Name, " (", cc.Code, "). ")
		} else if u.Country != "" {
			b.plain("Your country is ", u.Country, ". ")
		} else {
			b.plain("I don't know your country yet. ")
		}
		b.plain("Telling me lets me show the right helplines if you ever need them. Send two letters, like /country GB or /country DE.")
		if known != "" {
			b.para().plain(known)
		}
		return []Reply{{Text: b.text()}}
	case "off", "none", "clear", "unset":
		u.Country = ""
		return []Reply{reply("Done: I've forgotten your country, and will show general helplines.")}
	}
	code, err := normaliseCountry(args)
	if err != nil {
		return []Reply{reply(ErrorMessage(err))}
	}
	u.Country = code
	cc, ok := c.ForCountry(code)
	if !ok {
		return []Reply{reply("Done: I've noted ", code, ". I don't have a list of helplines for ", code,
			" yet, so if you ever need them I'll show general ones, and findahelpline.com, which lists helplines in most countries.")}
	}
	var b textBuilder
	b.plain("Done: ", cc.Name, ". If you ever need them, these are the lines I'll show:").para()
	writeResources(&b, cc.Resources)
	return []Reply{{Text: b.text(), Personal: true}}
}

// resourcesFor returns the helplines to show u: their country's, or the
// general ones.
func (e *Engine) resourcesFor(u *User) []Resource {
	if u != nil {
		if cc, ok := e.Program.Crisis.ForCountry(u.Country); ok {
			return cc.Resources
		}
	}
	return e.Program.Crisis.Resources
}

func writeResources(b *textBuilder, rs []Resource) {
	for i, r := range rs {
		if i > 0 {
			b.plain("\n")
		}
		b.plain("• ").bold(r.Name).plain(": ", r.Contact)
	}
}

// crisisReply is the safety answer: short and calm, the helplines for u's
// country (general ones when unknown; u is nil for someone who has not
// started), and a way to pause or to make a safety plan. It never goes
// back to the step.
func (e *Engine) crisisReply(u *User) Reply {
	var b textBuilder
	b.plain(e.Program.Crisis.Message)
	if rs := e.resourcesFor(u); len(rs) > 0 {
		b.para()
		writeResources(&b, rs)
	}
	if u != nil && u.Country == "" {
		b.para().plain("If you tell me your country (for example /country GB), I'll show the helplines there.")
	}
	r := Reply{Text: b.text(), Personal: true}
	if u == nil {
		return r
	}
	pause := Button{Label: "Pause the program", Action: Action{Kind: ActPause}}
	if u.Flow == FlowSafetyPlan {
		r.Buttons = [][]Button{{{Label: "Go on with my safety plan", Action: Action{Kind: ActPlan, Arg: string(PlanContinue)}}, pause}}
	} else {
		r.Buttons = [][]Button{{pause, {Label: "Make a safety plan", Action: Action{Kind: ActPlan, Arg: string(PlanStart)}}}}
	}
	return r
}

// wipeAsk answers /wipe: what it will do, and a confirmation.
func (e *Engine) wipeAsk(in Incoming) []Reply {
	if e.wiper(in.Platform) == nil {
		return []Reply{reply("I can't remove messages here: this app doesn't let me. You can delete the conversation yourself in the app. /delete erases everything I keep about you.")}
	}
	return []Reply{{
		Text: (&textBuilder{}).bold("Clear this chat?").para().
			plain("I'll remove the messages we exchanged in the last 48 hours, as far as this app allows. ",
				"Your journal stays stored with me; /delete erases that too.").text(),
		Buttons: [][]Button{{{Label: "Clear the chat", Action: Action{Kind: ActWipe}}, {Label: "Cancel", Action: Action{Kind: ActWipeCancel}}}},
	}}
}

// wipe clears the chat through the platform's Wiper and says what it
// could and could not remove.
func (e *Engine) wipe(ctx context.Context, in Incoming) (Text, error) {
	w := e.wiper(in.Platform)
	if w == nil {
		return Text{{Text: "I can't remove messages here: this app doesn't let me. You can delete the conversation yourself in the app."}}, nil
	}
	res, err := w.Wipe(ctx, Address{Platform: in.Platform, UserID: in.UserID, ChatID: in.ChatID}, e.now().Add(-WipeWindow))
	if err != nil && res.Removed == 0 {
		return nil, fmt.Errorf("wipe chat: %w", err)
	}
	var b textBuilder
	switch {
	case res.Removed == 0:
		b.plain("There was nothing I could remove: I found no messages of ours from the last 48 hours.")
	default:
		b.plain("Done: I removed ", strconv.Itoa(res.Removed), " ", plural(res.Removed, "message", "messages"), " from this chat.")
	}
	if err != nil {
		b.plain(" Something went wrong partway, so some may be left: /wipe again tries the rest.")
	}
	if res.Failed > 0 {
		b.plain(" ", strconv.Itoa(res.Failed), " ", plural(res.Failed, "message", "messages"),
			" could not be removed; you can delete ", plural(res.Failed, "it", "them"), " yourself in the app.")
	}
	if res.TheirsKept > 0 {
		b.plain(" The ", strconv.Itoa(res.TheirsKept), " ", plural(res.TheirsKept, "message", "messages"),
			" you sent ", plural(res.TheirsKept, "is", "are"), " still there: this app doesn't let me delete what you write. You can delete ",
			plural(res.TheirsKept, "it", "them"), " yourself.")
	}
	b.plain(" Anything older than 48 hours stays as it is.")
	return b.text(), nil
}
