package telegram

// The quick wipe (/wipe): the adapter records the id of every message in a
// private chat, the person's and its own, and deletes them when asked.
// Telegram lets a bot delete both sides of a private chat for 48 hours.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	tgbot "github.com/go-telegram/bot"

	"github.com/trustbot/trustbot/bot"
)

// MessageLog keeps the ids (never the text) of the messages in private
// chats for 48 hours, so that Wipe can delete them. storage.Store
// implements it.
type MessageLog interface {
	// RecordMessageBatch records messages of several chats (by chat id)
	// in one write; a zero At is now.
	RecordMessageBatch(ctx context.Context, p bot.Platform, byChat map[string][]bot.ChatMessage) error
	// RecentMessages returns the chat's messages recorded at or after
	// since, oldest first.
	RecentMessages(ctx context.Context, p bot.Platform, chatID string, since time.Time) ([]bot.ChatMessage, error)
	// ForgetMessages deletes the records of these ids.
	ForgetMessages(ctx context.Context, p bot.Platform, chatID string, ids []string) error
}

var _ bot.Wiper = (*Adapter)(nil)

// maxDeleteBatch is how many ids one deleteMessages call takes.
const maxDeleteBatch = 100

// recordTimeout bounds one write of message ids.
const recordTimeout = 10 * time.Second

// remember records the messages of one turn in a private chat: the
// person's message msgID (0 for none) and the bot's messages sent. Group
// chats are never recorded: /wipe is for private chats.
func (a *Adapter) remember(c chat, msgID int, sent []int) {
	if a.rec == nil || !c.private || (msgID == 0 && len(sent) == 0) {
		return
	}
	now := a.opts.Now()
	ms := make([]bot.ChatMessage, 0, len(sent)+1)
	if msgID != 0 {
		ms = append(ms, bot.ChatMessage{ID: strconv.Itoa(msgID), At: now})
	}
	for _, id := range sent {
		ms = append(ms, bot.ChatMessage{ID: strconv.Itoa(id), FromBot: true, At: now})
	}
	a.rec.add(strconv.FormatInt(c.id, 10), ms)
}

// recorder writes message ids to the MessageLog in batches, like marks:
// one write per turn would cost the single SQLite writer a write for every
// message answered. While Run is not running, each add is written at once.
// A crash loses at most the last markEvery of ids, whose messages a /wipe
// then leaves in the chat.
type recorder struct {
	log    MessageLog
	logger *slog.Logger

	mu      sync.Mutex
	pending map[string][]bot.ChatMessage // by chat id
	running bool
	// writing is held during a write, so that flush returns only once
	// every id added before it is written.
	writing sync.Mutex

	kick chan struct{} // cap 1: there is something to write
	stop chan struct{}
	done chan struct{}
}

