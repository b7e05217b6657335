package telegram_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/trustbot/trustbot/adapters/telegram/telegramtest"
	"github.com/trustbot/trustbot/bot"
)

// topicWords give away what the bot is about; a discreet person's daily
// prompt and the first line of its messages (what a lock screen shows)
// carry none of them.
var topicWords = []string{"trust", "betray", "partner", "relationship", "affair", "cheat", "forgiv"}

func revealing(s string) string {
	low := strings.ToLower(s)
	for _, w := range topicWords {
		if strings.Contains(low, w) {
			return w
		}
	}
	return ""
}

// TestDiscreetSending: once discreet mode is on, every message to the
// person (replies, a document, the daily prompt sent through Send) goes out
// with protect_content, and the daily prompt says nothing about the topic.
func TestDiscreetSending(t *testing.T) {
	t.Parallel()
	h := setup(t, telegramtest.Options{}).start()
	chat := alice.ID
	msgs := h.say(alice, "/start", 1)
	msgs = h.api.WaitMessages(t, chat, len(msgs), wait)
	for _, m := range msgs {
		if m.Protected {
			t.Fatalf("before /discreet on: %q was protected, want an ordinary message", firstLineOf(m.Text))
		}
	}
	before := len(msgs)
	msgs = h.say(alice, "/discreet on", before+1)
	if !strings.Contains(last(msgs).Text, "Discreet mode is on") {
		t.Fatalf("/discreet on answered %q", last(msgs).Text)
	}
	if !h.user(alice).Discreet {
		t.Fatal("discreet mode is not stored")
	}
	msgs = h.say(alice, "/step", len(msgs)+1)
	msgs = h.say(alice, "A few words about my week.", len(msgs)+1)
	msgs = h.say(alice, "/export", len(msgs)+1)
	if last(msgs).Document == nil {
		t.Fatalf("/export sent %q, want a document", firstLineOf(last(msgs).Text))
	}

	u := h.user(alice)
	nudge := h.eng.Nudge(u)
	if err := h.a.Send(context.Background(), bot.AddressOf(u), nudge); err != nil {
		t.Fatalf("Send the daily prompt: %v", err)
	}
	msgs = h.api.WaitMessages(t, chat, len(msgs)+1, wait)
	prompt := last(msgs)
	if prompt.Text != "Your daily note is ready." {
		t.Errorf("the daily prompt in discreet mode reads %q, want the neutral \"Your daily note is ready.\"", prompt.Text)
	}
	if w := revealing(prompt.Text + " " + strings.Join(prompt.Buttons(), " ")); w != "" {
		t.Errorf("the discreet daily prompt %q (buttons %q) gives the topic away with %q", prompt.Text, prompt.Buttons(), w)
	}

	for _, m := range msgs[before:] {
		if !m.Protected {
			t.Errorf("%s %q went out without protect_content in discreet mode", m.Method, firstLineOf(m.Text))
		}
		if w := revealing(firstLineOf(m.Text)); w != "" {
			t.Errorf("the first line of %q, seen on a lock screen, gives the topic away with %q", firstLineOf(m.Text), w)
		}
	}

	msgs = h.say(alice, "/discreet off", len(msgs)+1)
	if last(msgs).Protected {
		t.Errorf("after /discreet off: %q is still protected", firstLineOf(last(msgs).Text))
	}
}

// recorded returns the message ids recorded for chat, waiting until want
// holds of them (they are written in batches).
func (h *harness) recorded(chat int64, what string, want func([]bot.ChatMessage) bool) []bot.ChatMessage {
	h.t.Helper()
	var got []bot.ChatMessage
	h.api.Wait(h.t, what, wait, func() bool {
		var err error
		got, err = h.store.RecentMessages(context.Background(), bot.PlatformTelegram, itoa(chat), time.Time{})
		return err == nil && want(got)
	})
	return got
}

