package telegram_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/trustbot/trustbot/adapters/telegram"
	"github.com/trustbot/trustbot/adapters/telegram/telegramtest"
	"github.com/trustbot/trustbot/bot"
)

// TestGroupPrivacy: in a group only commands addressed to this bot are
// answered, plain text is never read or stored, and nothing personal is
// posted there.
func TestGroupPrivacy(t *testing.T) {
	t.Parallel()
	h := setup(t, telegramtest.Options{Username: "TrustBot_bot"}).start()
	ctx := context.Background()
	secret := "I still read his messages every night"

	// Alice has a journal from her private chat.
	n := len(h.say(alice, "/start", 1))
	h.say(alice, secret, n+1)

	h.api.SendText(bob, group, "I think trust is hard")                                                                                 // plain text: ignored
	h.api.SendText(bob, group, "/step@SomeOtherBot 3")                                                                                  // another bot's command: ignored
	h.api.SendText(alice, group, "/journal@trustbot_BOT")                                                                               // personal: a pointer to the private chat
	h.api.WaitMessages(t, group.ID, 1, wait)                                                                                            // (the two above were handled first: same chat, in order)
	h.api.SendText(bob, group, "/step@TrustBot_bot 2")                                                                                  // answered
	h.api.SendText(bob, group, "/help")                                                                                                 // unaddressed commands are answered too
	h.api.Message(bob, group, map[string]any{"new_chat_members": []any{map[string]any{"id": 7, "is_bot": false, "first_name": "Dan"}}}) // a service message
	h.api.Message(bob, group, map[string]any{"sticker": map[string]any{"file_id": "s1", "file_unique_id": "u1", "type": "regular", "width": 512, "height": 512, "is_animated": false, "is_video": false}})
	msgs := h.api.WaitMessages(t, group.ID, 3, wait)

	if got, want := msgs[0].Text, "That one is just for our private chat."; !strings.HasPrefix(got, want) {
		t.Errorf("/journal in a group: got %q, want %q (and a link, checked below)", got, want)
	}
	if !strings.HasPrefix(msgs[1].Text, "Step 2 of 10") || !strings.HasPrefix(msgs[2].Text, "I walk people through") {
		t.Errorf("group answers = %q, %q; want step 2, then help", firstLineOf(msgs[1].Text), firstLineOf(msgs[2].Text))
	}
	for _, m := range msgs {
		if strings.Contains(m.Text, secret) || strings.Contains(m.Text, "Your journal") {
			t.Fatalf("a group message shows private content: %q", m.Text)
		}
		if len(m.Keyboard) != 1 || m.Keyboard[0][0].URL != "https://t.me/TrustBot_bot" || m.Keyboard[0][0].CallbackData != "" {
			t.Errorf("group message %q: keyboard %+v, want only a link to https://t.me/TrustBot_bot", firstLineOf(m.Text), m.Keyboard)
		}
	}
	// A button pressed in a group is answered, and changes nothing.
	_, qid := h.api.PressData(bob, msgs[1], bot.Action{Kind: bot.ActNext}.String())
	h.api.Wait(t, "the group press to be answered", wait, func() bool { ok, _ := h.api.Answered(qid); return ok })
	h.api.SendText(bob, group, "/help@TrustBot_bot")
	if got := h.api.WaitMessages(t, group.ID, 4, wait); len(got) != 4 || !strings.HasPrefix(got[3].Text, "I walk people through") {
		t.Fatalf("group messages = %q, want 4, the last one help", texts(got))
	}
	if _, err := h.store.User(ctx, bot.PlatformTelegram, itoa(bob.ID)); bot.ErrorCode(err) != bot.ENOTFOUND {
		t.Fatalf("bob only wrote in the group, yet is stored (err %v)", err)
	}
	if _, total, _ := h.store.Reflections(ctx, h.user(alice).ID, 0, 0); total != 1 {
		t.Fatalf("alice has %d reflections, want 1: group text must never be stored", total)
	}
}

