package bot

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Limits the engine enforces.
const (
	// MaxReflectionRunes is the longest reflection kept. Longer texts are
	// refused kindly, never cut: Telegram and Discord cap messages well below
	// this, so only the console can reach it.
	MaxReflectionRunes = 32000
	// JournalPageSize is how many reflections one /journal page shows.
	JournalPageSize = 10
)

// Engine is the conversation engine: it turns an Incoming message into the
// replies to send. It is safe for concurrent use; adapters keep each
// person's messages in order.
type Engine struct {
	Program *Program
	Store   Store
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// DefaultTime ("HH:MM") and DefaultTimeZone (IANA) are given to new users.
	DefaultTime     string
	DefaultTimeZone string
	// Schedule plans daily prompts after each turn; nil plans none.
	Schedule Scheduler
	// Admins are the platform user ids, per platform, who may use /stats
	// in a private chat; to anyone else it is an unknown command.
	Admins map[Platform][]string

	// wipers clear recent messages from chats for /wipe, per platform:
	// registered with SetWiper, possibly once the engine is answering.
	mu     sync.RWMutex
	wipers map[Platform]Wiper
}

func (e *Engine) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

// Handle answers one message or button press. The replies are always worth
// sending: when err is non-nil (an internal failure, to be logged by the
// caller, never shown) they hold a short apology instead.
func (e *Engine) Handle(ctx context.Context, in Incoming) ([]Reply, error) {
	replies, err := e.handle(ctx, in)
	if err != nil {
		return []Reply{reply(ErrorMessage(err))}, err
	}
	return replies, nil
}

func (e *Engine) handle(ctx context.Context, in Incoming) ([]Reply, error) {
	text := strings.TrimSpace(in.Text)
	if text == "" && in.Action == nil {
		return nil, nil
	}
	cmd, isCmd := ParseCommand(text)
	if !in.Private {
		if in.Action != nil || !isCmd {
			return nil, nil // plain text in a group is never read or stored
		}
		return e.group(cmd), nil
	}

	u, err := e.Store.User(ctx, in.Platform, in.UserID)
	if ErrorCode(err) == ENOTFOUND {
		u = nil
	} else if err != nil {
		return nil, fmt.Errorf("load user: %w", err)
	}
	if u != nil {
		// Any message means they are here and reachable again.
		u.LastSeenAt = e.now()
		u.Unreachable = false
		u.ChatID = in.ChatID
		if in.Name != "" {
			u.Name = in.Name
		}
		if u.Paused && !u.PausedUntil.IsZero() && !u.LastSeenAt.Before(u.PausedUntil) {
			u.Paused, u.PausedUntil = false, time.Time{} // the pause has run out
		}
	}

	if u != nil && u.Flow != FlowNone && flowDone(in, cmd, isCmd) {
		u.Flow, u.FlowStep = FlowNone, 0 // answers so far are kept
	}
	var replies []Reply
	switch {
	case in.Action != nil:
		replies, err = e.action(ctx, u, in, *in.Action)
	case isCmd:
		replies, err = e.command(ctx, u, in, cmd)
	default:
		replies, err = e.plainText(ctx, u, in, text)
	}
	if err != nil {
		return nil, err
	}
	// A deleted user has ID 0; a user created in this turn was saved already.
	if u != nil && u.ID != 0 {
		e.plan(u) // any message ends a back-off, and settings may have changed
		if err := e.Store.SaveUser(ctx, u); err != nil {
			return nil, fmt.Errorf("save user: %w", err)
		}
		if u.Discreet {
			for i := range replies {
				replies[i] = discreet(replies[i])
			}
		}
	}
	return replies, nil
}