func recordedIDs(ms []bot.ChatMessage) (all []int, fromBot []int) {
	for _, m := range ms {
		id, _ := strconv.Atoi(m.ID)
		all = append(all, id)
		if m.FromBot {
			fromBot = append(fromBot, id)
		}
	}
	slices.Sort(all)
	slices.Sort(fromBot)
	return all, fromBot
}

// TestMessagesRecordedAreIDsOnly: every message of a private chat, both
// sides, is recorded by its id and who sent it; nothing of a group chat is;
// and no text goes into the database with them.
func TestMessagesRecordedAreIDsOnly(t *testing.T) {
	t.Parallel()
	h := setup(t, telegramtest.Options{})
	// The inbox keeps received updates until handled, in the clear in this
	// store without a key (TestInboxReplay checks they are sealed with one):
	// this test is about the message log.
	h.opts.Inbox = nil
	h.start()
	chat := alice.ID
	msgs := h.say(alice, "/start", 1)
	// Not a valid zone, so the engine stores nothing of it: if it shows up
	// in the database, the adapter wrote it.
	const unstored = "Atlantis/Unstored_Words_8841"
	msgs = h.say(alice, "/timezone "+unstored, len(msgs)+1)
	h.api.Message(alice, telegramtest.Private(alice), map[string]any{"sticker": map[string]any{"file_id": "s1", "file_unique_id": "u1", "type": "regular", "width": 512, "height": 512, "is_animated": false, "is_video": false}})
	msgs = h.api.WaitMessages(t, chat, len(msgs)+1, wait)
	h.api.SendText(bob, group, "/help")
	h.api.WaitMessages(t, group.ID, 1, wait)

	want := h.api.Visible(chat)
	got := h.recorded(chat, "every message of the chat to be recorded", func(ms []bot.ChatMessage) bool { return len(ms) >= len(want) })
	all, fromBot := recordedIDs(got)
	if !slices.Equal(all, want) {
		t.Errorf("recorded ids %v, want every message of the chat, %v", all, want)
	}
	var sent []int
	for _, m := range msgs {
		sent = append(sent, m.ID)
	}
	if !slices.Equal(fromBot, sent) {
		t.Errorf("recorded as the bot's: %v, want the bot's messages %v", fromBot, sent)
	}
	for _, m := range got {
		if m.At != h.clock.Now().Truncate(time.Second) {
			t.Errorf("message %s recorded at %v, want now (%v)", m.ID, m.At, h.clock.Now())
		}
	}
	if ms, _ := h.store.RecentMessages(context.Background(), bot.PlatformTelegram, itoa(group.ID), time.Time{}); len(ms) != 0 {
		t.Errorf("group chat messages recorded: %v, want none", ms)
	}

	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(h.db + "*")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(unstored)) {
			t.Errorf("%s contains the text %q, which nothing should store", filepath.Base(f), unstored)
		}
	}
}