// TestEscaping: names and reflections full of HTML and markdown
// characters never cause a 400, and come back exactly as written.
func TestEscaping(t *testing.T) {
	t.Parallel()
	h := setup(t, telegramtest.Options{}).start()
	sam := telegramtest.User{ID: 2001, FirstName: "<Sam & *Co*> [x](y) _z_ &lt;"}
	reflections := []string{
		"a < b && c > d; <b>not bold</b> &amp; *x* _y_ [z](http://e.com) `code` ~s~ ||spoiler||",
		"</i>closing first<i> &#65; &#x42; &quot;quoted&quot; & ; &; &lt &amp",
		"<<<>>>&&& <a href=\"http://evil\">link</a> <tg-spoiler>s</tg-spoiler> 😀<",
	}
	n := len(h.say(sam, "/start", 1))
	for _, r := range reflections {
		n = len(h.say(sam, r, n+1))
	}
	msgs := h.say(sam, "/journal", n+1)
	j := last(msgs)
	for _, r := range reflections {
		if !strings.Contains(j.Text, r) {
			t.Errorf("journal does not show %q verbatim:\n%s", r, j.Text)
		}
	}
	for _, b := range j.Styled("bold") {
		if strings.Contains(b, "not bold") {
			t.Errorf("user text became bold: %q", b)
		}
	}
	if len(j.Styled("text_link")) > 0 || len(j.Styled("spoiler")) > 0 {
		t.Errorf("user text became markup: links %q, spoilers %q", j.Styled("text_link"), j.Styled("spoiler"))
	}
	n = len(msgs)
	msgs = h.say(sam, "/export", n+1)
	doc := last(msgs).Document
	if doc == nil {
		t.Fatalf("/export sent %q, want a document", last(msgs).Text)
	}
	var x bot.Export
	if err := json.Unmarshal(doc.Data, &x); err != nil {
		t.Fatalf("export is not JSON: %v", err)
	}
	if x.User.Name != sam.FirstName || len(x.Reflections) != len(reflections) {
		t.Fatalf("export: name %q, %d reflections; want %q and %d", x.User.Name, len(x.Reflections), sam.FirstName, len(reflections))
	}
	if logs := h.logs.String(); strings.Contains(logs, "Bad Request") {
		t.Fatalf("Telegram refused a message:\n%s", logs)
	}
	h.checkLogs(reflections...)
}

// TestLongJournalSplits: a journal page far over 4,096 characters arrives
// as several messages, each within Telegram's limit (the fake refuses
// longer ones), split between entries, with the page button under the
// last one; an entry with no break in it is cut between characters, never
// inside a surrogate pair (the fake refuses invalid UTF-8).
func TestLongJournalSplits(t *testing.T) {
	t.Parallel()
	h := setup(t, telegramtest.Options{}).start()
	ctx := context.Background()
	n := len(h.say(alice, "/start", 1))
	u := h.user(alice)

	// Entries are stored directly: Telegram caps what a person can send at
	// 4,096 units, but the engine keeps up to 32,000 characters.
	var entries []string
	// 6,003 UTF-16 units with no break at all: three-byte and four-byte
	// characters after an odd start, so that byte and unit counts disagree.
	unbroken := "ab" + strings.Repeat("😀界", 2000)
	entries = append(entries, unbroken)
	for i := 1; i <= 11; i++ {
		var b strings.Builder
		for b.Len() < 2500 {
			fmt.Fprintf(&b, "Entry %d says 😀 a few words. ", i)
		}
		entries = append(entries, b.String()+"\nAnd a second line.")
	}
	for i, e := range entries {
		r := &bot.Reflection{UserID: u.ID, Step: 1, Text: e, CreatedAt: h.clock.Now().Add(time.Duration(i) * time.Minute)}
		if err := h.store.AddReflection(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	h.api.SendText(alice, telegramtest.Private(alice), "/journal")
	var page []telegramtest.Message
	h.api.Wait(t, "the journal page with its button", wait, func() bool {
		page = h.api.Messages(alice.ID)[n:]
		return len(page) > 0 && len(last(page).Keyboard) > 0
	})
	if len(page) < 6 {
		t.Fatalf("the page came in %d messages, want at least 6 (10 entries of ~2,500 characters)", len(page))
	}
	var all strings.Builder
	for i, m := range page {
		if units := telegramtest.Units(m.Text); units > 4096 {
			t.Errorf("message %d is %d units long", i, units)
		}
		if i < len(page)-1 && m.Keyboard != nil {
			t.Errorf("message %d of %d has buttons %q; want them under the last", i, len(page), m.Buttons())
		}
		if strings.Contains(m.Text, "Entry") && len(m.Styled("italic")) == 0 {
			t.Errorf("message %d lost its formatting: %q", i, firstLineOf(m.Text))
		}
		all.WriteString(m.Text)
	}
	if got := last(page).Buttons(); len(got) != 1 || got[0] != "Older entries" {
		t.Errorf("last message buttons = %q, want [Older entries]", got)
	}
	// The newest ten entries are on the page, each whole (entries 2..11),
	// since each fits in a message.
	for _, e := range entries[2:] {
		if !strings.Contains(all.String(), e) {
			t.Errorf("an entry was cut or lost: %q…", e[:40])
		}
	}
	// The older page holds the unbroken entry, cut into parts.
	before := len(h.api.Messages(alice.ID))
	h.api.Press(alice, last(page), "Older entries")
	h.api.Wait(t, "page 2", wait, func() bool {
		return strings.Contains(strings.Join(texts(h.api.Messages(alice.ID)[before:]), ""), "page 2 of 2")
	})
	want := 2000 + strings.Count(entries[1], "😀")
	h.api.Wait(t, "all of page 2", wait, func() bool {
		return strings.Count(strings.Join(texts(h.api.Messages(alice.ID)[before:]), ""), "😀") >= want
	})
	page2 := strings.Join(texts(h.api.Messages(alice.ID)[before:]), "")
	if got := strings.Count(page2, "😀"); got != want || strings.Contains(page2, "\uFFFD") {
		t.Errorf("page 2 shows %d emoji (want %d), replacement characters: %v", got, want, strings.Contains(page2, "\uFFFD"))
	}
	if got := strings.Count(page2, "界"); got != 2000 {
		t.Errorf("page 2 shows %d of the 2000 界", got)
	}
	if logs := h.logs.String(); strings.Contains(logs, "Bad Request") {
		t.Fatalf("Telegram refused a part:\n%s", logs)
	}
}

func texts(ms []telegramtest.Message) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Text)
	}
	return out
}