// group answers a command in a group chat: only /step and /help, and nothing
// about any one person.
func (e *Engine) group(cmd Command) []Reply {
	switch cmd.Name {
	case "help", "start":
		return []Reply{reply("I walk people through a ten-step program for rebuilding trust, one step at a time. ",
			"Everything personal happens in a private chat with me: message me directly to begin. ",
			"Here, I can show a step of the program: /step 1 to /step ", strconv.Itoa(len(e.Program.Steps)), ".")}
	case "step":
		n := 1
		if cmd.Args != "" {
			v, err := strconv.Atoi(cmd.Args)
			if err != nil || v < 1 || v > len(e.Program.Steps) {
				return []Reply{reply(e.stepRangeHint())}
			}
			n = v
		}
		st, _ := e.Program.Step(n)
		var b textBuilder
		e.writeStep(&b, st, "")
		b.para().italic("Your own place in the program, and your journal, stay in our private chat.")
		return []Reply{{Text: b.text()}}
	}
	for _, c := range Commands {
		if c.Name == cmd.Name {
			return []Reply{reply("That one is just for our private chat. Message me directly and I'll answer there.")}
		}
	}
	return nil // another bot's command, most likely
}

// nothingStored answers someone unknown who asks for their data.
const nothingStored = "I don't have anything stored about you. /start begins the program whenever you are ready."

func (e *Engine) stepRangeHint() string {
	return fmt.Sprintf("Please give a step number from 1 to %d, like /step 2.", len(e.Program.Steps))
}

// command dispatches a command in a private chat. u is nil for someone the
// bot has not met.
func (e *Engine) command(ctx context.Context, u *User, in Incoming, cmd Command) ([]Reply, error) {
	switch cmd.Name {
	case "help":
		return []Reply{e.help()}, nil
	case "privacy":
		return []Reply{e.privacy()}, nil
	case "about":
		return []Reply{e.about()}, nil
	case "start":
		if u == nil {
			return e.start(ctx, in)
		}
		return e.welcomeBack(u), nil
	}
	if cmd.Name == "stats" && e.isAdmin(in) {
		return e.stats(ctx)
	}
	known := false
	for _, c := range Commands {
		known = known || c.Name == cmd.Name
	}
	if !known {
		return []Reply{reply("I don't know /", cmd.Name, ". /help lists what I can do.")}, nil
	}
	if cmd.Name == "wipe" { // also after /delete: the chat is not the journal
		return e.wipeAsk(in), nil
	}
	if u == nil {
		switch cmd.Name {
		case "delete", "export", "journal", "progress":
			return []Reply{reply(nothingStored)}, nil
		}
		return e.start(ctx, in)
	}
	switch cmd.Name {
	case "step":
		return e.stepCmd(u, cmd.Args), nil
	case "next":
		return e.next(ctx, u)
	case "restart":
		return e.restart(u, false), nil
	case "journal":
		page := 1
		if cmd.Args != "" {
			p, err := strconv.Atoi(cmd.Args)
			if err != nil || p < 1 {
				return []Reply{reply("Please give a page number, like /journal 2.")}, nil
			}
			page = p
		}
		return e.journal(ctx, u, page)
	case "progress":
		return e.progress(ctx, u)
	case "time":
		return e.setTime(u, cmd.Args), nil
	case "timezone":
		return e.setZone(u, cmd.Args), nil
	case "pause":
		return e.pause(u, cmd.Args), nil
	case "resume":
		return e.resume(u), nil
	case "pace":
		return e.paceCmd(u, cmd.Args), nil
	case "role":
		return e.roleCmd(u), nil
	case "discreet":
		return e.discreetCmd(u, cmd.Args), nil
	case "country":
		return e.countryCmd(u, cmd.Args), nil
	case "safetyplan":
		return e.safetyPlan(ctx, u, PlanStart)
	case "export":
		return e.export(ctx, u)
	case "delete":
		rows := [][]Button{{{Label: "Delete everything", Action: Action{Kind: ActDeleteConfirm}}, {Label: "Cancel", Action: Action{Kind: ActDeleteCancel}}}}
		if e.wiper(in.Platform) != nil {
			rows = append(rows, []Button{{Label: "Delete everything and clear this chat", Action: Action{Kind: ActDeleteWipe}}})
		}
		return []Reply{{
			Text: (&textBuilder{}).bold("Erase everything?").para().
				plain("This deletes your journal, your progress and your settings for good. ",
					"If you'd like a copy first, /export sends you one.").text(),
			Buttons:  rows,
			Personal: true,
		}}, nil
	}
	return nil, fmt.Errorf("command %q is listed but not handled", cmd.Name)
}

