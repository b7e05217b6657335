package discord_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trustbot/trustbot/adapters/discord"
	"github.com/trustbot/trustbot/bot"
)

// counts is a discord.Metrics that counts.
type counts struct {
	mu       sync.Mutex
	received int
	sent     int
	failed   map[string]int
}

var _ discord.Metrics = (*counts)(nil)

func (c *counts) UpdateReceived() { c.mu.Lock(); c.received++; c.mu.Unlock() }
func (c *counts) MessageSent()    { c.mu.Lock(); c.sent++; c.mu.Unlock() }
func (c *counts) SendFailed(kind string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.failed == nil {
		c.failed = map[string]int{}
	}
	c.failed[kind]++
}

func (c *counts) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return fmt.Sprintf("received %d, sent %d, failed %v", c.received, c.sent, c.failed)
}

// want waits until the counts are received, sent and failed exactly (the
// hooks run just after the fake has answered, so they are polled).
func (c *counts) want(t *testing.T, what string, received, sent int, failed map[string]int) {
	t.Helper()
	want := fmt.Sprintf("received %d, sent %d, failed %v", received, sent, failed)
	if len(failed) == 0 {
		want = fmt.Sprintf("received %d, sent %d, failed map[]", received, sent)
	}
	eventually(t, what+": "+want, func() bool { return c.String() == want })
}

// eventually polls cond until it holds, or fails the test after a
// deadline generous enough for a loaded machine.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// messagesTo waits until the interaction id has been answered with n
// messages a person sees (a "thinking…" deferral is none; the edit that
// replaces it is one), and returns n.
func messagesTo(t *testing.T, f *fakeDiscord, id string, n int) int {
	t.Helper()
	f.waitFor(t, fmt.Sprintf("%d messages answering %s", n, id), func() bool {
		got := 0
		for _, r := range f.reqs {
			if !r.done || !isMessage(r) || !(strings.HasPrefix(r.Path, "interactions/"+id+"/") || strings.Contains(r.Path, "/itok-"+id+"-")) {
				continue
			}
			switch toReply(r).Via {
			case "respond", "edit", "followup":
				got++
			}
		}
		return got >= n
	})
	return n
}

// TestMetrics: interactions and direct messages received, messages sent
// and each failed try by kind reach Options.Metrics.
func TestMetrics(t *testing.T) {
	f := newFake(t)
	m := &counts{}
	h := start(t, f, func(o *discord.Options) { o.Metrics = m })
	ctx := context.Background()

	sent := messagesTo(t, f, f.slash(t, ada, "start"), 2)
	m.want(t, "after /start", 1, sent, nil)

	h.texts = append(h.texts, "a first reflection")
	f.dm(t, ada, "a first reflection")
	f.dmsTo(t, ada.channel, 1) // a reflection is answered with one message
	sent++
	m.want(t, "after a direct message", 2, sent, nil)

	// A server message is dropped unread: not counted.
	// (Events are handled in order: /help's answer means the message
	// before it was seen.)
	f.dm(t, grace, "in the server")
	sent += messagesTo(t, f, f.slash(t, grace, "help"), 1)
	m.want(t, "after a server message and /help", 3, sent, nil)

	nudge := []bot.Reply{{Text: bot.Text{{Text: "Today's question"}}}}
	to := bot.AddressOf(h.user(t, ada.id))

	f.failNext("POST", "channels/", 1, http.StatusTooManyRequests, `{"message": "You are being rate limited.", "retry_after": 0.05, "global": false}`,
		http.Header{"Retry-After": {"1"}, "X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Reset-After": {"0.05"}, "X-Ratelimit-Bucket": {"m1"}})
	if err := h.a.Send(ctx, to, nudge); err != nil {
		t.Fatalf("Send after a 429: %v", err)
	}
	sent++
	m.want(t, "after a 429 and its retry", 3, sent, map[string]int{discord.SendError429: 1})

	f.failNext("POST", "channels/", 1, http.StatusInternalServerError, `{"message": "500: Internal Server Error", "code": 0}`, nil)
	if err := h.a.Send(ctx, to, nudge); bot.ErrorCode(err) != bot.ETRANSIENT {
		t.Fatalf("Send in an outage: %v, want ETRANSIENT", err)
	}
	m.want(t, "after a 500", 3, sent, map[string]int{discord.SendError429: 1, discord.SendError5xx: 1})

	f.failNext("POST", "channels/", 1, http.StatusForbidden, `{"message": "Cannot send messages to this user", "code": 50007}`, nil)
	if err := h.a.Send(ctx, to, nudge); bot.ErrorCode(err) != bot.EUNREACHABLE {
		t.Fatalf("Send to a person who closed their DMs: %v, want EUNREACHABLE", err)
	}
	m.want(t, "after a 403 (50007)", 3, sent, map[string]int{discord.SendError429: 1, discord.SendError5xx: 1, discord.SendError403: 1})
	if err := h.a.Health(); err != nil {
		t.Fatalf("Health after send failures = %v, want nil: none of them is fatal", err)
	}
}

