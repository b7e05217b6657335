package discord

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"github.com/trustbot/trustbot/bot"
)

// Discord's limits on components.
const (
	maxCustomID      = 100
	maxLabel         = 80
	maxButtonsPerRow = 5
	maxRows          = 5
)

// Rate limits: discordgo's bucket limiter waits before requests it knows
// will be limited; a 429 that happens anyway is retried here, a bounded
// number of times and never for longer than maxRateWait each, instead of
// discordgo's unbounded sleep-and-retry.
const (
	maxRateRetries = 3
	maxRateWait    = 15 * time.Second
)

// noMentions is sent with every message: nothing in it pings anyone.
func noMentions() *discordgo.MessageAllowedMentions {
	return &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{}}
}

// outMsg is one Discord message to send.
type outMsg struct {
	content  string
	buttons  [][]bot.Button
	doc      *bot.Document
	personal bool
}

// outgoing renders replies as Discord messages: long texts are split, and
// a reply's buttons and document go with its last message.
func outgoing(replies []bot.Reply, log *slog.Logger) []outMsg {
	var out []outMsg
	for _, r := range replies {
		chunks := renderText(r.Text, MaxMessageLen)
		if len(chunks) == 0 {
			if r.Doc == nil && len(r.Buttons) == 0 {
				continue
			}
			chunks = []string{""}
		}
		for i, c := range chunks {
			m := outMsg{content: c, personal: r.Personal}
			if i == len(chunks)-1 {
				m.buttons, m.doc = r.Buttons, r.Doc
			}
			out = append(out, m)
		}
	}
	for i := range out {
		if out[i].content == "" && out[i].doc == nil {
			out[i].content = "\u200b" // a message needs some content
		}
		checkButtons(out[i].buttons, log)
	}
	return out
}

func checkButtons(rows [][]bot.Button, log *slog.Logger) {
	for _, row := range rows {
		for _, b := range row {
			if n := len(b.Action.String()); n > maxCustomID {
				log.Error("discord: a button's action is too long for a custom_id; it is left out", "action", b.Action.Kind, "len", n)
			}
		}
	}
}

// components turns rows of buttons into Discord action rows.
func components(rows [][]bot.Button) []discordgo.MessageComponent {
	out := []discordgo.MessageComponent{}
	for _, row := range rows {
		var cur []discordgo.MessageComponent
		for _, b := range row {
			id := b.Action.String()
			if len(id) > maxCustomID {
				continue
			}
			if len(cur) == maxButtonsPerRow {
				out = append(out, discordgo.ActionsRow{Components: cur})
				cur = nil
			}
			cur = append(cur, discordgo.Button{Label: label(b.Label), Style: buttonStyle(b.Action), CustomID: id})
		}
		if len(cur) > 0 {
			out = append(out, discordgo.ActionsRow{Components: cur})
		}
	}
	if len(out) > maxRows {
		out = out[:maxRows]
	}
	return out
}

func label(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return "…"
	}
	if utf8.RuneCountInString(s) > maxLabel {
		r := []rune(s)
		return string(r[:maxLabel-1]) + "…"
	}
	return s
}

func buttonStyle(a bot.Action) discordgo.ButtonStyle {
	switch a.Kind {
	case bot.ActDeleteConfirm:
		return discordgo.DangerButton
	case bot.ActDeleteCancel:
		return discordgo.SecondaryButton
	}
	return discordgo.PrimaryButton
}

// files returns a fresh reader for the document on every call, so that a
// retried request sends it again.
func (m outMsg) files() []*discordgo.File {
	if m.doc == nil {
		return nil
	}
	mime := m.doc.MIME
	if mime == "" {
		mime = "application/octet-stream"
	}
	return []*discordgo.File{{Name: m.doc.Name, ContentType: mime, Reader: bytes.NewReader(m.doc.Data)}}
}

// sendMessage posts m to a channel and returns the message's id.
func (a *Adapter) sendMessage(ctx context.Context, channelID string, m outMsg) (string, error) {
	msg, err := sendCall(ctx, a, "", func(opts ...discordgo.RequestOption) (*discordgo.Message, error) {
		return a.s.ChannelMessageSendComplex(channelID, &discordgo.MessageSend{
			Content: m.content, Components: components(m.buttons), Files: m.files(),
			AllowedMentions: noMentions(), Flags: discordgo.MessageFlagsSuppressEmbeds,
		}, opts...)
	})
	if err != nil {
		return "", err
	}
	return msg.ID, nil
}

// Send delivers replies to a person by direct message, e.g. a daily prompt.
// It returns an error with code bot.EUNREACHABLE when Discord says the
// person cannot be messaged (50007 "Cannot send messages to this user",
// any 403, an unknown user or channel); it then also marks them
// unreachable through the engine, which is harmless to repeat. Rate limits
// and outages give bot.ETRANSIENT.
func (a *Adapter) Send(ctx context.Context, to bot.Address, replies []bot.Reply) error {
	if to.Platform != bot.PlatformDiscord && to.Platform != "" {
		return fmt.Errorf("discord: cannot send to a %s user", to.Platform)
	}
	if !snowflake.MatchString(to.UserID) {
		return fmt.Errorf("discord: %q is not a Discord user id", to.UserID)
	}
	err := a.send(ctx, to.UserID, replies)
	if err == nil {
		return nil
	}
	coded := classify(err)
	if bot.ErrorCode(coded) == bot.EUNREACHABLE {
		a.forgetDM(to.UserID)
		if merr := a.engine.MarkUnreachable(ctx, bot.PlatformDiscord, to.UserID); merr != nil {
			a.log.Error("discord: mark unreachable", "err", merr)
		}
	}
	return coded
}

