package telegram_test

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/trustbot/trustbot/adapters/telegram/telegramtest"
	"github.com/trustbot/trustbot/bot"
)

// broadcast sends one daily prompt to each of n new private chats at once,
// through an adapter limited to rate messages a second, against a fake that
// answers 429 to a 31st message in any second. It returns how long the
// sends took and the fake.
func broadcast(tb testing.TB, n, rate int) (time.Duration, *telegramtest.Server) {
	tb.Helper()
	h := setup(tb, telegramtest.Options{RateLimit: 30})
	h.opts.RateLimit = rate
	h.start()
	for i := range n {
		h.api.AddChat(telegramtest.Chat{ID: int64(50000 + i), Type: "private"})
	}
	prompt := []bot.Reply{{Text: bot.Text{{Text: "Your daily prompt: "}, {Text: "what did you notice today?", Style: bot.Italic}}, Personal: true}}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	begin := time.Now()
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprint(50000 + i)
			errs <- h.a.Send(context.Background(), bot.Address{Platform: bot.PlatformTelegram, UserID: id, ChatID: id}, prompt)
		}()
	}
	wg.Wait()
	took := time.Since(begin)
	close(errs)
	for err := range errs {
		if err != nil {
			tb.Fatalf("Send: %v", err)
		}
	}
	return took, h.api
}

// maxInOneSecond is the most messages accepted within any one second.
func maxInOneSecond(ms []telegramtest.Message) int {
	times := make([]time.Time, len(ms))
	for i, m := range ms {
		times[i] = m.At
	}
	sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
	most, lo := 0, 0
	for hi := range times {
		for times[hi].Sub(times[lo]) >= time.Second {
			lo++
		}
		most = max(most, hi-lo+1)
	}
	return most
}

// TestGlobalPacing is the broadcast figure scaled down: 90 messages to 90
// chats at 30 a second take about 3 s, with no 429 from a fake enforcing
// 30 a second. (BenchmarkBroadcast runs the full 600.)
func TestGlobalPacing(t *testing.T) {
	t.Parallel()
	took, api := broadcast(t, 90, 30)
	if got := len(api.AllMessages()); got != 90 {
		t.Fatalf("%d messages delivered, want 90", got)
	}
	if n := api.TooMany(); n != 0 {
		t.Fatalf("the fake answered %d 429s, want 0", n)
	}
	if most := maxInOneSecond(api.AllMessages()); most > 30 {
		t.Fatalf("%d messages within one second, want at most 30", most)
	}
	// 89 gaps of 1/30 s plus 3% headroom: 3.06 s. A loaded machine only
	// adds to it.
	if took < 2900*time.Millisecond || took > 6*time.Second {
		t.Fatalf("90 messages at 30/s took %s, want about 3.06s", took)
	}
	t.Logf("90 messages at 30/s: %s, 0 429s", took.Round(time.Millisecond))
}

// TestChatPacing: one chat gets a burst of three, then about one message a
// second.
func TestChatPacing(t *testing.T) {
	t.Parallel()
	h := setup(t, telegramtest.Options{})
	h.opts.RateLimit = 30
	h.start()
	h.api.AddChat(telegramtest.Private(alice))
	var replies []bot.Reply
	for i := range 5 {
		// Buttons keep the replies from being joined into one message.
		replies = append(replies, bot.Reply{Text: bot.Text{{Text: fmt.Sprintf("part %d", i+1)}},
			Buttons: [][]bot.Button{{{Label: "Next", Action: bot.Action{Kind: bot.ActNext}}}}})
	}
	if err := h.a.Send(context.Background(), bot.Address{Platform: bot.PlatformTelegram, UserID: itoa(alice.ID), ChatID: itoa(alice.ID)}, replies); err != nil {
		t.Fatal(err)
	}
	ms := h.api.Messages(alice.ID)
	if len(ms) != 5 {
		t.Fatalf("%d messages, want 5", len(ms))
	}
	at := func(i int) time.Duration { return ms[i].At.Sub(ms[0].At) }
	if at(2) > 500*time.Millisecond {
		t.Errorf("the third message came %s after the first, want a burst", at(2))
	}
	if at(3) < 900*time.Millisecond || at(4) < 1900*time.Millisecond {
		t.Errorf("4th and 5th came %s and %s after the first, want about 1s and 2s", at(3), at(4))
	}
}
