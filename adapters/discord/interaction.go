package discord

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/trustbot/trustbot/bot"
)

// publicOption is /step's boolean option that shows the step to the whole
// channel; nothing personal is in it.
const publicOption = "public"

// commandDefs are the slash commands: every command the engine knows, with
// its optional argument as an option.
func commandDefs() []*discordgo.ApplicationCommand {
	contexts := []discordgo.InteractionContextType{discordgo.InteractionContextGuild, discordgo.InteractionContextBotDM}
	minOne := 1.0
	var out []*discordgo.ApplicationCommand
	for _, c := range bot.Commands {
		cmd := &discordgo.ApplicationCommand{
			Type: discordgo.ChatApplicationCommand, Name: c.Name, Description: c.Description,
			Contexts: &contexts, Options: []*discordgo.ApplicationCommandOption{},
		}
		if c.Arg != "" {
			opt := &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionString, Name: c.Arg, Description: c.ArgHelp}
			switch c.Name {
			case "step", "journal":
				opt.Type, opt.MinValue = discordgo.ApplicationCommandOptionInteger, &minOne
			case "pause":
				opt.Type, opt.MinValue, opt.MaxValue = discordgo.ApplicationCommandOptionInteger, &minOne, 365
			case "time":
				four := 4
				opt.MinLength, opt.MaxLength = &four, 5
			case "timezone":
				opt.Autocomplete, opt.MaxLength = true, 64
			}
			cmd.Options = append(cmd.Options, opt)
		}
		if c.Name == "step" {
			cmd.Options = append(cmd.Options, &discordgo.ApplicationCommandOption{
				Type: discordgo.ApplicationCommandOptionBoolean, Name: publicOption,
				Description: "Show the step to everyone here (nothing about you is shown)",
			})
		}
		out = append(out, cmd)
	}
	return out
}

// registerCommands replaces the application's commands with ours in one
// request, so that renamed or removed commands disappear.
func (a *Adapter) registerCommands(ctx context.Context) error {
	defs := commandDefs()
	_, err := call(ctx, a, "", func(opts ...discordgo.RequestOption) ([]*discordgo.ApplicationCommand, error) {
		return a.s.ApplicationCommandBulkOverwrite(a.applicationID(), a.guildID, defs, opts...)
	})
	if err != nil {
		where := "globally"
		if a.guildID != "" {
			where = "in server " + a.guildID
		}
		return fmt.Errorf("register slash commands %s for application %s (check application_id and guild_id, and that the bot was invited with the applications.commands scope): %w",
			where, a.applicationID(), err)
	}
	return nil
}

// onInteraction handles INTERACTION_CREATE. It runs on discordgo's event
// loop, so it only decides what to do and queues the work.
func (a *Adapter) onInteraction(_ *discordgo.Session, ev *discordgo.InteractionCreate) {
	arrived := time.Now()
	if a.closing.Load() || ev.Interaction == nil {
		return
	}
	defer a.recover("interaction")
	i := ev.Interaction
	a.metrics.UpdateReceived()
	// ApplicationCommandData and MessageComponentData panic on the wrong
	// type: switch first.
	switch i.Type {
	case discordgo.InteractionApplicationCommandAutocomplete:
		// Read-only and urgent: not behind the person's turns.
		a.queue.push("autocomplete:"+i.ID, func() { a.autocomplete(i) })
		return
	case discordgo.InteractionApplicationCommand, discordgo.InteractionMessageComponent:
	default:
		return // pings and modals: nothing of ours
	}
	t := newTurn(i)
	if t.in.UserID == "" {
		return
	}
	k := &ack{a: a, t: t}
	k.timer = time.AfterFunc(max(a.deferAfter-time.Since(arrived), 0), k.deferNow)
	if !a.queue.push(t.in.UserID, func() { a.interactionTurn(t, k) }) {
		k.timer.Stop()
		a.log.Warn("discord: too many interactions waiting; one dropped", "user", t.in.UserID)
	}
}

// turn is one interaction and how its answer is shown.
type turn struct {
	i  *discordgo.Interaction
	in bot.Incoming
	// inGuild: replies are ephemeral unless the turn is public.
	inGuild bool
	// disable: the press answers a one-time question (delete, restart, the
	// role, a check-in, ...), so the message's buttons are disabled.
	disable bool
	// unknownButton: a button this version does not know.
	unknownButton bool
}