// action answers a button press.
func (e *Engine) action(ctx context.Context, u *User, in Incoming, a Action) ([]Reply, error) {
	switch a.Kind { // the chat is not the journal: these work after /delete too
	case ActWipe:
		t, err := e.wipe(ctx, in)
		if err != nil {
			return nil, err
		}
		if u != nil {
			t = append(t, Span{Text: " Your journal is still stored with me; /delete erases it."})
		}
		return []Reply{{Text: t}}, nil
	case ActWipeCancel:
		return []Reply{reply("Nothing was removed.")}, nil
	}
	if u == nil {
		return []Reply{reply(nothingStored)}, nil
	}
	switch a.Kind {
	case ActRole:
		return e.setRole(u, Role(a.Arg)), nil
	case ActDiscreet:
		return e.setDiscreet(u, a.Arg == "on"), nil
	case ActMood:
		return e.mood(ctx, u, Mood(a.Arg))
	case ActPace:
		p, _ := strconv.Atoi(a.Arg)
		return e.setPace(u, p), nil
	case ActPlan:
		return e.safetyPlan(ctx, u, PlanAction(a.Arg))
	case ActDeleteWipe:
		t, err := e.wipe(ctx, in)
		if err != nil {
			return nil, err
		}
		if err := e.Store.DeleteUser(ctx, u.ID); err != nil {
			return nil, fmt.Errorf("delete user: %w", err)
		}
		u.ID = 0
		return []Reply{{Text: append(t, Span{Text: "\n\nAnd everything I kept about you is erased: your journal, your progress and your settings. If you ever want to begin again, /start is here."})}}, nil
	case ActStep:
		return []Reply{e.currentStep(u)}, nil
	case ActReflect:
		return []Reply{e.reflectInvite(u)}, nil
	case ActNext:
		return e.next(ctx, u)
	case ActJournal:
		p, _ := strconv.Atoi(a.Arg)
		return e.journal(ctx, u, max(p, 1))
	case ActPause:
		return e.pause(u, ""), nil
	case ActRestart:
		return e.restart(u, true), nil
	case ActDeleteCancel:
		return []Reply{reply("Nothing was deleted. Your journal is still here, and still yours.")}, nil
	case ActDeleteConfirm:
		if err := e.Store.DeleteUser(ctx, u.ID); err != nil {
			return nil, fmt.Errorf("delete user: %w", err)
		}
		u.ID = 0
		return []Reply{reply("Done. Everything I kept about you is erased: your journal, your progress and your settings. ",
			"If you ever want to begin again, /start is here.")}, nil
	}
	return []Reply{reply("That button no longer does anything. /step shows where you are.")}, nil
}