// blockingEngine holds every Handle until release is closed.
type blockingEngine struct {
	discord.Engine
	entered chan struct{}
	release chan struct{}
}

func (b *blockingEngine) Handle(ctx context.Context, in bot.Incoming) ([]bot.Reply, error) {
	b.entered <- struct{}{}
	<-b.release
	return b.Engine.Handle(ctx, in)
}

// TestQueueDepth counts the direct messages waiting behind one being
// handled.
func TestQueueDepth(t *testing.T) {
	f := newFake(t)
	var eng *blockingEngine
	h := start(t, f, func(o *discord.Options) {
		eng = &blockingEngine{Engine: o.Engine, entered: make(chan struct{}, 10), release: make(chan struct{})}
		o.Engine = eng
	})
	released := false
	t.Cleanup(func() {
		if !released {
			close(eng.release) // before the adapter's Close waits for the turns
		}
	})
	if got := h.a.QueueDepth(); got != 0 {
		t.Fatalf("QueueDepth at start = %d, want 0", got)
	}
	for _, text := range []string{"one", "two", "three"} {
		h.texts = append(h.texts, "reflection "+text)
		f.dm(t, ada, "reflection "+text)
	}
	<-eng.entered
	eventually(t, "two messages queued", func() bool { return h.a.QueueDepth() == 2 })
	close(eng.release)
	released = true
	for range 2 {
		<-eng.entered
	}
	eventually(t, "the queue empty", func() bool { return h.a.QueueDepth() == 0 })
}

// TestHealth: connected after READY; not while the gateway is down;
// connected again once discordgo has resumed; not after shutdown.
func TestHealth(t *testing.T) {
	f := newFake(t)
	h := start(t, f)
	if err := h.a.Health(); err != nil {
		t.Fatalf("Health after Start = %v, want nil (READY received)", err)
	}

	f.drop(true)
	var down error
	eventually(t, "unhealthy with the gateway down", func() bool { down = h.a.Health(); return down != nil })
	if !strings.Contains(down.Error(), "gateway disconnected since") {
		t.Fatalf("Health with the gateway down = %v, want it to say since when", down)
	}
	f.drop(false)
	eventually(t, "healthy after the gateway is back", func() bool { return h.a.Health() == nil })
	f.mu.Lock()
	resumes := f.resumes
	f.mu.Unlock()
	if resumes == 0 {
		t.Fatal("healthy again without a Resume")
	}
	// Events flow again on the resumed connection.
	f.answersTo(t, f.slash(t, ada, "help"), 1)

	h.a.Close()
	if err := h.a.Health(); err == nil || !strings.Contains(err.Error(), "shutting down") {
		t.Fatalf("Health after Close = %v, want shutting down", err)
	}
}

// TestHealthAfterTokenRefused: a 401 on a bot-token request (the token
// reset in the Developer Portal while running) is fatal.
func TestHealthAfterTokenRefused(t *testing.T) {
	f := newFake(t)
	h := start(t, f)

	f.failNext("POST", "users/@me/channels", 1, http.StatusUnauthorized, `{"message": "401: Unauthorized", "code": 0}`, nil)
	if err := h.a.Send(context.Background(), bot.Address{Platform: bot.PlatformDiscord, UserID: ada.id}, []bot.Reply{{Text: bot.Text{{Text: "hi"}}}}); err == nil {
		t.Fatal("Send with a refused token succeeded")
	}
	err := h.a.Health()
	if !errors.Is(err, discord.ErrUnauthorized) {
		t.Fatalf("Health after a 401 = %v, want ErrUnauthorized", err)
	}
	if strings.Contains(err.Error(), f.token) {
		t.Fatal("Health's error holds the token")
	}
}