func newTurn(i *discordgo.Interaction) *turn {
	t := &turn{i: i, inGuild: i.GuildID != ""}
	u := i.User
	if i.Member != nil && i.Member.User != nil {
		u = i.Member.User
	}
	if u == nil {
		return t
	}
	t.in = bot.Incoming{Platform: bot.PlatformDiscord, UserID: u.ID, ChatID: i.ChannelID, Private: true, Name: displayName(u)}
	// The Data assertions are checked: discordgo's ApplicationCommandData and
	// MessageComponentData panic on the wrong type, and on data it could not
	// decode.
	switch i.Type {
	case discordgo.InteractionApplicationCommand:
		data, ok := i.Data.(discordgo.ApplicationCommandInteractionData)
		if !ok {
			t.in.UserID = ""
			return t
		}
		text := "/" + data.Name
		for _, o := range data.Options {
			if o == nil {
				continue
			}
			if o.Name == publicOption && data.Name == "step" {
				if v, ok := o.Value.(bool); ok && v && t.inGuild {
					t.in.Private = false // the engine answers as in a group: nothing personal
				}
				continue
			}
			if v := optionText(o.Value); v != "" {
				text += " " + v
			}
		}
		t.in.Text = text
	case discordgo.InteractionMessageComponent:
		data, ok := i.Data.(discordgo.MessageComponentInteractionData)
		if !ok {
			t.in.UserID = ""
			return t
		}
		if act, ok := bot.ParseAction(data.CustomID); ok {
			t.in.Action = &act
		} else {
			t.unknownButton = true
		}
		t.disable = i.Message != nil && oneShot(i.Message.Components)
		if a := t.in.Action; a != nil && !t.inGuild && (a.Kind == bot.ActWipe || a.Kind == bot.ActDeleteWipe) {
			// The wipe deletes the message with the buttons: the answer
			// comes as a new message rather than as an update of it.
			t.disable = false
		}
	}
	return t
}

// optionText is an option's value as the engine reads it after a command.
func optionText(v any) string {
	switch v := v.(type) {
	case string:
		return strings.Join(strings.Fields(v), " ")
	case float64: // JSON numbers
		if v == math.Trunc(v) && math.Abs(v) < 1e15 {
			return strconv.FormatInt(int64(v), 10)
		}
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	}
	return ""
}

// oneShot reports whether a message's buttons answer a one-time question.
func oneShot(comps []discordgo.MessageComponent) bool {
	found := false
	walkButtons(comps, func(b *discordgo.Button) {
		if act, ok := bot.ParseAction(b.CustomID); ok {
			switch act.Kind {
			case bot.ActDeleteConfirm, bot.ActDeleteCancel, bot.ActRestart, bot.ActRole,
				bot.ActWipe, bot.ActWipeCancel, bot.ActDeleteWipe, bot.ActPace, bot.ActDiscreet, bot.ActMood:
				found = true
			}
		}
	})
	return found
}

func walkButtons(comps []discordgo.MessageComponent, f func(*discordgo.Button)) {
	for _, c := range comps {
		switch c := c.(type) {
		case *discordgo.ActionsRow:
			walkButtons(c.Components, f)
		case discordgo.ActionsRow:
			walkButtons(c.Components, f)
		case *discordgo.Button:
			f(c)
		case discordgo.Button:
			f(&c)
		}
	}
}

// disabled copies a message's buttons, all disabled.
func disabled(comps []discordgo.MessageComponent) []discordgo.MessageComponent {
	out := []discordgo.MessageComponent{}
	for _, c := range comps {
		var row []discordgo.MessageComponent
		switch c := c.(type) {
		case *discordgo.ActionsRow:
			row = c.Components
		case discordgo.ActionsRow:
			row = c.Components
		default:
			continue
		}
		var btns []discordgo.MessageComponent
		walkButtons(row, func(b *discordgo.Button) {
			cp := *b
			cp.Disabled = true
			btns = append(btns, cp)
		})
		if len(btns) > 0 {
			out = append(out, discordgo.ActionsRow{Components: btns})
		}
	}
	return out
}

// ack makes sure an interaction is acknowledged within Discord's 3
// seconds: either with the answer itself, or, when the engine is slow
// (storage under load), with a deferral that the answer later edits.
type ack struct {
	a     *Adapter
	t     *turn
	timer *time.Timer

	mu       sync.Mutex
	deferred bool
	answered bool
}

