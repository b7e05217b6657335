package telegram_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/trustbot/trustbot/adapters/telegram/telegramtest"
	"github.com/trustbot/trustbot/bot"
)

// TestRetryAfter: a 429 on a reply makes the adapter wait retry_after and
// send the same message again; the reply arrives.
func TestRetryAfter(t *testing.T) {
	t.Parallel()
	h := setup(t, telegramtest.Options{}).start()
	h.api.Fail("sendMessage", telegramtest.TooManyRequests(1))
	begin := time.Now()
	msgs := h.say(alice, "/help", 1)
	if took := time.Since(begin); took < time.Second {
		t.Errorf("the reply came %s after a 429 with retry_after 1, want at least 1s", took)
	}
	if got := msgs[0].Text; !strings.Contains(got, "/privacy") {
		t.Fatalf("reply = %q, want the help text", got)
	}
	if got, want := h.api.Calls("sendMessage"), 2; got != want {
		t.Fatalf("sendMessage calls = %d, want %d (the 429, then the same message)", got, want)
	}
	if !strings.Contains(h.logs.String(), "429") {
		t.Errorf("the 429 was not logged:\n%s", h.logs)
	}
}

// TestTransientErrorsRetried: 5xx answers, an HTML error page from a proxy
// and a dropped connection are retried with backoff until the reply gets
// through.
func TestTransientErrorsRetried(t *testing.T) {
	t.Parallel()
	h := setup(t, telegramtest.Options{}).start()
	h.api.Fail("sendMessage",
		telegramtest.Failure{Code: 500, Description: "Internal Server Error"},
		telegramtest.Failure{Code: 502, NotJSON: true},
		telegramtest.Failure{Drop: true},
	)
	msgs := h.say(alice, "/about", 1)
	if !strings.Contains(msgs[0].Text, "Rebuilding trust") {
		t.Fatalf("reply = %q, want /about", msgs[0].Text)
	}
	if got, want := h.api.Calls("sendMessage"), 4; got != want {
		t.Fatalf("sendMessage calls = %d, want %d", got, want)
	}
	if logs := h.logs.String(); !strings.Contains(logs, "not JSON") || strings.Contains(logs, "nginx") {
		t.Errorf("the proxy's page should be logged as not JSON, without its body:\n%s", logs)
	}
}

// TestBadRequestNotRetried: a 400 other than "chat not found" is logged
// with its method and description and not retried.
func TestBadRequestNotRetried(t *testing.T) {
	t.Parallel()
	h := setup(t, telegramtest.Options{}).start()
	h.api.Fail("sendMessage", telegramtest.Failure{Code: 400, Description: "Bad Request: message is too long"})
	h.api.SendText(alice, telegramtest.Private(alice), "/privacy")
	h.api.Wait(t, "the refused reply to be logged", wait, func() bool {
		return strings.Contains(h.logs.String(), "Bad Request: message is too long")
	})
	// The next command still works, and the refused one was not resent.
	msgs := h.say(alice, "/help", 1)
	if got := h.api.Calls("sendMessage"); got != 2 || len(msgs) != 1 {
		t.Fatalf("sendMessage calls = %d, messages = %d; want 2 calls (refused, then /help) and 1 message", got, len(msgs))
	}
	if logs := h.logs.String(); !strings.Contains(logs, "sendMessage") || strings.Contains(logs, "What I keep") {
		t.Errorf("the log should name the method and never quote the text:\n%s", logs)
	}
}

// TestBlockedUserUnreachable: a 403 on a reply, and a my_chat_member update
// saying the bot was blocked, both mark the person unreachable.
func TestBlockedUserUnreachable(t *testing.T) {
	t.Parallel()
	h := setup(t, telegramtest.Options{}).start()
	ctx := context.Background()

	t.Run("ReplyGets403", func(t *testing.T) {
		h.say(alice, "/start", 1)
		h.api.Block(alice)
		h.api.SendText(alice, telegramtest.Private(alice), "/progress")
		h.api.Wait(t, "alice to be marked unreachable", wait, func() bool {
			u, err := h.store.User(ctx, bot.PlatformTelegram, itoa(alice.ID))
			return err == nil && u.Unreachable
		})
	})
	t.Run("MyChatMemberKicked", func(t *testing.T) {
		h.say(bob, "/start", 1)
		if h.user(bob).Unreachable {
			t.Fatal("bob is unreachable before blocking the bot")
		}
		h.api.BlockUpdate(bob)
		h.api.Wait(t, "bob to be marked unreachable", wait, func() bool {
			u, err := h.store.User(ctx, bot.PlatformTelegram, itoa(bob.ID))
			return err == nil && u.Unreachable
		})
	})
}

