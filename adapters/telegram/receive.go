package telegram

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/trustbot/trustbot/bot"
)

// queues keeps the updates of each chat in order: one goroutine per chat
// with work, which exits when its queue is empty. Different chats proceed
// concurrently.
type queues struct {
	mu    sync.Mutex
	m     map[int64]*chatQueue
	wg    sync.WaitGroup
	depth atomic.Int64 // updates queued, not yet being handled
}

type chatQueue struct {
	items []*models.Update
}

func (q *queues) init() { q.m = map[int64]*chatQueue{} }

// wait returns when every queue is empty and its goroutine has exited.
func (q *queues) wait() { q.wg.Wait() }

// enqueue hands u to the goroutine of its chat. It never blocks on
// handling, so polling and webhook requests return at once.
func (a *Adapter) enqueue(u *models.Update) {
	key, ok := chatKey(u)
	if !ok {
		if a.marks != nil {
			a.marks.mark(u.ID) // nothing to do: out of the inbox
		}
		return // an update type we did not ask for
	}
	a.metrics.UpdateReceived()
	q := &a.queues
	q.mu.Lock()
	defer q.mu.Unlock()
	cq := q.m[key]
	if cq == nil {
		cq = &chatQueue{}
		q.m[key] = cq
		q.wg.Add(1)
		go a.work(key, cq)
	}
	cq.items = append(cq.items, u)
	q.depth.Add(1)
}

func (a *Adapter) work(key int64, cq *chatQueue) {
	q := &a.queues
	defer q.wg.Done()
	dropped := 0
	for {
		q.mu.Lock()
		if len(cq.items) == 0 {
			delete(q.m, key)
			q.mu.Unlock()
			if dropped > 0 {
				a.log.Warn("telegram: updates left unhandled at shutdown", "chat", key, "count", dropped)
			}
			return
		}
		u := cq.items[0]
		cq.items[0] = nil
		cq.items = cq.items[1:]
		q.depth.Add(-1)
		q.mu.Unlock()
		if a.workCtx.Err() != nil {
			dropped++
			continue
		}
		a.handleSafely(a.workCtx, u)
	}
}

