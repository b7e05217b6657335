package telegram_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/trustbot/trustbot/adapters/telegram/telegramtest"
	"github.com/trustbot/trustbot/bot"
)

// TestJourney walks /start → role → step → reflection → journal → next
// through the real client and the fake Bot API.
func TestJourney(t *testing.T) {
	t.Parallel()
	h := setup(t, telegramtest.Options{}).start()
	chat := alice.ID

	// Start-up: getMe, the command menu, and no webhook before polling.
	log := h.api.CallLog()
	first := func(m string) int { return slices.Index(log, m) }
	if first("getMe") < 0 || first("setMyCommands") < 0 || first("deleteWebhook") < 0 {
		t.Fatalf("start-up calls = %q; want getMe, setMyCommands and deleteWebhook", log)
	}
	h.api.Wait(t, "the first getUpdates", wait, func() bool { return h.api.Calls("getUpdates") > 0 })
	if log := h.api.CallLog(); first("deleteWebhook") > slices.Index(log, "getUpdates") {
		t.Fatalf("deleteWebhook came after getUpdates: %q", log)
	}
	var menu []string
	for _, c := range h.api.Commands() {
		menu = append(menu, c.Command)
	}
	for _, c := range bot.Commands {
		if !contains(menu, c.Name) {
			t.Errorf("command menu %q lacks /%s", menu, c.Name)
		}
	}

	msgs := h.say(alice, "/start", 1)
	welcome := last(msgs)
	if !strings.Contains(welcome.Text, "Rebuilding trust") || !contains(welcome.Styled("bold"), "Rebuilding trust") {
		t.Fatalf("/start: got %q (bold %q), want the program title in bold", welcome.Text, welcome.Styled("bold"))
	}
	if got, want := welcome.Buttons(), []string{"I broke the trust", "My trust was broken", "We both want to rebuild", "Skip"}; !slices.Equal(got, want) {
		t.Fatalf("/start buttons = %q, want %q", got, want)
	}

	n := len(msgs)
	_, qid := h.api.Press(alice, welcome, "My trust was broken")
	msgs = h.api.WaitMessages(t, chat, n+1, wait)
	h.api.Wait(t, "the button press to be answered", wait, func() bool { ok, _ := h.api.Answered(qid); return ok })
	step := last(msgs)
	if !strings.Contains(step.Text, "Step 1 of 10") || !contains(step.Buttons(), "Done — next step") {
		t.Fatalf("after choosing a role: got %q with buttons %q, want step 1 with its buttons", step.Text, step.Buttons())
	}
	if !strings.Contains(step.Text, "Thank you for telling me") {
		t.Errorf("the role thanks and step 1 should come as one message, got %q", step.Text)
	}
	if kb := h.api.Messages(chat)[n-1].Keyboard; kb != nil {
		t.Errorf("the role question still has its buttons after a choice: %v", kb)
	}
	if got := h.user(alice).Role; got != bot.RoleHurt {
		t.Fatalf("role = %q, want %q", got, bot.RoleHurt)
	}

	reflection := "I found the messages three weeks ago. I still feel sick when I think about it."
	n = len(msgs)
	msgs = h.say(alice, reflection, n+1)
	if ack := last(msgs).Text; ack == "" || strings.Contains(ack, "went wrong") || strings.Contains(ack, "Step") {
		t.Fatalf("reflection answer = %q, want a short acknowledgment", ack)
	}

	n = len(msgs)
	msgs = h.say(alice, "/journal", n+1)
	if j := last(msgs).Text; !strings.Contains(j, "Your journal") || !strings.Contains(j, reflection) {
		t.Fatalf("/journal = %q, want the reflection", j)
	}

	n = len(msgs)
	h.api.Press(alice, step, "Done — next step")
	msgs = h.api.WaitMessages(t, chat, n+1, wait)
	if next := last(msgs).Text; !strings.Contains(next, "Step 2 of 10") {
		t.Fatalf("after Done — next step: got %q, want step 2", next)
	}
	u := h.user(alice)
	if u.Step != 2 || u.Name != "Alice" || u.ChatID != itoa(chat) {
		t.Fatalf("user = step %d, name %q, chat %q; want step 2, Alice, %d", u.Step, u.Name, u.ChatID, chat)
	}
	if rs, total, err := h.store.Reflections(context.Background(), u.ID, 0, 0); err != nil || total != 1 || rs[0].Text != reflection {
		t.Fatalf("journal = %v (total %d, err %v), want the one reflection", rs, total, err)
	}
	h.stop()
	h.checkLogs(reflection, "Alice")
}