// start welcomes someone new, stores them at step 1, and asks the optional
// role question.
func (e *Engine) start(ctx context.Context, in Incoming) ([]Reply, error) {
	now := e.now()
	u := &User{
		Platform: in.Platform, PlatformID: in.UserID, ChatID: in.ChatID, Name: in.Name,
		Step: 1, NudgeTime: e.DefaultTime, TimeZone: e.DefaultTimeZone,
		StartedAt: now, LastSeenAt: now,
	}
	if u.NudgeTime == "" {
		u.NudgeTime = "20:00"
	}
	if u.TimeZone == "" {
		u.TimeZone = "UTC"
	}
	e.setPrompt(u, 0)
	e.plan(u)
	if err := e.Store.SaveUser(ctx, u); err != nil {
		// Two first messages at once: the other one created them.
		if existing, err2 := e.Store.User(ctx, in.Platform, in.UserID); err2 == nil {
			return e.welcomeBack(existing), nil
		}
		return nil, fmt.Errorf("create user: %w", err)
	}
	var b textBuilder
	b.bold(e.Program.Title).para().plain(e.Program.Welcome).para().plain(e.Program.HowItWorks)
	if e.Program.NotThis != "" {
		b.para().italic(e.Program.NotThis)
	}
	question := Reply{
		Text:    (&textBuilder{}).plain("Before we begin: which of these fits you best? It only changes how I word my questions, and you can skip it.").text(),
		Buttons: roleButtons(),
	}
	return []Reply{{Text: b.text()}, question}, nil
}

func (e *Engine) welcomeBack(u *User) []Reply {
	var b textBuilder
	if u.Completed {
		b.plain("Welcome back. You have walked all ", strconv.Itoa(len(e.Program.Steps)), " steps. ",
			"/journal rereads what you wrote, /step N revisits a step, and /restart walks the program again.")
		return []Reply{{Text: b.text()}}
	}
	b.plain("Welcome back. Your progress is kept; here is where you are.")
	return []Reply{{Text: b.text()}, e.currentStep(u)}
}

// setPrompt makes prompt i (modulo the step's prompts) of the current step
// the one a reflection answers.
func (e *Engine) setPrompt(u *User, i int) {
	st, ok := e.Program.Step(u.Step)
	if !ok || len(st.Prompts) == 0 {
		u.PromptIndex, u.LastPrompt = 0, ""
		return
	}
	i = ((i % len(st.Prompts)) + len(st.Prompts)) % len(st.Prompts)
	u.PromptIndex = i
	u.LastPrompt = st.Prompts[i].For(u.Role)
}

// NextPrompt moves u to the next reflection prompt of their current step and
// returns it, so that prompts rotate and never repeat twice in a row. The
// caller saves u.
func (e *Engine) NextPrompt(u *User) string {
	e.setPrompt(u, u.PromptIndex+1)
	return u.LastPrompt
}

// stepHeading is the title line of step st: "Step 3 of 10 — Title".
func (e *Engine) stepHeading(st Step) string {
	return fmt.Sprintf("Step %d of %d — %s", st.Number, len(e.Program.Steps), st.Title)
}

// writeStep writes a step's content; prompt is the reflection question to
// show, or "" for none.
func (e *Engine) writeStep(b *textBuilder, st Step, prompt string) {
	b.bold(e.stepHeading(st)).para()
	if st.Summary != "" {
		b.italic(st.Summary).para()
	}
	b.plain(st.Body).para().bold("For today: ").plain(st.Action)
	if prompt != "" {
		b.para().bold("To reflect on: ").italic(prompt)
	}
}

// currentStep renders the step u is on, with the current prompt and buttons.
func (e *Engine) currentStep(u *User) Reply {
	if u.Completed {
		return e.completion()
	}
	st, ok := e.Program.Step(u.Step)
	if !ok { // the program file shrank under them: go to its last step
		u.Step = len(e.Program.Steps)
		st, _ = e.Program.Step(u.Step)
		e.setPrompt(u, 0)
	}
	if u.LastPrompt == "" {
		e.setPrompt(u, u.PromptIndex)
	}
	var b textBuilder
	e.writeStep(&b, st, u.LastPrompt)
	b.para().plain("Whenever you're ready, write your thoughts here. They go into your private journal.")
	return Reply{Text: b.text(), Personal: true, Buttons: [][]Button{{
		{Label: "Write a reflection", Action: Action{Kind: ActReflect}},
		{Label: "Done — next step", Action: Action{Kind: ActNext}},
	}}}
}