// deferNow acknowledges the interaction without an answer yet, unless the
// answer went out already.
func (k *ack) deferNow() {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.answered || k.deferred {
		return
	}
	k.deferred = true
	resp := &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredChannelMessageWithSource}
	if k.t.disable {
		resp.Type = discordgo.InteractionResponseDeferredMessageUpdate
	} else if k.t.ephemeral(false) {
		resp.Data = &discordgo.InteractionResponseData{Flags: discordgo.MessageFlagsEphemeral}
	}
	ctx, cancel := context.WithTimeout(k.a.base, 5*time.Second)
	defer cancel()
	if err := callErr(ctx, k.a, k.t.i.Token, func(opts ...discordgo.RequestOption) error {
		return k.a.s.InteractionRespond(k.t.i, resp, opts...)
	}); err != nil {
		k.a.log.Warn("discord: defer interaction", "err", err)
	}
}

// finish stops the deferral timer and reports whether the interaction was
// deferred. Once it returns, deferNow does nothing.
func (k *ack) finish() (deferred bool) {
	k.timer.Stop()
	k.mu.Lock()
	defer k.mu.Unlock()
	k.answered = true
	return k.deferred
}

// ephemeral reports whether a message of this turn is shown only to the
// person: in a server, everything but a public /step, and anything
// personal in any case.
func (t *turn) ephemeral(personal bool) bool {
	return t.inGuild && (t.in.Private || personal)
}

func (t *turn) flags(personal bool) discordgo.MessageFlags {
	f := discordgo.MessageFlagsSuppressEmbeds
	if t.ephemeral(personal) {
		f |= discordgo.MessageFlagsEphemeral
	}
	return f
}

// interactionTurn runs the engine for one interaction and answers it.
func (a *Adapter) interactionTurn(t *turn, k *ack) {
	ctx, cancel := context.WithTimeout(a.base, turnTimeout)
	defer cancel()
	var msgs []outMsg
	if t.unknownButton {
		msgs = outgoing([]bot.Reply{{Text: bot.Text{{Text: "That button no longer does anything. /step shows where you are."}}}}, a.log)
	} else {
		replies, err := a.engine.Handle(ctx, t.in)
		if err != nil {
			a.log.Error("discord: handle interaction", "err", err)
		}
		msgs = outgoing(replies, a.log)
	}
	if t.inGuild && !t.in.Private {
		// A message everyone sees carries no buttons: anyone could press them.
		for i := range msgs {
			if !msgs[i].personal {
				msgs[i].buttons = nil
			}
		}
	}
	deferred := k.finish()
	sent, err := a.answer(ctx, t, msgs, deferred)
	if err != nil {
		a.log.Warn("discord: answer interaction", "err", err)
	}
	if !t.inGuild { // a DM: recorded for /wipe
		a.remember(ctx, t.i.ChannelID, "", sent)
	}
}

// answer sends msgs as the interaction's response and follow-ups, and
// returns the ids of the messages it created (in a DM, when recording).
func (a *Adapter) answer(ctx context.Context, t *turn, msgs []outMsg, deferred bool) ([]string, error) {
	i, tok := t.i, t.i.Token
	respond := func(r *discordgo.InteractionResponse) error {
		return callErr(ctx, a, tok, func(opts ...discordgo.RequestOption) error { return a.s.InteractionRespond(i, r, opts...) })
	}
	if t.disable {
		comps := disabled(i.Message.Components)
		var err error
		if deferred {
			_, err = call(ctx, a, tok, func(opts ...discordgo.RequestOption) (*discordgo.Message, error) {
				return a.s.InteractionResponseEdit(i, &discordgo.WebhookEdit{Components: &comps, AllowedMentions: noMentions()}, opts...)
			})
		} else {
			// The message keeps its text; only its buttons change.
			err = respond(&discordgo.InteractionResponse{Type: discordgo.InteractionResponseUpdateMessage, Data: &discordgo.InteractionResponseData{
				Content: i.Message.Content, Components: comps, AllowedMentions: noMentions(),
			}})
		}
		switch {
		case err == nil:
			return a.followUps(ctx, t, msgs)
		case !isCode(err, discordgo.ErrCodeUnknownMessage):
			return nil, fmt.Errorf("disable used buttons: %w", err)
		case deferred:
			// The message is gone (deleted by /wipe): the answer comes as
			// new messages.
			return a.followUps(ctx, t, msgs)
		}
		// Gone, and the interaction not yet acknowledged: answer it with
		// a new message below.
	}
	if len(msgs) == 0 {
		if deferred {
			return nil, callErr(ctx, a, tok, func(opts ...discordgo.RequestOption) error { return a.s.InteractionResponseDelete(i, opts...) })
		}
		if t.i.Type == discordgo.InteractionMessageComponent {
			return nil, respond(&discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredMessageUpdate})
		}
		msgs = outgoing([]bot.Reply{{Text: bot.Text{{Text: "Nothing to show here. /help lists what I can do."}}}}, a.log)
	}
	first := msgs[0]
	if !deferred {
		_, err := sendCall(ctx, a, tok, func(opts ...discordgo.RequestOption) (struct{}, error) {
			return struct{}{}, a.s.InteractionRespond(i, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseChannelMessageWithSource, Data: &discordgo.InteractionResponseData{
				Content: first.content, Components: components(first.buttons), Files: first.files(),
				AllowedMentions: noMentions(), Flags: t.flags(first.personal),
			}}, opts...)
		})
		if err != nil {
			return nil, fmt.Errorf("respond: %w", err)
		}
		sent := a.originalID(ctx, t)
		more, err := a.followUps(ctx, t, msgs[1:])
		return append(sent, more...), err
	}
	// Deferred: the "thinking…" message is ephemeral or not already; the
	// first message replaces it if it has the same visibility.
	if t.ephemeral(first.personal) != t.ephemeral(false) {
		sent, err := a.followUps(ctx, t, msgs)
		if err != nil {
			return sent, err
		}
		return sent, callErr(ctx, a, tok, func(opts ...discordgo.RequestOption) error { return a.s.InteractionResponseDelete(i, opts...) })
	}
	comps := components(first.buttons)
	content := first.content
	edited, err := sendCall(ctx, a, tok, func(opts ...discordgo.RequestOption) (*discordgo.Message, error) {
		return a.s.InteractionResponseEdit(i, &discordgo.WebhookEdit{
			Content: &content, Components: &comps, Files: first.files(), AllowedMentions: noMentions(),
		}, opts...)
	})
	if err != nil {
		return nil, fmt.Errorf("edit deferred response: %w", err)
	}
	sent := []string{edited.ID}
	more, err := a.followUps(ctx, t, msgs[1:])
	return append(sent, more...), err
}

