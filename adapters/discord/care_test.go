package discord_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trustbot/trustbot/adapters/discord"
	"github.com/trustbot/trustbot/bot"
)

// recorded waits until the message ids recorded for a channel satisfy
// cond, and returns them. They are written after a turn's last message,
// which the fake cannot signal, so this polls.
func (h *harness) recorded(t testing.TB, channel, what string, cond func(ids []string) bool) []bot.ChatMessage {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		ms, err := h.st.RecentMessages(context.Background(), bot.PlatformDiscord, channel, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, m := range ms {
			ids = append(ids, m.ID)
		}
		if cond(ids) {
			return ms
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; recorded: %v", what, ids)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func has(id string) func([]string) bool {
	return func(ids []string) bool { return slices.Contains(ids, id) }
}

// TestWipeInDirectMessages: every message of the DM channel is recorded by
// its id (the bot's replies, interaction responses and follow-ups, daily
// prompts, and the person's messages); /wipe deletes the bot's and says
// that the person's own remain. Interactions are answered at once, or
// deferred and then edited.
func TestWipeInDirectMessages(t *testing.T) {
	for _, tt := range []struct {
		name       string
		deferAfter time.Duration
		via        string // how the wipe's answer comes
	}{
		{"Immediate", 0, "respond"},
		{"Deferred", time.Microsecond, "edit"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			wipeInDirectMessages(t, tt.deferAfter, tt.via)
		})
	}
}

func wipeInDirectMessages(t *testing.T, deferAfter time.Duration, via string) {
	f := newFake(t)
	h := start(t, f, func(o *discord.Options) { o.DeferAfter = deferAfter })
	ctx := context.Background()
	const secret = "Nobody else should see this on my screen."
	h.texts = append(h.texts, secret)

	got := f.answersUntil(t, f.slash(t, ada, "start"), "the role question", func(r reply) bool { return r.Via == "followup" })
	h.recorded(t, ada.channel, "the /start answers to be recorded", has(got[len(got)-1].ID))
	f.dm(t, ada, secret)
	f.dm(t, ada, "And one more line.")
	u := h.user(t, ada.id)
	if err := h.a.Send(ctx, bot.AddressOf(u), h.eng.Nudge(u)); err != nil {
		t.Fatalf("Send the daily prompt: %v", err)
	}
	f.answersUntil(t, f.slash(t, ada, "progress"), "the progress", func(r reply) bool { return r.Via != "defer" })
	answers := f.answersUntil(t, f.slash(t, ada, "wipe"), "the confirmation", func(r reply) bool { return r.Via != "defer" })
	confirm := answers[len(answers)-1]
	if ids, _ := confirm.buttons(); !slices.Equal(ids, []string{"wipe", "nowipe"}) {
		t.Fatalf("/wipe answered %q with buttons %v, want a confirmation", confirm.Content, ids)
	}
	before := f.visible(ada.channel)
	ms := h.recorded(t, ada.channel, "the whole channel to be recorded", func(ids []string) bool { return len(ids) == len(before) })
	var theirs, ours int
	for _, m := range ms {
		if m.FromBot == f.fromPerson(m.ID) {
			t.Errorf("message %s recorded with FromBot = %v, wrong side", m.ID, m.FromBot)
		}
		if m.FromBot {
			ours++
		} else {
			theirs++
		}
	}
	if theirs != 2 {
		t.Fatalf("recorded %d messages of the person, want her 2 direct messages", theirs)
	}

	id := f.press(t, ada, "wipe", confirm)
	answers = f.answersUntil(t, id, "the wipe's answer", func(r reply) bool { return r.Via != "defer" })
	answer := answers[len(answers)-1]
	if answer.Via != via {
		t.Fatalf("the wipe answered via %s, want %s: a new message (the confirmation itself is deleted)", answer.Via, via)
	}
	mustContain(t, "the wipe's answer", answer.Content,
		fmt.Sprintf("I removed %d messages", ours),
		"The 2 messages you sent are still there", "delete them yourself")
	left := h.recorded(t, ada.channel, "the answer to be recorded", has(answer.ID))
	want := []string{answer.ID}
	for _, id := range f.visible(ada.channel) {
		if id != answer.ID && !f.fromPerson(id) {
			t.Errorf("the bot's message %s is still in the channel", id)
		}
		if f.fromPerson(id) {
			want = append(want, id)
		}
	}
	if len(f.visible(ada.channel)) != 3 {
		t.Errorf("left in the channel: %v, want her 2 messages and the answer", f.visible(ada.channel))
	}
	var leftIDs []string
	for _, m := range left {
		leftIDs = append(leftIDs, m.ID)
	}
	slices.Sort(leftIDs)
	slices.Sort(want)
	if !slices.Equal(leftIDs, want) {
		t.Errorf("recorded after the wipe: %v, want her 2 messages (kept) and the answer: %v", leftIDs, want)
	}
	if rs := h.reflections(t, ada.id); len(rs) != 2 {
		t.Errorf("journal after /wipe: %d reflections, want both kept", len(rs))
	}
}

// TestDeleteAndWipeInDirectMessages: "Delete everything and clear this
// chat" deletes the bot's messages and the person.
func TestDeleteAndWipeInDirectMessages(t *testing.T) {
	f := newFake(t)
	h := start(t, f)
	f.answersTo(t, f.slash(t, ada, "start"), 2)
	f.dm(t, ada, "Words for the journal.")
	confirm := f.answersTo(t, f.slash(t, ada, "delete"), 1)[0]
	h.recorded(t, ada.channel, "the confirmation to be recorded", has(confirm.ID))
	ours := len(f.visible(ada.channel)) - 1

	answer := f.answersTo(t, f.press(t, ada, "delwipe", confirm), 1)[0]
	mustContain(t, "the answer", answer.Content, fmt.Sprintf("I removed %d messages", ours),
		"The 1 message you sent is still there", "everything I kept about you is erased")
	if got := f.visible(ada.channel); len(got) != 2 || !slices.Contains(got, answer.ID) {
		t.Errorf("left in the channel: %v, want her message and the answer %s", got, answer.ID)
	}
	if _, err := h.st.User(context.Background(), bot.PlatformDiscord, ada.id); bot.ErrorCode(err) != bot.ENOTFOUND {
		t.Errorf("after delete and wipe: User = %v, want ENOTFOUND", err)
	}
}

// TestWipeAskedInAServer: /wipe given in a server clears the DM channel,
// where the private conversation is; its own answers there are ephemeral.
func TestWipeAskedInAServer(t *testing.T) {
	f := newFake(t)
	h := start(t, f)
	inServer := person{id: ada.id, name: ada.name, guild: grace.guild, channel: grace.channel}
	f.answersTo(t, f.slash(t, ada, "start"), 2)
	f.dm(t, ada, "Written in private.")
	// The welcome, the role question, her message and its answer.
	h.recorded(t, ada.channel, "the DM channel to be recorded", func(ids []string) bool { return len(ids) == 4 })
	before := f.visible(ada.channel)

	confirm := f.answersTo(t, f.slash(t, inServer, "wipe"), 1)[0]
	if !confirm.ephemeral() {
		t.Fatalf("the confirmation in a server is not ephemeral")
	}
	answers := f.answersTo(t, f.press(t, inServer, "wipe", confirm), 2)
	if answers[0].Via != "update" || !answers[1].ephemeral() {
		t.Fatalf("the press answered via %s then %s (ephemeral %v); want an update of the confirmation and an ephemeral answer",
			answers[0].Via, answers[1].Via, answers[1].ephemeral())
	}
	mustContain(t, "the answer", answers[1].Content, fmt.Sprintf("I removed %d messages", len(before)-1), "The 1 message you sent is still there")
	for _, id := range f.visible(ada.channel) {
		if !f.fromPerson(id) {
			t.Errorf("the bot's message %s is still in the DM channel", id)
		}
	}
}

// TestWipeRefusalsAndErrors calls Wipe as the engine does: a message
// Discord refuses to delete is counted as failed, one already gone as
// removed, and an outage stops the wipe with an error.
func TestWipeRefusalsAndErrors(t *testing.T) {
	tests := []struct {
		name  string
		fail  func(f *fakeDiscord)
		want  bot.WipeResult
		isErr bool
	}{
		{"OK", func(*fakeDiscord) {}, bot.WipeResult{Removed: 3}, false},
		{"MissingPermissions", func(f *fakeDiscord) {
			f.failNext("DELETE", "channels/", 1, http.StatusForbidden, `{"message": "Missing Permissions", "code": 50013}`, nil)
		}, bot.WipeResult{Removed: 2, Failed: 1}, false},
		{"AlreadyGone", func(f *fakeDiscord) {
			f.failNext("DELETE", "channels/", 1, http.StatusNotFound, `{"message": "Unknown Message", "code": 10008}`, nil)
		}, bot.WipeResult{Removed: 3}, false},
		{"ErrServer", func(f *fakeDiscord) {
			f.failNext("DELETE", "channels/", 10, http.StatusInternalServerError, `{"message": "500: Internal Server Error", "code": 0}`, nil)
		}, bot.WipeResult{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			h := start(t, f)
			ctx := context.Background()
			to := bot.Address{Platform: bot.PlatformDiscord, UserID: ada.id, ChatID: ada.channel}
			for i := range 3 {
				if err := h.a.Send(ctx, to, []bot.Reply{{Text: bot.Text{{Text: fmt.Sprintf("Prompt %d", i)}}}}); err != nil {
					t.Fatal(err)
				}
			}
			h.recorded(t, ada.channel, "3 prompts to be recorded", func(ids []string) bool { return len(ids) == 3 })
			tt.fail(f)
			res, err := h.a.Wipe(ctx, to, epoch.Add(-bot.WipeWindow))
			if (err != nil) != tt.isErr || res != tt.want {
				t.Fatalf("Wipe = %+v, %v; want %+v, error %v", res, err, tt.want, tt.isErr)
			}
			if err != nil && strings.Contains(err.Error(), f.token) {
				t.Fatalf("error contains the token: %v", err)
			}
		})
	}
}

// TestDiscreetDailyPromptIsNeutral: Discord has no protect_content, but
// the daily prompt of a discreet person still says nothing about the
// topic.
func TestDiscreetDailyPromptIsNeutral(t *testing.T) {
	f := newFake(t)
	h := start(t, f)
	f.answersTo(t, f.slash(t, ada, "start"), 2)
	got := f.answersTo(t, f.slash(t, ada, "discreet", "on_off", "on"), 1)
	mustContain(t, "/discreet on", got[0].Content, "Discreet mode is on")
	u := h.user(t, ada.id)
	if !u.Discreet {
		t.Fatal("discreet mode not stored")
	}
	if err := h.a.Send(context.Background(), bot.AddressOf(u), h.eng.Nudge(u)); err != nil {
		t.Fatal(err)
	}
	dm := f.dmsTo(t, ada.channel, 1)[0]
	if dm.Content != "Your daily note is ready." {
		t.Fatalf("the discreet daily prompt reads %q, want \"Your daily note is ready.\"", dm.Content)
	}
}