func (e *Engine) completion() Reply {
	var b textBuilder
	b.bold("You have walked all ", strconv.Itoa(len(e.Program.Steps)), " steps").para().plain(e.Program.Completion)
	return Reply{Text: b.text(), Personal: true}
}

func (e *Engine) stepCmd(u *User, args string) []Reply {
	if args == "" {
		return []Reply{e.currentStep(u)}
	}
	n, err := strconv.Atoi(args)
	if err != nil || n < 1 || n > len(e.Program.Steps) {
		return []Reply{reply(e.stepRangeHint())}
	}
	if !u.Completed && n == u.Step {
		return []Reply{e.currentStep(u)}
	}
	if !u.Completed && n > u.Step {
		return []Reply{reply(fmt.Sprintf("Steps open one at a time, and you are on step %d. There's no rush: step %d will be there when you get to it.", u.Step, n))}
	}
	st, _ := e.Program.Step(n)
	var b textBuilder
	e.writeStep(&b, st, st.Prompts[0].For(u.Role))
	if !u.Completed {
		b.para().italic(fmt.Sprintf("You are on step %d now; /step takes you back to it.", u.Step))
	}
	return []Reply{{Text: b.text(), Personal: true}}
}

func (e *Engine) reflectInvite(u *User) Reply {
	if u.LastPrompt == "" {
		e.setPrompt(u, u.PromptIndex)
	}
	var b textBuilder
	b.plain("Take your time. Write as much or as little as you like, then send it.")
	if u.LastPrompt != "" {
		b.para().plain("If a question helps: ").italic(u.LastPrompt)
	}
	return Reply{Text: b.text(), Personal: true}
}

// next marks the current step done and moves on.
func (e *Engine) next(ctx context.Context, u *User) ([]Reply, error) {
	if u.Completed {
		return []Reply{e.completion()}, nil
	}
	n, err := e.Store.CountReflections(ctx, u.ID, u.Step)
	if err != nil {
		return nil, fmt.Errorf("count reflections: %w", err)
	}
	var b textBuilder
	b.plain(fmt.Sprintf("Step %d is done. Well walked.", u.Step))
	if n == 0 {
		b.plain(" One gentle word: a few lines of reflection help a step settle. You can always come back to it with /step ", strconv.Itoa(u.Step), ".")
	}
	if u.Step >= len(e.Program.Steps) {
		u.Completed = true
		u.LastPrompt = ""
		return []Reply{{Text: b.text()}, e.completion()}, nil
	}
	u.Step++
	e.setPrompt(u, 0)
	return []Reply{{Text: b.text()}, e.currentStep(u)}, nil
}

func (e *Engine) restart(u *User, confirmed bool) []Reply {
	if !u.Completed && u.Step == 1 {
		return []Reply{reply("You're at the beginning already. /step shows step 1.")}
	}
	if !u.Completed && !confirmed {
		return []Reply{{
			Text: Text{{Text: fmt.Sprintf("Start again from step 1? You are on step %d now. Your journal is kept either way.", u.Step)}},
			Buttons: [][]Button{{
				{Label: "Start again from step 1", Action: Action{Kind: ActRestart}},
				{Label: fmt.Sprintf("Stay on step %d", u.Step), Action: Action{Kind: ActStep}},
			}},
		}}
	}
	u.Step, u.Completed = 1, false
	e.setPrompt(u, 0)
	return []Reply{reply("Here we are at the beginning again. Your journal is kept, and you can reread it with /journal."), e.currentStep(u)}
}

