package telegram_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/trustbot/trustbot/adapters/telegram/telegramtest"
	"github.com/trustbot/trustbot/bot"
	"github.com/trustbot/trustbot/content"
	"github.com/trustbot/trustbot/storage"
)

// inboxIDs returns the update ids left in the store's inbox.
func inboxIDs(t *testing.T, st *storage.Store) []int64 {
	t.Helper()
	var ids []int64
	if err := st.TelegramInbox(context.Background(), func(id int64, _ []byte) error {
		ids = append(ids, id)
		return nil
	}); err != nil {
		t.Fatalf("read the inbox: %v", err)
	}
	return ids
}

// privateText is a text update as Telegram sends it.
func privateText(id int64, u telegramtest.User, msgID int, text string) []byte {
	return fmt.Appendf(nil, `{"update_id":%d,"message":{"message_id":%d,"date":%d,`+
		`"chat":{"id":%d,"type":"private","first_name":%q},"from":{"id":%d,"is_bot":false,"first_name":%q},"text":%q}}`,
		id, msgID, time.Now().Unix(), u.ID, u.FirstName, u.ID, u.FirstName, text)
}

// TestInboxReplay: updates left in the inbox by a crash are handled at
// start, in order, before new ones; one already marked handled is not
// handled again; the inbox is empty afterwards; and with a key, no file of
// the database holds what the person wrote in the clear.
func TestInboxReplay(t *testing.T) {
	t.Parallel()
	h := setup(t, telegramtest.Options{})
	// A store with a key, as serve with Telegram requires.
	key, err := storage.NewKey(bytes.Repeat([]byte{9}, storage.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "sealed.db")
	st, err := storage.OpenWith(path, storage.Options{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	st.Now = h.clock.Now
	h.store, h.db = st, path
	h.eng = &bot.Engine{Program: content.Default(), Store: st, Now: h.clock.Now, DefaultTime: "20:00", DefaultTimeZone: "UTC"}
	h.opts.Engine, h.opts.Updates, h.opts.Inbox, h.opts.Messages = h.eng, st, st, st

	// Not a valid zone, so the engine stores nothing of it.
	const crashed, live = "Atlantis/Crashed_Words_5521", "Atlantis/Live_Words_7713"
	ctx := context.Background()
	ids := []int64{11, 12, 13}
	raws := [][]byte{
		privateText(11, alice, 901, "/start"),
		privateText(12, alice, 902, "/timezone "+crashed),
		privateText(13, alice, 903, "/help"),
	}
	if err := st.AddTelegramInbox(ctx, ids, raws); err != nil {
		t.Fatal(err)
	}
	// 13 was handled before the crash, and its mark written: then a
	// webhook retry stored it again.
	if err := st.MarkTelegramUpdatesHandled(ctx, []int64{13}, h.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if err := st.AddTelegramInbox(ctx, ids[2:], raws[2:]); err != nil {
		t.Fatal(err)
	}

	h.api.AddChat(telegramtest.Chat{ID: alice.ID, Type: "private"}) // as Telegram knows it
	h.start()
	// /start and /timezone from the inbox, then the live message: its
	// answer comes third only if /help was dropped.
	h.api.WaitMessages(t, alice.ID, 2, wait)
	msgs := h.say(alice, "/timezone "+live, 3)
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	if got := len(h.api.Messages(alice.ID)); got != 3 {
		t.Errorf("%d messages to alice, want 3: /start, /timezone from the inbox, the live /timezone (not the handled /help); last: %q", got, msgs[len(msgs)-1].Text)
	}
	if left := inboxIDs(t, st); len(left) != 0 {
		t.Errorf("inbox after handling: %v, want empty", left)
	}
	files, _ := filepath.Glob(path + "*")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, text := range []string{crashed, live} {
			if bytes.Contains(b, []byte(text)) {
				t.Errorf("%s contains %q in the clear: the inbox must seal updates", filepath.Base(f), text)
			}
		}
	}
	h.checkLogs(crashed, live)
}

// gate is the real engine, except that a message "hold" is held until
// the adapter gives up on it.
type gate struct {
	*bot.Engine
	held chan struct{}
}

func (g gate) Handle(ctx context.Context, in bot.Incoming) ([]bot.Reply, error) {
	if in.Text == "hold" {
		close(g.held)
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return g.Engine.Handle(ctx, in)
}

// TestInboxKeepsConfirmedUpdates: an update Telegram has been told we
// received (the poller asked for the next offset), still queued when the
// adapter stops without handling it, is handled at the next start.
func TestInboxKeepsConfirmedUpdates(t *testing.T) {
	t.Parallel()
	h := setup(t, telegramtest.Options{})
	g := gate{Engine: h.eng, held: make(chan struct{})}
	h.opts.Engine = g
	h.opts.ShutdownTimeout = 300 * time.Millisecond
	h.start()
	h.say(alice, "/start", 1)
	h.api.SendText(alice, telegramtest.Private(alice), "hold")
	select {
	case <-g.held:
	case <-time.After(wait):
		t.Fatal("the engine never got the held message")
	}
	id := h.api.SendText(alice, telegramtest.Private(alice), "/help") // queued behind "hold"
	h.api.Wait(t, "the /help update to be confirmed", wait, func() bool { return h.api.Pending() == 0 })
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	if got := len(h.api.Messages(alice.ID)); got != 1 {
		t.Fatalf("%d messages to alice before the restart, want 1 (/help still unanswered)", got)
	}
	if left := inboxIDs(t, h.store); len(left) != 1 || left[0] != id {
		t.Fatalf("inbox after the stop: %v, want [%d] (/help)", left, id)
	}

	h.opts.Engine = h.eng
	h.start()
	h.api.WaitMessages(t, alice.ID, 2, wait)
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	if left := inboxIDs(t, h.store); len(left) != 0 {
		t.Errorf("inbox after the restart: %v, want empty", left)
	}
}
