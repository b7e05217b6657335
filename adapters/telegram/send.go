package telegram

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/trustbot/trustbot/bot"
)

// Send delivers replies to a person outside a conversation turn (the daily
// prompt), paced and retried like every reply. It returns an *bot.Error
// with code EUNREACHABLE when Telegram says the person cannot be messaged
// (they blocked the bot, deleted their account, or the chat is gone; the
// caller marks them unreachable), ETRANSIENT when retries ran out or ctx
// ended first, and EINVALID for an address that is not a Telegram private
// chat when a reply is Personal: a personal reply is never posted into a
// group. Replies already delivered before a failure stay delivered.
func (a *Adapter) Send(ctx context.Context, to bot.Address, replies []bot.Reply) error {
	if to.Platform != "" && to.Platform != bot.PlatformTelegram {
		return bot.Errorf(bot.EINVALID, "telegram cannot deliver to a %s address", to.Platform)
	}
	chatID, err := strconv.ParseInt(to.ChatID, 10, 64)
	if err != nil || chatID == 0 {
		return bot.Errorf(bot.EINVALID, "telegram: chat id %q is not a Telegram chat id", to.ChatID)
	}
	// A private chat's id is the person's user id; groups have negative ids.
	private := chatID > 0 && (to.UserID == "" || to.UserID == to.ChatID)
	if !private {
		for _, r := range replies {
			if r.Personal {
				a.log.Error("telegram: refused to post a personal reply into a group chat", "chat", chatID)
				return bot.Errorf(bot.EINVALID, "telegram: refusing to send a personal reply to chat %d, which is not the person's private chat", chatID)
			}
		}
	}
	var sent []int
	// Whatever went out is recorded for /wipe, also when a later part failed.
	defer func() { a.remember(chat{id: chatID, private: private}, 0, sent) }()
	for _, m := range plan(replies, private, a.username) {
		id, err := a.deliver(ctx, chatID, m)
		if err == nil {
			sent = append(sent, id)
			continue
		}
		var se *sendError
		if !errors.As(err, &se) {
			return err
		}
		switch se.kind {
		case failUnreachable:
			return bot.Errorf(bot.EUNREACHABLE, "telegram: %s", se.desc)
		case failTransient:
			return bot.Errorf(bot.ETRANSIENT, "telegram: %s", se.desc)
		default:
			return fmt.Errorf("telegram: %s refused: %s", se.method, se.desc)
		}
	}
	return nil
}