func (a *Adapter) send(ctx context.Context, userID string, replies []bot.Reply) error {
	ch, err := a.dmChannel(ctx, userID)
	if err != nil {
		return fmt.Errorf("open a DM channel: %w", err)
	}
	var sent []string
	// What went out is recorded for /wipe, also when a later part failed.
	defer func() { a.remember(ctx, ch, "", sent) }()
	for _, m := range outgoing(replies, a.log) {
		id, err := a.sendMessage(ctx, ch, m)
		if err != nil {
			return fmt.Errorf("send a DM: %w", err)
		}
		sent = append(sent, id)
	}
	return nil
}

// dmChannel returns the DM channel with a person, opening it if needed
// (Discord returns the same channel every time; it is cached).
func (a *Adapter) dmChannel(ctx context.Context, userID string) (string, error) {
	a.dmMu.Lock()
	id, ok := a.dm[userID]
	a.dmMu.Unlock()
	if ok {
		return id, nil
	}
	ch, err := call(ctx, a, "", func(opts ...discordgo.RequestOption) (*discordgo.Channel, error) {
		return a.s.UserChannelCreate(userID, opts...)
	})
	if err != nil {
		return "", err
	}
	a.dmMu.Lock()
	if len(a.dm) >= dmCacheSize {
		clear(a.dm)
	}
	a.dm[userID] = ch.ID
	a.dmMu.Unlock()
	return ch.ID, nil
}

func (a *Adapter) forgetDM(userID string) {
	a.dmMu.Lock()
	delete(a.dm, userID)
	a.dmMu.Unlock()
}

// call runs one REST request with ctx, retrying a 429 a few times after
// the wait Discord asks for. secret (an interaction token, which is part
// of the URL) is removed from the error.
func call[T any](ctx context.Context, a *Adapter, secret string, fn func(opts ...discordgo.RequestOption) (T, error)) (T, error) {
	return try(ctx, a, secret, false, fn)
}

// sendCall is call for a request that delivers a message to a person: each
// try is counted in Metrics, as sent or failed by kind.
func sendCall[T any](ctx context.Context, a *Adapter, secret string, fn func(opts ...discordgo.RequestOption) (T, error)) (T, error) {
	return try(ctx, a, secret, true, fn)
}

func try[T any](ctx context.Context, a *Adapter, secret string, message bool, fn func(opts ...discordgo.RequestOption) (T, error)) (T, error) {
	for attempt := 0; ; attempt++ {
		v, err := fn(discordgo.WithContext(ctx), discordgo.WithRetryOnRatelimit(false))
		a.observe(err, secret == "", message)
		var rl *discordgo.RateLimitError
		if err != nil && errors.As(err, &rl) && attempt < maxRateRetries && rl.RetryAfter <= maxRateWait {
			a.log.Info("discord: rate limited; retrying", "after", rl.RetryAfter)
			t := time.NewTimer(rl.RetryAfter)
			select {
			case <-t.C:
				continue
			case <-ctx.Done():
				t.Stop()
				return v, redact(err, secret)
			}
		}
		return v, redact(err, secret)
	}
}

func callErr(ctx context.Context, a *Adapter, secret string, fn func(opts ...discordgo.RequestOption) error) error {
	_, err := call(ctx, a, secret, func(opts ...discordgo.RequestOption) (struct{}, error) {
		return struct{}{}, fn(opts...)
	})
	return err
}

// redactedError hides a secret in an error's text and keeps the error for
// errors.As.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

func redact(err error, secret string) error {
	if err == nil || secret == "" || !strings.Contains(err.Error(), secret) {
		return err
	}
	return &redactedError{msg: strings.ReplaceAll(err.Error(), secret, "[token]"), err: err}
}

// restError returns the REST error in err's chain, if any.
func restError(err error) *discordgo.RESTError {
	var re *discordgo.RESTError
	if errors.As(err, &re) && re.Response != nil {
		return re
	}
	return nil
}

func isStatus(err error, status int) bool {
	re := restError(err)
	return re != nil && re.Response.StatusCode == status
}

// classify gives a delivery error its bot.Error code.
func classify(err error) error {
	var rl *discordgo.RateLimitError
	if errors.As(err, &rl) {
		return fmt.Errorf("%w: %v", bot.Errorf(bot.ETRANSIENT, "Discord is rate limiting us"), err)
	}
	if re := restError(err); re != nil {
		code := 0
		if re.Message != nil {
			code = re.Message.Code
		}
		switch {
		case code == discordgo.ErrCodeCannotSendMessagesToThisUser, re.Response.StatusCode == http.StatusForbidden,
			code == discordgo.ErrCodeUnknownUser, code == discordgo.ErrCodeUnknownChannel,
			code == discordgo.ErrCodeUnknownAccount, code == discordgo.ErrCodeInvalidRecipients:
			return fmt.Errorf("%w: %v", bot.Errorf(bot.EUNREACHABLE, "Discord cannot deliver to this person"), err)
		case re.Response.StatusCode >= 500 || re.Response.StatusCode == http.StatusTooManyRequests:
			return fmt.Errorf("%w: %v", bot.Errorf(bot.ETRANSIENT, "Discord had a problem"), err)
		}
		return err // e.g. 401: the operator's problem, logged by the caller
	}
	if errors.Is(err, context.Canceled) {
		return err
	}
	// Network trouble, timeouts, a 502 after discordgo's retries.
	return fmt.Errorf("%w: %v", bot.Errorf(bot.ETRANSIENT, "Discord could not be reached"), err)
}