func firstLineOf(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// TestOtherUpdates: edits, media and update types the bot does not use
// get a short kind answer or nothing, and never break anything.
func TestOtherUpdates(t *testing.T) {
	t.Parallel()
	h := setup(t, telegramtest.Options{}).start()
	me := telegramtest.Private(alice)
	n := len(h.say(alice, "/start", 1))

	h.api.Edit(alice, me, "an edited reflection")
	msgs := h.api.WaitMessages(t, alice.ID, n+1, wait)
	if got := last(msgs).Text; !strings.Contains(got, "edits don't change your journal") {
		t.Errorf("edit: got %q", got)
	}
	media := []map[string]any{
		{"photo": []any{map[string]any{"file_id": "p", "file_unique_id": "p", "width": 90, "height": 90}}, "caption": "my <b>photo</b>"},
		{"sticker": map[string]any{"file_id": "s", "file_unique_id": "s", "type": "regular", "width": 512, "height": 512, "is_animated": false, "is_video": false}},
		{"voice": map[string]any{"file_id": "v", "file_unique_id": "v", "duration": 3}},
	}
	for i, m := range media {
		h.api.Message(alice, me, m)
		msgs = h.api.WaitMessages(t, alice.ID, n+2+i, wait)
		if got := last(msgs).Text; !strings.Contains(got, "I can only read text") {
			t.Errorf("media %d: got %q", i, got)
		}
	}
	n = len(msgs)
	// Unknown and unasked-for update types, a bot's message, a service
	// message: nothing is sent, nothing crashes.
	h.api.Push(map[string]any{"poll": map[string]any{"id": "1", "question": "?", "options": []any{}, "total_voter_count": 0, "is_closed": false, "is_anonymous": true, "type": "regular", "allows_multiple_answers": false}})
	h.api.Push(map[string]any{"some_future_update": map[string]any{"x": 1}})
	h.api.Push(map[string]any{"message": map[string]any{"message_id": 9, "date": 1, "chat": map[string]any{"id": alice.ID, "type": "private"},
		"from": map[string]any{"id": 77, "is_bot": true, "first_name": "Robot"}, "text": "/start"}})
	h.api.Message(alice, me, map[string]any{"pinned_message": map[string]any{"message_id": 1, "date": 0, "chat": map[string]any{"id": alice.ID, "type": "private"}}})
	msgs = h.say(alice, "/help", n+1)
	if len(msgs) != n+1 || !strings.Contains(last(msgs).Text, "/privacy") {
		t.Fatalf("after ignored updates: %d messages (want %d), last %q", len(msgs), n+1, firstLineOf(last(msgs).Text))
	}
	h.checkLogs("an edited reflection", "my <b>photo</b>")
}

// TestButtons: every press is answered; a used confirmation loses its
// buttons, so a second press cannot repeat it; an unknown button is
// answered kindly.
func TestButtons(t *testing.T) {
	t.Parallel()
	h := setup(t, telegramtest.Options{}).start()
	n := len(h.say(alice, "/start", 1))
	msgs := h.say(alice, "/step", n+1)
	step := last(msgs)

	// Two quick presses of "Done — next step" on the same message: one step.
	_, q1 := h.api.Press(alice, step, "Done — next step")
	_, q2 := h.api.PressData(alice, step, bot.Action{Kind: bot.ActNext}.String())
	h.api.Wait(t, "both presses answered", wait, func() bool {
		a1, _ := h.api.Answered(q1)
		a2, _ := h.api.Answered(q2)
		return a1 && a2
	})
	h.say(alice, "/help", len(msgs)+2) // step 2 (one message), then help: the presses were handled
	if got := h.user(alice).Step; got != 2 {
		t.Fatalf("step = %d after a double press, want 2", got)
	}
	if m := h.api.Messages(alice.ID)[len(msgs)-1]; m.Keyboard != nil {
		t.Errorf("the pressed step message kept its buttons %q", m.Buttons())
	}

	_, q3 := h.api.PressData(alice, step, "an-old-button-from-v0")
	h.api.Wait(t, "the unknown press answered", wait, func() bool { ok, _ := h.api.Answered(q3); return ok })
	if _, text := h.api.Answered(q3); !strings.Contains(text, "no longer") {
		t.Errorf("unknown button answered with %q", text)
	}

	// Answering a question with either button removes them all: "Stay"
	// must not leave "Start again" live.
	msgs = h.say(alice, "/restart", len(h.api.Messages(alice.ID))+1)
	ask := last(msgs)
	if got := ask.Buttons(); len(got) != 2 || got[0] != "Start again from step 1" {
		t.Fatalf("/restart buttons = %q", got)
	}
	h.api.Press(alice, ask, "Stay on step 2")
	msgs = h.api.WaitMessages(t, alice.ID, len(msgs)+1, wait)
	if m := h.api.Messages(alice.ID)[len(msgs)-2]; m.Keyboard != nil {
		t.Errorf("the restart question kept its buttons %q after Stay", m.Buttons())
	}
	// "Write a reflection" leaves the step's buttons: Next is still to come.
	step = last(msgs)
	h.api.Press(alice, step, "Write a reflection")
	msgs = h.api.WaitMessages(t, alice.ID, len(msgs)+1, wait)
	if m := h.api.Messages(alice.ID)[len(msgs)-2]; len(m.Keyboard) == 0 {
		t.Errorf("the step lost its buttons after Write a reflection")
	}

	// /delete asks with buttons; confirming erases everything.
	msgs = h.say(alice, "/delete", len(h.api.Messages(alice.ID))+1)
	ask = last(msgs)
	// The third button also clears the chat: the adapter is a bot.Wiper.
	if got := ask.Buttons(); len(got) != 3 || got[0] != "Delete everything" || got[2] != "Delete everything and clear this chat" {
		t.Fatalf("/delete buttons = %q", got)
	}
	h.api.Press(alice, ask, "Delete everything")
	msgs = h.api.WaitMessages(t, alice.ID, len(msgs)+1, wait)
	if !strings.Contains(last(msgs).Text, "erased") {
		t.Fatalf("after confirming: %q", last(msgs).Text)
	}
	if _, err := h.store.User(context.Background(), bot.PlatformTelegram, itoa(alice.ID)); bot.ErrorCode(err) != bot.ENOTFOUND {
		t.Fatalf("alice is still stored after /delete (err %v)", err)
	}
	if m := h.api.Messages(alice.ID)[len(msgs)-2]; m.Keyboard != nil {
		t.Errorf("the confirmation kept its buttons %q", m.Buttons())
	}
}

// TestRepeatedUpdates: an update delivered again (a poller replaying after
// a crash) is handled once: the reflection is stored once and answered
// once.
func TestRepeatedUpdates(t *testing.T) {
	t.Parallel()
	h := setup(t, telegramtest.Options{}).start()
	n := len(h.say(alice, "/start", 1))
	id := h.api.SendText(alice, telegramtest.Private(alice), "Only once, please.")
	msgs := h.api.WaitMessages(t, alice.ID, n+1, wait)
	h.api.Replay(id)                              // at once: caught by the ids not yet written
	msgs = h.say(alice, "/progress", len(msgs)+1) // handled after the replay: same chat, in order
	// Once written to the database, a replay is caught there (as after a
	// restart).
	h.api.Wait(t, "the update to be recorded in the database", wait, func() bool {
		seen, _ := h.store.TelegramUpdateHandled(context.Background(), id, h.clock.Now())
		return seen
	})
	h.api.Replay(id)
	msgs = h.say(alice, "/progress", len(msgs)+1)
	if got := len(msgs); got != n+3 {
		t.Fatalf("%d messages, want %d: the replayed update was answered again", got, n+3)
	}
	if !strings.Contains(last(msgs).Text, "Reflections written: 1.") {
		t.Fatalf("/progress = %q, want 1 reflection", last(msgs).Text)
	}
	// After 24 hours the id is forgotten (Telegram never repeats one that late).
	if seen, _ := h.store.TelegramUpdateHandled(context.Background(), id, h.clock.Now().Add(25*time.Hour)); seen {
		t.Fatal("the update is still remembered after 25 hours")
	}
}

// TestRestartReplay: a new adapter on the same database (a restart) drops
// an update the old one handled, and handles one it never saw.
func TestRestartReplay(t *testing.T) {
	t.Parallel()
	h := setup(t, telegramtest.Options{}).start()
	n := len(h.say(alice, "/start", 1))
	id := h.api.SendText(alice, telegramtest.Private(alice), "Written before the restart.")
	h.api.WaitMessages(t, alice.ID, n+1, wait)
	if err := h.stop(); err != nil { // writes the last batch of handled ids
		t.Fatal(err)
	}
	h.api.Replay(id)
	h.api.SendText(alice, telegramtest.Private(alice), "/progress")
	h.start()
	msgs := h.api.WaitMessages(t, alice.ID, n+2, wait)
	if got := last(msgs).Text; !strings.Contains(got, "Reflections written: 1.") || len(msgs) != n+2 {
		t.Fatalf("after a restart and a replay: %d messages, last %q; want the replay dropped", len(msgs), firstLineOf(got))
	}
}

// panicky is an engine with a bug that one message triggers.
type panicky struct{ telegram.Engine }

func (p panicky) Handle(ctx context.Context, in bot.Incoming) ([]bot.Reply, error) {
	if in.Text == "/boom" {
		var m map[string]int
		m["boom"]++ // a nil map: panics
	}
	return p.Engine.Handle(ctx, in)
}

// TestEnginePanic: a panic while handling one update is logged and the
// bot goes on.
func TestEnginePanic(t *testing.T) {
	t.Parallel()
	h := setup(t, telegramtest.Options{})
	h.opts.Engine = panicky{h.eng}
	h.start()
	h.api.SendText(alice, telegramtest.Private(alice), "/boom")
	msgs := h.say(alice, "/help", 1)
	if !strings.Contains(msgs[0].Text, "/privacy") {
		t.Fatalf("after a panic: %q, want the help", msgs[0].Text)
	}
	if !strings.Contains(h.logs.String(), "panic while handling an update") {
		t.Fatalf("the panic was not logged:\n%s", h.logs)
	}
}

// TestGroupMigrated: a reply to a group that became a supergroup follows
// it to its new id.
func TestGroupMigrated(t *testing.T) {
	t.Parallel()
	h := setup(t, telegramtest.Options{}).start()
	old := telegramtest.Chat{ID: -4242, Type: "group", Title: "Old"}
	super := telegramtest.Chat{ID: -1009999, Type: "supergroup", Title: "Old"}
	h.api.AddChat(super)
	h.api.Fail("sendMessage", telegramtest.Failure{Code: 400, Description: "Bad Request: group chat was upgraded to a supergroup chat", MigrateTo: super.ID})
	h.api.SendText(bob, old, "/help@TrustBot_bot")
	msgs := h.api.WaitMessages(t, super.ID, 1, wait)
	if !strings.HasPrefix(msgs[0].Text, "I walk people through") {
		t.Fatalf("the supergroup got %q, want the help", msgs[0].Text)
	}
}