// plainText stores a reflection (or answers the flow in progress), and
// answers someone in danger.
func (e *Engine) plainText(ctx context.Context, u *User, in Incoming, text string) ([]Reply, error) {
	crisis := DetectCrisis(text)
	if u == nil {
		if crisis {
			// Nothing is stored for someone who has not started: they were
			// never told about the journal.
			return []Reply{e.crisisReply(nil)}, nil
		}
		return e.start(ctx, in)
	}
	if u.Flow == FlowSafetyPlan {
		return e.planAnswer(ctx, u, text)
	}
	if n := utf8.RuneCountInString(text); n > MaxReflectionRunes {
		return []Reply{reply(fmt.Sprintf("That's longer than I can keep in one piece (%d characters; I can keep up to %d). Nothing was saved yet: could you send it in two or more parts?", n, MaxReflectionRunes))}, nil
	}
	r := &Reflection{UserID: u.ID, Step: u.Step, Prompt: u.LastPrompt, Text: text, CreatedAt: e.now(), SourceID: in.MessageID}
	if err := e.Store.AddReflection(ctx, r); err != nil {
		return nil, fmt.Errorf("add reflection: %w", err)
	}
	if crisis {
		return []Reply{e.crisisReply(u)}, nil
	}
	// Reflection ids grow with every entry, so consecutive acknowledgments differ.
	return []Reply{{Text: Text{{Text: acknowledge(u.Role, r.ID)}}, Personal: true}}, nil
}

func (e *Engine) location(u *User) *time.Location {
	return Zone(u.TimeZone)
}