// TestWipe: /wipe deletes both sides of the last 48 hours from the chat; a
// message Telegram dates more than 48 hours back (it waited while the bot
// was offline) is refused, and the answer says so.
func TestWipe(t *testing.T) {
	t.Parallel()
	h := setup(t, telegramtest.Options{})
	chat := alice.ID
	// Alice writes while the bot is offline; it reads her message ten
	// minutes later, so by Telegram's date it is ten minutes older than
	// the bot's record of it.
	h.api.SendText(alice, telegramtest.Private(alice), "/start")
	startID := h.api.Received(chat)[0]
	h.clock.Advance(10 * time.Minute)
	h.start()
	msgs := h.api.WaitMessages(t, chat, 1, wait)

	// Two days later, less the ten minutes: the bot's record of /start is
	// 47 h 55 min old, Telegram's 48 h 05 min.
	h.clock.Advance(48*time.Hour - 5*time.Minute)
	secret := "Things nobody else should read on this phone."
	msgs = h.say(alice, secret, len(msgs)+1)
	msgs = h.say(alice, "/wipe", len(msgs)+1)
	confirm := last(msgs)
	if !contains(confirm.Buttons(), "Clear the chat") {
		t.Fatalf("/wipe answered %q with buttons %q, want a confirmation", firstLineOf(confirm.Text), confirm.Buttons())
	}
	h.recorded(chat, "the confirmation to be recorded", func(ms []bot.ChatMessage) bool {
		all, _ := recordedIDs(ms)
		return slices.Contains(all, confirm.ID)
	})

	h.api.Press(alice, confirm, "Clear the chat")
	msgs = h.api.WaitMessages(t, chat, len(msgs)+1, wait)
	answer := last(msgs)
	mustSay(t, "the answer to the wipe", answer.Text,
		"I removed 5 messages", // the welcome, her words and their answer, /wipe and the confirmation
		"1 message could not be removed", "delete it yourself",
		"Your journal is still stored with me")
	if got, want := h.api.Visible(chat), []int{startID, answer.ID}; !slices.Equal(got, want) {
		t.Errorf("left in the chat: %v, want only the refused /start (%d) and the answer (%d)", got, startID, answer.ID)
	}
	for _, m := range h.api.Messages(chat) {
		if m.ID != answer.ID && !m.Deleted {
			t.Errorf("the bot's %q is still in the chat", firstLineOf(m.Text))
		}
	}
	if !slices.Contains(h.api.CallLog(), "deleteMessages") {
		t.Errorf("calls %q: want the messages deleted in batches with deleteMessages", h.api.CallLog())
	}
	// The refused id stays recorded (until it ages out), the deleted ones
	// are forgotten, and the answer is recorded for the next /wipe.
	got := h.recorded(chat, "the answer to be recorded", func(ms []bot.ChatMessage) bool {
		all, _ := recordedIDs(ms)
		return slices.Contains(all, answer.ID)
	})
	if all, _ := recordedIDs(got); !slices.Equal(all, []int{startID, answer.ID}) {
		t.Errorf("recorded after the wipe: %v, want %v", all, []int{startID, answer.ID})
	}
	if n, err := h.store.CountReflections(context.Background(), h.user(alice).ID, 0); err != nil || n != 1 {
		t.Errorf("reflections after /wipe: %d (%v), want the journal kept", n, err)
	}
	h.stop()
	h.checkLogs(secret)
	if logs := h.logs.String(); strings.Contains(logs, "level=WARN") || strings.Contains(logs, "level=ERROR") {
		t.Errorf("the wipe logged a warning or an error:\n%s", logs)
	}
}

// TestDeleteAndWipe: "Delete everything and clear this chat" clears the
// chat and erases the person.
func TestDeleteAndWipe(t *testing.T) {
	t.Parallel()
	h := setup(t, telegramtest.Options{}).start()
	chat := alice.ID
	msgs := h.say(alice, "/start", 1)
	msgs = h.say(alice, "Words for the journal.", len(msgs)+1)
	msgs = h.say(alice, "/delete", len(msgs)+1)
	confirm := last(msgs)
	// Pressed at once: the ids of the last turns may not be written yet,
	// and Wipe writes them first.
	h.api.Press(alice, confirm, "Delete everything and clear this chat")
	msgs = h.api.WaitMessages(t, chat, len(msgs)+1, wait)
	answer := last(msgs)
	mustSay(t, "the answer", answer.Text, "I removed 6 messages", "everything I kept about you is erased")
	if got := h.api.Visible(chat); !slices.Equal(got, []int{answer.ID}) {
		t.Errorf("left in the chat: %v, want only the answer %d", got, answer.ID)
	}
	if _, err := h.store.User(context.Background(), bot.PlatformTelegram, itoa(alice.ID)); bot.ErrorCode(err) != bot.ENOTFOUND {
		t.Errorf("after delete and wipe: User = %v, want ENOTFOUND", err)
	}
	got := h.recorded(chat, "the answer to be recorded", func(ms []bot.ChatMessage) bool { return len(ms) > 0 })
	if all, _ := recordedIDs(got); !slices.Equal(all, []int{answer.ID}) {
		t.Errorf("recorded after delete and wipe: %v, want only the answer %d", all, answer.ID)
	}

	// /wipe works for someone the bot no longer knows: the chat is not
	// the journal.
	msgs = h.say(alice, "/wipe", len(msgs)+1)
	h.api.Press(alice, last(msgs), "Clear the chat")
	msgs = h.api.WaitMessages(t, chat, len(msgs)+1, wait)
	mustSay(t, "the second wipe", last(msgs).Text, "I removed 3 messages")
	if got := h.api.Visible(chat); !slices.Equal(got, []int{last(msgs).ID}) {
		t.Errorf("left in the chat: %v, want only the last answer %d", got, last(msgs).ID)
	}
}