// originalID returns the id of the interaction's response message in a
// DM, for /wipe (Discord does not return it with the response); nil when
// nothing is recorded, in a server, or when it cannot be had.
func (a *Adapter) originalID(ctx context.Context, t *turn) []string {
	if a.msgs == nil || t.inGuild {
		return nil
	}
	m, err := call(ctx, a, t.i.Token, func(opts ...discordgo.RequestOption) (*discordgo.Message, error) {
		return a.s.InteractionResponse(t.i, opts...)
	})
	if err != nil {
		a.log.Warn("discord: get the response's id for /wipe; /wipe will leave that message", "err", err)
		return nil
	}
	return []string{m.ID}
}

// followUps sends msgs as follow-up messages and returns their ids.
func (a *Adapter) followUps(ctx context.Context, t *turn, msgs []outMsg) ([]string, error) {
	var sent []string
	for _, m := range msgs {
		msg, err := sendCall(ctx, a, t.i.Token, func(opts ...discordgo.RequestOption) (*discordgo.Message, error) {
			return a.s.FollowupMessageCreate(t.i, true, &discordgo.WebhookParams{
				Content: m.content, Components: components(m.buttons), Files: m.files(),
				AllowedMentions: noMentions(), Flags: t.flags(m.personal),
			}, opts...)
		})
		if err != nil {
			return sent, fmt.Errorf("follow-up: %w", err)
		}
		sent = append(sent, msg.ID)
	}
	return sent, nil
}

// autocomplete answers /timezone's suggestions.
func (a *Adapter) autocomplete(i *discordgo.Interaction) {
	data, ok := i.Data.(discordgo.ApplicationCommandInteractionData)
	if !ok {
		return
	}
	query := ""
	for _, o := range data.Options {
		if o != nil && o.Focused {
			query, _ = o.Value.(string)
		}
	}
	var choices []*discordgo.ApplicationCommandOptionChoice
	if data.Name == "timezone" {
		for _, z := range matchZones(query, 25) {
			choices = append(choices, &discordgo.ApplicationCommandOptionChoice{Name: z, Value: z})
		}
	}
	ctx, cancel := context.WithTimeout(a.base, 3*time.Second)
	defer cancel()
	err := callErr(ctx, a, i.Token, func(opts ...discordgo.RequestOption) error {
		return a.s.InteractionRespond(i, &discordgo.InteractionResponse{
			Type: discordgo.InteractionApplicationCommandAutocompleteResult,
			Data: &discordgo.InteractionResponseData{Choices: choices},
		}, opts...)
	})
	if err != nil {
		a.log.Warn("discord: answer autocomplete", "err", err)
	}
}