// TestSend covers bot.Sender: the daily prompt path and its error codes.
func TestSend(t *testing.T) {
	t.Parallel()
	h := setup(t, telegramtest.Options{})
	h.opts.MaxAttempts = 2
	h.start()
	carol := telegramtest.User{ID: 1003, FirstName: "Carol"}
	h.api.AddChat(telegramtest.Private(alice))
	h.api.AddChat(telegramtest.Private(carol))
	h.api.AddChat(group)
	h.api.Block(carol)
	prompt := []bot.Reply{{Text: bot.Text{{Text: "A gentle prompt: "}, {Text: "what felt honest today?", Style: bot.Italic}}, Personal: true,
		Buttons: [][]bot.Button{{{Label: "Write a reflection", Action: bot.Action{Kind: bot.ActReflect}}}}}}
	to := func(u telegramtest.User) bot.Address {
		return bot.Address{Platform: bot.PlatformTelegram, UserID: itoa(u.ID), ChatID: itoa(u.ID)}
	}
	ctx := context.Background()

	t.Run("OK", func(t *testing.T) {
		if err := h.a.Send(ctx, to(alice), prompt); err != nil {
			t.Fatalf("Send: %v", err)
		}
		m := last(h.api.Messages(alice.ID))
		if m.Text != "A gentle prompt: what felt honest today?" || !contains(m.Styled("italic"), "what felt honest today?") || !contains(m.Buttons(), "Write a reflection") {
			t.Fatalf("sent %q (italic %q, buttons %q)", m.Text, m.Styled("italic"), m.Buttons())
		}
	})
	tests := []struct {
		name    string
		to      bot.Address
		fail    []telegramtest.Failure
		ctx     func() context.Context
		code    string
		replies []bot.Reply
	}{
		{"Blocked", to(carol), nil, nil, bot.EUNREACHABLE, prompt},
		{"ChatNotFound", to(telegramtest.User{ID: 4242}), nil, nil, bot.EUNREACHABLE, prompt},
		{"UserDeactivated", to(alice), []telegramtest.Failure{{Code: 403, Description: "Forbidden: user is deactivated"}}, nil, bot.EUNREACHABLE, prompt},
		{"RetriesExhausted", to(alice), []telegramtest.Failure{{Code: 502, NotJSON: true}, {Code: 500, Description: "Internal Server Error"}}, nil, bot.ETRANSIENT, prompt},
		{"RateLimitedPastDeadline", to(alice), []telegramtest.Failure{telegramtest.TooManyRequests(5)}, func() context.Context {
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			t.Cleanup(cancel)
			return ctx
		}, bot.ETRANSIENT, prompt},
		{"PersonalIntoGroup", bot.Address{Platform: bot.PlatformTelegram, UserID: itoa(alice.ID), ChatID: itoa(group.ID)}, nil, nil, bot.EINVALID, prompt},
		{"OtherPlatform", bot.Address{Platform: bot.PlatformDiscord, UserID: "1", ChatID: "1"}, nil, nil, bot.EINVALID, prompt},
		{"BadChatID", bot.Address{Platform: bot.PlatformTelegram, UserID: "x", ChatID: "x"}, nil, nil, bot.EINVALID, prompt},
		{"Refused", to(alice), []telegramtest.Failure{{Code: 400, Description: "Bad Request: message is too long"}}, nil, bot.EINTERNAL, prompt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.api.Fail("sendMessage", tt.fail...)
			ctx := context.Background()
			if tt.ctx != nil {
				ctx = tt.ctx()
			}
			before := len(h.api.AllMessages())
			err := h.a.Send(ctx, tt.to, tt.replies)
			if got := bot.ErrorCode(err); got != tt.code {
				t.Fatalf("Send: code %q (%v), want %q", got, err, tt.code)
			}
			if strings.Contains(err.Error(), h.api.Token) {
				t.Fatalf("error contains the token: %v", err)
			}
			if got := len(h.api.AllMessages()); got != before {
				t.Fatalf("%d messages were sent, want none", got-before)
			}
		})
	}
}