// TestWipeDirect calls Wipe as the engine does, against Telegram's
// answers: a message the person already deleted counts as removed, and
// an outage stops the wipe with an error.
func TestWipeDirect(t *testing.T) {
	t.Parallel()
	h := setup(t, telegramtest.Options{}).start()
	chat := alice.ID
	msgs := h.say(alice, "/start", 1)
	msgs = h.say(alice, "/help", len(msgs)+1)
	all := h.api.Visible(chat)
	h.recorded(chat, "the chat to be recorded", func(ms []bot.ChatMessage) bool { return len(ms) == len(all) })
	addr := bot.Address{Platform: bot.PlatformTelegram, UserID: itoa(alice.ID), ChatID: itoa(chat)}
	since := h.clock.Now().Add(-bot.WipeWindow)
	ctx := context.Background()

	t.Run("ErrOutage", func(t *testing.T) {
		h.api.Outage(time.Minute, telegramtest.Failure{Code: 502, NotJSON: true}, "deleteMessages", "deleteMessage")
		defer h.api.Outage(0, telegramtest.Failure{})
		res, err := h.a.Wipe(ctx, addr, since)
		if err == nil || res.Removed != 0 {
			t.Fatalf("Wipe during an outage = %+v, %v; want an error and nothing removed", res, err)
		}
		if strings.Contains(err.Error(), h.api.Token) {
			t.Fatalf("error contains the token: %v", err)
		}
		if got := h.api.Visible(chat); !slices.Equal(got, all) {
			t.Fatalf("left in the chat: %v, want all of %v", got, all)
		}
	})
	t.Run("ErrNotPrivate", func(t *testing.T) {
		res, err := h.a.Wipe(ctx, bot.Address{Platform: bot.PlatformTelegram, ChatID: itoa(group.ID)}, since)
		if bot.ErrorCode(err) != bot.EINVALID || res != (bot.WipeResult{}) {
			t.Fatalf("Wipe of a group = %+v, %v; want EINVALID", res, err)
		}
	})
	t.Run("OKAlreadyGone", func(t *testing.T) {
		h.api.DeleteForEveryone(chat, msgs[0].ID) // she deleted the welcome herself
		res, err := h.a.Wipe(ctx, addr, since)
		if err != nil || res != (bot.WipeResult{Removed: len(all)}) {
			t.Fatalf("Wipe = %+v, %v; want all %d removed", res, err, len(all))
		}
		if got := h.api.Visible(chat); len(got) != 0 {
			t.Fatalf("left in the chat: %v, want nothing", got)
		}
		if ms, _ := h.store.RecentMessages(ctx, bot.PlatformTelegram, itoa(chat), time.Time{}); len(ms) != 0 {
			t.Fatalf("still recorded: %v, want the deleted ids forgotten", ms)
		}
		res, err = h.a.Wipe(ctx, addr, since)
		if err != nil || res != (bot.WipeResult{}) {
			t.Fatalf("a second Wipe = %+v, %v; want nothing to do", res, err)
		}
	})
}

func mustSay(t *testing.T, what, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Fatalf("%s lacks %q:\n%s", what, w, got)
		}
	}
}