func (e *Engine) journal(ctx context.Context, u *User, page int) ([]Reply, error) {
	rs, total, err := e.Store.Reflections(ctx, u.ID, JournalPageSize, (page-1)*JournalPageSize)
	if err != nil {
		return nil, fmt.Errorf("list reflections: %w", err)
	}
	if total == 0 {
		return []Reply{{Text: Text{{Text: "Your journal is empty for now. Whatever you write to me is kept here, just for you."}}, Personal: true}}, nil
	}
	pages := (total + JournalPageSize - 1) / JournalPageSize
	if len(rs) == 0 {
		return []Reply{reply(fmt.Sprintf("Your journal has %d pages; please pick one from 1 to %d, like /journal 1.", pages, pages))}, nil
	}
	loc := e.location(u)
	var b textBuilder
	b.bold("Your journal").plain(fmt.Sprintf(" — page %d of %d, %d %s in all, newest first", page, pages, total, plural(total, "reflection", "reflections")))
	lastStep := -1
	for _, r := range rs {
		if r.Step != lastStep {
			lastStep = r.Step
			title := ""
			if st, ok := e.Program.Step(r.Step); ok {
				title = " — " + st.Title
			}
			b.para().bold(fmt.Sprintf("Step %d%s", r.Step, title))
		}
		b.para().italic(r.CreatedAt.In(loc).Format("Mon 2 Jan 2006, 15:04")).plain("\n", r.Text)
	}
	rp := Reply{Text: b.text(), Personal: true}
	if page < pages {
		rp.Buttons = [][]Button{{{Label: "Older entries", Action: Action{Kind: ActJournal, Arg: strconv.Itoa(page + 1)}}}}
	}
	return []Reply{rp}, nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func (e *Engine) progress(ctx context.Context, u *User) ([]Reply, error) {
	total, err := e.Store.CountReflections(ctx, u.ID, 0)
	if err != nil {
		return nil, fmt.Errorf("count reflections: %w", err)
	}
	steps := len(e.Program.Steps)
	loc := e.location(u)
	days := daysBetween(u.StartedAt.In(loc), e.now().In(loc)) + 1
	var b textBuilder
	done := u.Step - 1
	if u.Completed {
		done = steps
		b.bold("All ", strconv.Itoa(steps), " steps walked")
	} else {
		st, _ := e.Program.Step(u.Step)
		b.bold(fmt.Sprintf("Step %d of %d — %s", u.Step, steps, st.Title))
	}
	b.para().plain(fmt.Sprintf("Day %d since you began.\nSteps done: %d of %d.\nReflections written: %d.", days, done, steps, total))
	b.plain("\n", e.reminderLine(u))
	if _, ok := e.planStore(); ok {
		p, err := e.loadPlan(ctx, u)
		if err != nil {
			return nil, err
		}
		if line := planStatus(p); line != "" {
			b.plain("\n", line)
		}
	}
	chart, err := e.moodChart(ctx, u)
	if err != nil {
		return nil, err
	}
	if chart != "" {
		b.para().bold("How things have been").plain(chart)
	}
	return []Reply{{Text: b.text(), Personal: true}}, nil
}

// daysBetween counts calendar days from a to b in a's location.
func daysBetween(a, b time.Time) int {
	da := time.Date(a.Year(), a.Month(), a.Day(), 0, 0, 0, 0, time.UTC)
	db := time.Date(b.Year(), b.Month(), b.Day(), 0, 0, 0, 0, time.UTC)
	return int(db.Sub(da).Hours() / 24)
}

func (e *Engine) reminderLine(u *User) string {
	switch {
	case u.Paused && !u.PausedUntil.IsZero():
		return fmt.Sprintf("Daily prompts are paused until %s.", u.PausedUntil.In(e.location(u)).Format("Mon 2 Jan"))
	case u.Paused:
		return "Daily prompts are paused. /resume brings them back."
	case u.Pace >= 2:
		return fmt.Sprintf("A prompt every other day at %s (%s).", u.NudgeTime, u.TimeZone)
	}
	return fmt.Sprintf("Daily prompt at %s (%s).", u.NudgeTime, u.TimeZone)
}

func (e *Engine) setTime(u *User, args string) []Reply {
	if args == "" {
		return []Reply{reply(fmt.Sprintf("Your daily prompt comes at %s (%s). ", u.NudgeTime, u.TimeZone), e.nextLine(u),
			"To change it, send the time in 24-hour form, like /time 19:00.")}
	}
	t, err := ParseClock(args)
	if err != nil {
		return []Reply{reply(ErrorMessage(err))}
	}
	u.NudgeTime = t
	e.plan(u)
	msg := fmt.Sprintf("Done. Your daily prompt will come at %s, %s time. ", t, u.TimeZone) + e.nextLine(u)
	if e.Schedule != nil && e.Schedule.Quiet(t) {
		msg += "That's in the night hours, when I usually stay quiet; since you chose it, I'll come then. If it ever stops suiting you, /time changes it."
	}
	return []Reply{reply(strings.TrimSpace(msg))}
}

// plan asks the Scheduler when u's next daily prompt is due.
func (e *Engine) plan(u *User) {
	if e.Schedule != nil {
		u.NextDue = e.Schedule.NextDue(u, e.now())
	}
}

// nextLine says when u's next daily prompt comes, in their local time, as
// a sentence followed by a space; "" when nothing plans prompts.
func (e *Engine) nextLine(u *User) string {
	switch {
	case e.Schedule == nil:
		return ""
	case u.Completed:
		return "You have walked all the steps, so daily prompts have stopped. "
	case u.Paused && u.NextDue.IsZero():
		return "Prompts are paused for now; /resume brings them back. "
	case u.NextDue.IsZero():
		return ""
	}
	loc := e.location(u)
	due := u.NextDue.In(loc)
	when := "on " + due.Format("Mon 2 Jan") + " at " + due.Format("15:04")
	switch daysBetween(e.now().In(loc), due) {
	case 0:
		when = "today at " + due.Format("15:04")
	case 1:
		when = "tomorrow at " + due.Format("15:04")
	}
	return "The next one comes " + when + ". "
}

func (e *Engine) setZone(u *User, args string) []Reply {
	if args == "" {
		return []Reply{reply(fmt.Sprintf("Your time zone is %s. To change it, send its Area/City name, like /timezone Europe/Berlin.", u.TimeZone))}
	}
	name, loc, err := ParseTimeZone(args)
	if err != nil {
		return []Reply{reply(ErrorMessage(err))}
	}
	u.TimeZone = name
	e.plan(u)
	return []Reply{reply(strings.TrimSpace(fmt.Sprintf("Done. Your time zone is %s; it's %s there now. Your daily prompt comes at %s. ", name, e.now().In(loc).Format("15:04"), u.NudgeTime) + e.nextLine(u)))}
}

func (e *Engine) pause(u *User, args string) []Reply {
	if args == "" {
		u.Paused, u.PausedUntil = true, time.Time{}
		return []Reply{reply("Daily prompts are paused. Take all the time you need; /resume brings them back, and everything else works as before.")}
	}
	days, err := strconv.Atoi(args)
	if err != nil || days < 1 || days > 365 {
		return []Reply{reply("Please give a number of days from 1 to 365, like /pause 7, or just /pause.")}
	}
	u.Paused, u.PausedUntil = true, e.now().AddDate(0, 0, days)
	return []Reply{reply(fmt.Sprintf("Daily prompts are paused for %d %s, until %s. /resume brings them back sooner.", days, plural(days, "day", "days"), u.PausedUntil.In(e.location(u)).Format("Mon 2 Jan")))}
}

func (e *Engine) resume(u *User) []Reply {
	if !u.Paused {
		return []Reply{reply(fmt.Sprintf("Daily prompts are on: the next one comes at %s (%s).", u.NudgeTime, u.TimeZone))}
	}
	u.Paused, u.PausedUntil = false, time.Time{}
	e.plan(u)
	return []Reply{reply(strings.TrimSpace(fmt.Sprintf("Welcome back. Daily prompts are on again, at %s (%s). ", u.NudgeTime, u.TimeZone) + e.nextLine(u)))}
}

func (e *Engine) help() Reply {
	var b textBuilder
	b.plain("I walk you through ", e.Program.Title, ", one step at a time. Whatever you write to me in this chat is kept as your private journal.").para()
	for i, c := range Commands {
		if i > 0 {
			b.plain("\n")
		}
		b.plain("/", c.Name, " — ", c.Description)
	}
	return Reply{Text: b.text()}
}

func (e *Engine) about() Reply {
	var b textBuilder
	b.bold(e.Program.Title).para().plain(e.Program.About)
	if e.Program.Breaks != "" {
		b.para().plain(e.Program.Breaks)
	}
	if e.Program.NotThis != "" {
		b.para().italic(e.Program.NotThis)
	}
	return Reply{Text: b.text()}
}

func (e *Engine) privacy() Reply {
	var b textBuilder
	b.bold("Your privacy").para().
		plain("What I keep: your progress in the program, your settings (reminder time, time zone, pause, country, discreet mode), the name your messenger shows me, and the reflections you write to me, with the step and the date. ",
			"If you use them, also your safety plan and your answers to \"How are things today?\"; and, so that /wipe can clear this chat, the numbers (never the text) of our messages from the last 48 hours.").para().
		plain("Where: in one database on the server that runs this bot, and nowhere else. Your words are never written to logs, never shown in a group chat, and never shared.").para().
		plain("How long: until you erase it. /export sends you a copy of everything as a file; /delete erases all of it, for good.")
	return Reply{Text: b.text()}
}

// MarkUnreachable records that the platform cannot deliver to this person
// (they blocked the bot, or their account is gone), so that nothing more is
// sent until they write again. An unknown person is not an error.
func (e *Engine) MarkUnreachable(ctx context.Context, p Platform, platformID string) error {
	u, err := e.Store.User(ctx, p, platformID)
	if ErrorCode(err) == ENOTFOUND {
		return nil
	} else if err != nil {
		return fmt.Errorf("mark unreachable: %w", err)
	}
	if u.Unreachable {
		return nil
	}
	u.Unreachable = true
	e.plan(u)
	if err := e.Store.SaveUser(ctx, u); err != nil {
		return fmt.Errorf("mark unreachable: %w", err)
	}
	return nil
}
