package discord

// The quick wipe (/wipe): the adapter records the id of every message in a
// person's direct-message channel with the bot, and deletes its own when
// asked. Discord lets a bot delete its own messages at any age, but never
// a person's in a DM: those are counted so that the engine can say they
// remain.

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/trustbot/trustbot/bot"
)

// MessageLog keeps the ids (never the text) of the messages in DM channels
// for 48 hours, so that Wipe can delete them. storage.Store implements it.
type MessageLog interface {
	// RecordMessages records messages of the channel; a zero At is now.
	RecordMessages(ctx context.Context, p bot.Platform, chatID string, ms []bot.ChatMessage) error
	// RecentMessages returns the channel's messages recorded at or after
	// since, oldest first.
	RecentMessages(ctx context.Context, p bot.Platform, chatID string, since time.Time) ([]bot.ChatMessage, error)
	// ForgetMessages deletes the records of these ids.
	ForgetMessages(ctx context.Context, p bot.Platform, chatID string, ids []string) error
}

var _ bot.Wiper = (*Adapter)(nil)

// recordTimeout bounds one write of message ids.
const recordTimeout = 10 * time.Second

// remember records the messages of one turn in a DM channel, in one
// write: the person's message (theirs, "" for none) and the bot's (sent).
// Server channels are never recorded: /wipe is for the private chat.
func (a *Adapter) remember(ctx context.Context, channelID, theirs string, sent []string) {
	if a.msgs == nil || channelID == "" || (theirs == "" && len(sent) == 0) {
		return
	}
	ms := make([]bot.ChatMessage, 0, len(sent)+1)
	if theirs != "" {
		ms = append(ms, bot.ChatMessage{ID: theirs})
	}
	for _, id := range sent {
		ms = append(ms, bot.ChatMessage{ID: id, FromBot: true})
	}
	// The messages are in the channel whatever happens to the turn.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	if err := a.msgs.RecordMessages(ctx, bot.PlatformDiscord, channelID, ms); err != nil {
		a.log.Error("discord: record message ids for /wipe; /wipe will leave these messages", "count", len(ms), "err", err)
	}
}

// Wipe deletes the bot's recorded messages in the person's DM channel
// from since on, oldest first, and forgets the ones deleted. The person's
// own messages are not touched (a bot cannot delete them in a DM) and are
// counted as TheirsKept; a message Discord refuses to delete counts as
// Failed, one already gone as removed. /wipe given in a server clears the
// DM channel too: that is where the private conversation is. It returns
// an error when it could not finish (Discord unreachable, rate limited for
// too long, ctx done), with the counts so far.
func (a *Adapter) Wipe(ctx context.Context, chat bot.Address, since time.Time) (bot.WipeResult, error) {
	var res bot.WipeResult
	if chat.Platform != "" && chat.Platform != bot.PlatformDiscord {
		return res, bot.Errorf(bot.EINVALID, "discord cannot clear a %s chat", chat.Platform)
	}
	if a.msgs == nil {
		return res, errors.New("discord: cannot clear a chat: no message log (Options.Messages) to find its messages in")
	}
	channel := chat.ChatID
	if chat.UserID != "" {
		if !snowflake.MatchString(chat.UserID) {
			return res, bot.Errorf(bot.EINVALID, "discord: %q is not a Discord user id", chat.UserID)
		}
		ch, err := a.dmChannel(ctx, chat.UserID)
		if err != nil {
			return res, fmt.Errorf("discord: clear a chat: open the DM channel: %w", classify(err))
		}
		channel = ch
	}
	ms, err := a.msgs.RecentMessages(ctx, bot.PlatformDiscord, channel, since)
	if err != nil {
		return res, fmt.Errorf("discord: clear a chat: %w", err)
	}
	// Oldest first: snowflakes grow with time.
	slices.SortFunc(ms, func(x, y bot.ChatMessage) int {
		i, _ := strconv.ParseUint(x.ID, 10, 64)
		j, _ := strconv.ParseUint(y.ID, 10, 64)
		return cmp.Compare(i, j)
	})
	var forget []string
	defer func() { a.forget(ctx, channel, forget) }()
	for _, m := range ms {
		if !m.FromBot {
			res.TheirsKept++
			continue
		}
		err := callErr(ctx, a, "", func(opts ...discordgo.RequestOption) error {
			return a.s.ChannelMessageDelete(channel, m.ID, opts...)
		})
		switch {
		case err == nil, isCode(err, discordgo.ErrCodeUnknownMessage):
			res.Removed++
			forget = append(forget, m.ID)
		case refused(err):
			a.log.Debug("discord: message not deleted", "err", err)
			res.Failed++
		default:
			return res, fmt.Errorf("discord: clear a chat: delete a message: %w", classify(err))
		}
	}
	if res.Failed > 0 {
		a.log.Info("discord: /wipe could not delete some messages", "removed", res.Removed, "refused", res.Failed)
	}
	return res, nil
}

// isCode reports a REST error with Discord's JSON error code.
func isCode(err error, code int) bool {
	re := restError(err)
	return re != nil && re.Message != nil && re.Message.Code == code
}

// refused reports Discord refusing to delete one message (403: a DM
// action it does not allow, missing permissions; 400: a system message),
// as opposed to a failure that would stop any delete.
func refused(err error) bool {
	re := restError(err)
	if re == nil {
		return false
	}
	switch re.Response.StatusCode {
	case http.StatusForbidden, http.StatusBadRequest, http.StatusNotFound:
		return true
	}
	return false
}

// forget drops the records of deleted messages; it runs even when ctx is
// done, since the messages are gone.
func (a *Adapter) forget(ctx context.Context, channelID string, ids []string) {
	if len(ids) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	if err := a.msgs.ForgetMessages(ctx, bot.PlatformDiscord, channelID, ids); err != nil {
		a.log.Error("discord: forget deleted message ids", "count", len(ids), "err", err)
	}
}