func newRecorder(log MessageLog, logger *slog.Logger) *recorder {
	return &recorder{log: log, logger: logger, pending: map[string][]bot.ChatMessage{},
		kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
}

// add queues the messages of a chat to be recorded.
func (r *recorder) add(chatID string, ms []bot.ChatMessage) {
	r.mu.Lock()
	if !r.running {
		r.mu.Unlock()
		r.write(map[string][]bot.ChatMessage{chatID: ms})
		return
	}
	r.pending[chatID] = append(r.pending[chatID], ms...)
	r.mu.Unlock()
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// run writes batches until close is called, then writes what is left.
func (r *recorder) run() {
	r.mu.Lock()
	r.running = true
	r.mu.Unlock()
	defer close(r.done)
	batchLoop(r.kick, r.stop, r.flush)
	r.mu.Lock()
	r.running = false
	r.mu.Unlock()
	r.flush()
}

// flush writes what was added so far, and returns once it is written.
func (r *recorder) flush() {
	r.writing.Lock()
	defer r.writing.Unlock()
	r.mu.Lock()
	batch := r.pending
	if len(batch) == 0 {
		r.mu.Unlock()
		return
	}
	r.pending = map[string][]bot.ChatMessage{}
	r.mu.Unlock()
	r.writeLocked(batch)
}

func (r *recorder) write(batch map[string][]bot.ChatMessage) {
	r.writing.Lock()
	defer r.writing.Unlock()
	r.writeLocked(batch)
}

func (r *recorder) writeLocked(batch map[string][]bot.ChatMessage) {
	if len(batch) == 0 {
		return
	}
	// Not a turn's context: the messages are in the chat whatever happens
	// to the turn, also while shutting down.
	ctx, cancel := context.WithTimeout(context.Background(), recordTimeout)
	defer cancel()
	if err := r.log.RecordMessageBatch(ctx, bot.PlatformTelegram, batch); err != nil {
		r.logger.Error("telegram: record message ids for /wipe; /wipe will leave these messages", "chats", len(batch), "err", err)
	}
}

// close writes the last batch and stops.
func (r *recorder) close() {
	close(r.stop)
	<-r.done
}

// Wipe deletes the recorded messages of a private chat from since on, the
// person's and the bot's, oldest first, and forgets the ones deleted. A
// message Telegram refuses to delete (older than 48 hours by its clock, or
// not deletable for another reason) counts as Failed and stays recorded
// until it ages out; one that is already gone counts as removed. It
// returns an error when it could not finish (Telegram unreachable, the bot
// blocked, ctx done), with the counts so far.
func (a *Adapter) Wipe(ctx context.Context, chat bot.Address, since time.Time) (bot.WipeResult, error) {
	var res bot.WipeResult
	if chat.Platform != "" && chat.Platform != bot.PlatformTelegram {
		return res, bot.Errorf(bot.EINVALID, "telegram cannot clear a %s chat", chat.Platform)
	}
	chatID, err := strconv.ParseInt(chat.ChatID, 10, 64)
	if err != nil || chatID <= 0 {
		return res, bot.Errorf(bot.EINVALID, "telegram: chat id %q is not a private chat", chat.ChatID)
	}
	if a.rec == nil {
		return res, errors.New("telegram: cannot clear a chat: no message log (Options.Messages) to find its messages in")
	}
	a.rec.flush() // the ids of the last turns, not yet written
	ms, err := a.opts.Messages.RecentMessages(ctx, bot.PlatformTelegram, chat.ChatID, since)
	if err != nil {
		return res, fmt.Errorf("telegram: clear chat %d: %w", chatID, err)
	}
	ids := make([]int, 0, len(ms))
	for _, m := range ms {
		id, err := strconv.Atoi(m.ID)
		if err != nil || id <= 0 {
			// Not a Telegram message id: nothing to delete, and useless.
			a.forget(ctx, chatID, []string{m.ID})
			continue
		}
		ids = append(ids, id)
	}
	slices.Sort(ids) // oldest first: Telegram numbers a chat's messages in order
	removed, refused, err := a.deleteAll(ctx, chatID, ids)
	res.Removed, res.Failed = len(removed), len(refused)
	forgotten := make([]string, len(removed))
	for i, id := range removed {
		forgotten[i] = strconv.Itoa(id)
	}
	a.forget(ctx, chatID, forgotten)
	if len(refused) > 0 {
		a.log.Info("telegram: /wipe could not delete some messages", "chat", chatID, "removed", len(removed), "refused", len(refused))
	}
	if err != nil {
		return res, fmt.Errorf("telegram: clear chat %d: %s", chatID, a.describe(err))
	}
	return res, nil
}

// forget drops the records of deleted messages; it runs even when ctx is
// done, since the messages are gone.
func (a *Adapter) forget(ctx context.Context, chatID int64, ids []string) {
	if len(ids) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	if err := a.opts.Messages.ForgetMessages(ctx, bot.PlatformTelegram, strconv.FormatInt(chatID, 10), ids); err != nil {
		a.log.Error("telegram: forget deleted message ids", "chat", chatID, "count", len(ids), "err", err)
	}
}

// deleteAll deletes messages ids (oldest first) from a chat, up to 100 in
// one deleteMessages call. That call deletes nothing when one of the
// messages cannot be deleted, and it skips the ones already gone, so after
// a refusal the oldest is deleted alone (the 48-hour limit refuses the
// oldest first) and the rest tried together again. It returns the ids
// deleted (or already gone) and refused, and an error if it had to stop.
func (a *Adapter) deleteAll(ctx context.Context, chatID int64, ids []int) (removed, refused []int, err error) {
	for len(ids) > 0 {
		if n := min(len(ids), maxDeleteBatch); n > 1 {
			batch := ids[:n]
			err := a.retry(ctx, "deleteMessages", func(ctx context.Context) error {
				ctx, cancel := context.WithTimeout(ctx, sendTimeout)
				defer cancel()
				_, err := a.client.DeleteMessages(ctx, &tgbot.DeleteMessagesParams{ChatID: chatID, MessageIDs: batch})
				return err
			})
			if err == nil {
				removed = append(removed, batch...)
				ids = ids[n:]
				continue
			}
			if !errors.Is(err, tgbot.ErrorBadRequest) {
				return removed, refused, err
			}
		}
		id := ids[0]
		err := a.retry(ctx, "deleteMessage", func(ctx context.Context) error {
			ctx, cancel := context.WithTimeout(ctx, sendTimeout)
			defer cancel()
			_, err := a.client.DeleteMessage(ctx, &tgbot.DeleteMessageParams{ChatID: chatID, MessageID: id})
			return err
		})
		switch {
		case err == nil, errors.Is(err, tgbot.ErrorBadRequest) && strings.Contains(err.Error(), "message to delete not found"):
			removed = append(removed, id)
		case errors.Is(err, tgbot.ErrorBadRequest):
			// Too old, or a kind of message that cannot be deleted.
			a.log.Debug("telegram: message not deleted", "chat", chatID, "err", a.describe(err))
			refused = append(refused, id)
		default:
			return removed, refused, err
		}
		ids = ids[1:]
	}
	return removed, refused, nil
}