// handleSafely handles u, and survives a panic while doing so: one bad
// update must not take the bot down for everyone.
func (a *Adapter) handleSafely(ctx context.Context, u *models.Update) {
	defer func() {
		if r := recover(); r != nil {
			a.log.Error("telegram: panic while handling an update", "update", u.ID, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
		}
	}()
	a.handleUpdate(ctx, u)
}

// chatKey is the chat an update belongs to, for ordering: the chat of its
// message, or the person for updates without one.
func chatKey(u *models.Update) (int64, bool) {
	switch {
	case u.Message != nil:
		return u.Message.Chat.ID, true
	case u.EditedMessage != nil:
		return u.EditedMessage.Chat.ID, true
	case u.CallbackQuery != nil:
		if c, _, ok := callbackChat(u.CallbackQuery); ok {
			return c.ID, true
		}
		return u.CallbackQuery.From.ID, true
	case u.MyChatMember != nil:
		return u.MyChatMember.Chat.ID, true
	}
	return 0, false
}

// handleUpdate handles one update, once: an update already handled (a
// webhook retry, a poll replayed after a restart) is dropped.
func (a *Adapter) handleUpdate(ctx context.Context, u *models.Update) {
	if a.marks != nil {
		seen, err := a.marks.handled(ctx, u.ID)
		if err != nil {
			// Better to risk answering twice than not at all.
			a.log.Error("telegram: check update log", "update", u.ID, "err", err)
		} else if seen {
			a.log.Debug("telegram: dropped a repeated update", "update", u.ID)
			// Marked again: a repeat may have been stored in the inbox.
			a.marks.mark(u.ID)
			return
		}
	}
	t := &turn{a: a, id: u.ID}
	defer t.markHandled()
	switch {
	case u.Message != nil:
		a.onMessage(ctx, t, u.Message)
	case u.CallbackQuery != nil:
		a.onCallback(ctx, t, u.CallbackQuery)
	case u.EditedMessage != nil:
		a.onEdited(ctx, u.EditedMessage)
	case u.MyChatMember != nil:
		a.onMyChatMember(ctx, u.MyChatMember)
	}
}

// turn is the handling of one update.
type turn struct {
	a      *Adapter
	id     int64
	marked bool
}

// markHandled records the update as handled. It runs as soon as the engine
// has answered (its changes are stored), before the replies are sent: a
// crash while sending must not make a replay store a reflection twice.
func (t *turn) markHandled() {
	if t.marked || t.a.marks == nil {
		return
	}
	t.marked = true
	t.a.marks.mark(t.id)
}

// chat is where replies go.
type chat struct {
	id      int64
	private bool
}

func chatOf(c models.Chat) chat {
	return chat{id: c.ID, private: c.Type == models.ChatTypePrivate}
}

// Kind replies to what the bot cannot use.
const (
	editedReply = "I keep each message as you first sent it, so edits don't change your journal. If you'd like to add something, just send it as a new message."
	mediaReply  = "I can only read text. If you'd like to keep something in your journal, please write it out as a message."
)

func (a *Adapter) onMessage(ctx context.Context, t *turn, m *models.Message) {
	if m.From == nil || m.From.IsBot || m.Chat.Type == models.ChatTypeChannel {
		return
	}
	c := chatOf(m.Chat)
	if m.Text == "" {
		if c.private && hasMedia(m) {
			a.sendKind(ctx, c, m.From.ID, m.ID, mediaReply)
		}
		return // service messages (joins, pins...) and media in groups
	}
	text := m.Text
	if cmd, ok := bot.ParseCommand(text); ok {
		// In a group, "/step@otherbot" is for another bot.
		if !c.private && cmd.Mention != "" && !strings.EqualFold(cmd.Mention, a.username) {
			return
		}
		text = "/" + cmd.Name
		if cmd.Args != "" {
			text += " " + cmd.Args
		}
	} else if !c.private {
		return // plain text in a group is never read or stored
	}
	a.converse(ctx, t, c, m.ID, bot.Incoming{
		Platform: bot.PlatformTelegram, UserID: strconv.FormatInt(m.From.ID, 10),
		ChatID: strconv.FormatInt(c.id, 10), Private: c.private, Name: m.From.FirstName, Text: text,
		MessageID: strconv.Itoa(m.ID),
	})
}

// hasMedia reports a message carrying something other than text.
func hasMedia(m *models.Message) bool {
	return m.Photo != nil || m.Sticker != nil || m.Voice != nil || m.Audio != nil ||
		m.Video != nil || m.VideoNote != nil || m.Document != nil || m.Animation != nil ||
		m.Location != nil || m.Contact != nil || m.Poll != nil || m.Venue != nil || m.Dice != nil
}

func (a *Adapter) onEdited(ctx context.Context, m *models.Message) {
	if m.From == nil || m.From.IsBot || m.Chat.Type != models.ChatTypePrivate || m.Text == "" {
		return
	}
	// The edited message keeps its id, recorded when it was first sent.
	a.sendKind(ctx, chatOf(m.Chat), m.From.ID, 0, editedReply)
}

// onMyChatMember notices a person blocking the bot (or stopping it) in
// their private chat.
func (a *Adapter) onMyChatMember(ctx context.Context, u *models.ChatMemberUpdated) {
	if u.Chat.Type != models.ChatTypePrivate {
		return
	}
	// "kicked" is what a private chat reports when the person blocks the bot.
	if u.NewChatMember.Type == models.ChatMemberTypeBanned {
		a.markUnreachable(ctx, u.From.ID)
	}
}

// callbackChat returns the chat and message id a button press came from.
func callbackChat(q *models.CallbackQuery) (models.Chat, int, bool) {
	switch {
	case q.Message.Message != nil:
		return q.Message.Message.Chat, q.Message.Message.ID, true
	case q.Message.InaccessibleMessage != nil:
		return q.Message.InaccessibleMessage.Chat, q.Message.InaccessibleMessage.MessageID, true
	}
	return models.Chat{}, 0, false
}

// Buttons are removed once pressed when pressing twice would do it twice
// (Next would skip a step), and a question or confirmation loses all its
// buttons at the first answer, whichever it is ("Stay on step 3" must not
// leave "Start again" live).
var (
	oneShot = map[bot.ActionKind]bool{
		bot.ActRole: true, bot.ActNext: true, bot.ActDeleteConfirm: true,
		bot.ActDeleteCancel: true, bot.ActRestart: true, bot.ActPause: true,
		bot.ActWipe: true, bot.ActWipeCancel: true, bot.ActDeleteWipe: true, bot.ActMood: true,
	}
	question = map[bot.ActionKind]bool{
		bot.ActRole: true, bot.ActDeleteConfirm: true, bot.ActDeleteCancel: true, bot.ActRestart: true,
		bot.ActWipe: true, bot.ActWipeCancel: true, bot.ActDeleteWipe: true, bot.ActMood: true, bot.ActPace: true,
	}
)

// usedUp reports whether pressing a on the message with keyboard kb uses
// the keyboard up.
func usedUp(a bot.Action, kb *models.InlineKeyboardMarkup) bool {
	if oneShot[a.Kind] {
		return true
	}
	if kb == nil {
		return false
	}
	for _, row := range kb.InlineKeyboard {
		for _, b := range row {
			if other, ok := bot.ParseAction(b.CallbackData); ok && question[other.Kind] {
				return true
			}
		}
	}
	return false
}

func (a *Adapter) onCallback(ctx context.Context, t *turn, q *models.CallbackQuery) {
	c, msgID, ok := callbackChat(q)
	if !ok || q.From.IsBot {
		a.answer(ctx, q.ID, "") // a button on an inline message: not ours
		return
	}
	ch := chatOf(c)
	if !ch.private {
		a.answer(ctx, q.ID, "I only do that in a private chat.")
		return
	}
	action, ok := bot.ParseAction(q.Data)
	if !ok {
		a.answer(ctx, q.ID, "That button no longer does anything. /step shows where you are.")
		return
	}
	var kb *models.InlineKeyboardMarkup
	if m := q.Message.Message; m != nil {
		kb = m.ReplyMarkup
	}
	if usedUp(action, kb) {
		if !a.used.use(ch.id, msgID) {
			a.answer(ctx, q.ID, "Already done.")
			return
		}
		a.answer(ctx, q.ID, "")
		a.removeKeyboard(ctx, ch.id, msgID)
	} else {
		a.answer(ctx, q.ID, "")
	}
	a.converse(ctx, t, ch, 0, bot.Incoming{
		Platform: bot.PlatformTelegram, UserID: strconv.FormatInt(q.From.ID, 10),
		ChatID: strconv.FormatInt(ch.id, 10), Private: true, Name: q.From.FirstName, Action: &action,
	})
}

// converse passes in to the engine and sends its replies. msgID is the
// person's message (0 for a button press), recorded with the replies for
// /wipe.
func (a *Adapter) converse(ctx context.Context, t *turn, c chat, msgID int, in bot.Incoming) {
	replies, err := a.opts.Engine.Handle(ctx, in)
	t.markHandled()
	if err != nil {
		// The replies hold an apology; err is internal (no user text).
		a.log.Error("telegram: engine failed", "chat", c.id, "err", err)
	}
	a.remember(c, msgID, a.reply(ctx, c, in.UserID, replies))
}

// reply sends replies to c, in order, and returns the ids of the messages
// sent. It stops at the first failure that would make the rest arrive out
// of order or not at all, and marks a person who cannot be reached.
func (a *Adapter) reply(ctx context.Context, c chat, userID string, replies []bot.Reply) (sent []int) {
	for _, m := range plan(replies, c.private, a.username) {
		id, err := a.deliver(ctx, c.id, m)
		if err == nil {
			sent = append(sent, id)
		}
		var se *sendError
		if err == nil || !errors.As(err, &se) {
			continue
		}
		switch se.kind {
		case failUnreachable:
			a.log.Info("telegram: chat unreachable; stopped sending to it", "chat", c.id, "err", se.desc)
			if c.private {
				if id, err := strconv.ParseInt(userID, 10, 64); err == nil {
					a.markUnreachable(ctx, id)
				}
			}
			return sent
		case failTransient:
			a.log.Error("telegram: reply not delivered", "chat", c.id, "err", se.Error())
			return sent
		default:
			a.log.Error("telegram: Telegram refused a reply", "chat", c.id, "err", se.Error())
		}
	}
	return sent
}

// sendKind sends one short plain reply to the person's message msgID (0:
// already recorded).
func (a *Adapter) sendKind(ctx context.Context, c chat, userID int64, msgID int, text string) {
	sent := a.reply(ctx, c, strconv.FormatInt(userID, 10), []bot.Reply{{Text: bot.Text{{Text: text}}}})
	a.remember(c, msgID, sent)
}

func (a *Adapter) markUnreachable(ctx context.Context, userID int64) {
	if err := a.opts.Engine.MarkUnreachable(ctx, bot.PlatformTelegram, strconv.FormatInt(userID, 10)); err != nil {
		a.log.Error("telegram: mark unreachable", "user", userID, "err", err)
	}
}

// answer answers a callback query, which stops the spinner on the button.
func (a *Adapter) answer(ctx context.Context, id, text string) {
	ctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	err := a.retry(ctx, "answerCallbackQuery", func(ctx context.Context) error {
		_, err := a.client.AnswerCallbackQuery(ctx, &tgbot.AnswerCallbackQueryParams{CallbackQueryID: id, Text: text})
		return err
	})
	if err != nil {
		// Usually a press answered too late (Telegram allows seconds).
		a.log.Debug("telegram: answerCallbackQuery failed", "err", a.describe(err))
	}
}

// removeKeyboard takes the buttons off a message.
func (a *Adapter) removeKeyboard(ctx context.Context, chatID int64, msgID int) {
	ctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	err := a.retry(ctx, "editMessageReplyMarkup", func(ctx context.Context) error {
		// No reply_markup: Telegram removes the inline keyboard.
		_, err := a.client.EditMessageReplyMarkup(ctx, &tgbot.EditMessageReplyMarkupParams{ChatID: chatID, MessageID: msgID})
		return err
	})
	switch {
	case err == nil, strings.Contains(err.Error(), "message is not modified"):
	case strings.Contains(err.Error(), "message to edit not found"):
		// Deleted meanwhile: by the person, or by /wipe.
		a.log.Debug("telegram: used buttons were on a deleted message", "chat", chatID)
	default:
		a.log.Warn("telegram: could not remove used buttons", "chat", chatID, "err", a.describe(err))
	}
}

// retry runs a small call that is not a message (not paced), retrying 429s
// and transient errors a few times.
func (a *Adapter) retry(ctx context.Context, method string, call func(context.Context) error) error {
	var err error
	for attempt := 1; attempt <= 3; attempt++ {
		if err = call(ctx); err == nil || ctx.Err() != nil {
			return err
		}
		var tooMany *tgbot.TooManyRequestsError
		wait := a.backoff(attempt)
		switch {
		case errors.As(err, &tooMany):
			wait = time.Duration(max(tooMany.RetryAfter, 1)) * time.Second
		case errors.Is(err, tgbot.ErrorBadRequest), errors.Is(err, tgbot.ErrorForbidden),
			errors.Is(err, tgbot.ErrorUnauthorized), errors.Is(err, tgbot.ErrorNotFound):
			return err
		}
		if sleep(ctx, wait) != nil {
			return err
		}
	}
	return err
}

// usedKeyboards remembers the one-shot keyboards already pressed, so that
// a second press that arrives before the buttons are gone does nothing.
type usedKeyboards struct {
	mu sync.Mutex
	m  map[[2]int64]time.Time
}

// use reports whether this is the first press on the message's keyboard.
func (u *usedKeyboards) use(chatID int64, msgID int) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	now := time.Now()
	if u.m == nil {
		u.m = map[[2]int64]time.Time{}
	}
	if len(u.m) > 4096 {
		for k, t := range u.m {
			if now.Sub(t) > time.Hour {
				delete(u.m, k)
			}
		}
	}
	k := [2]int64{chatID, int64(msgID)}
	if _, ok := u.m[k]; ok {
		return false
	}
	u.m[k] = now
	return true
}
