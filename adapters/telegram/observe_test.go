package telegram_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trustbot/trustbot/adapters/telegram"
	"github.com/trustbot/trustbot/adapters/telegram/telegramtest"
	"github.com/trustbot/trustbot/bot"
)

// counts is a telegram.Metrics that counts.
type counts struct {
	mu       sync.Mutex
	received int
	sent     int
	failed   map[string]int
}

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

func (c *counts) get() (received, sent int, failed map[string]int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f := map[string]int{}
	for k, v := range c.failed {
		f[k] = v
	}
	return c.received, c.sent, f
}

// TestMetrics: updates, sent messages and each failed try by kind reach
// Options.Metrics.
func TestMetrics(t *testing.T) {
	t.Parallel()
	h := setup(t, telegramtest.Options{})
	m := &counts{}
	h.opts.Metrics = m
	h.start()

	h.say(alice, "/start", 1)
	h.api.Fail("sendMessage",
		telegramtest.Failure{Code: 500, Description: "Internal Server Error"},
		telegramtest.Failure{Code: 502, NotJSON: true},
		telegramtest.Failure{Drop: true},
		telegramtest.TooManyRequests(1),
	)
	h.say(alice, "/help", 2) // four failed tries, then sent
	h.api.Fail("sendMessage", telegramtest.Failure{Code: 400, Description: "Bad Request: message is too long"})
	h.api.SendText(alice, telegramtest.Private(alice), "/about") // refused: nothing arrives
	h.api.Wait(t, "the refused /about", wait, func() bool { _, _, f := m.get(); return f[telegram.SendError400] == 1 })
	h.api.Block(bob)
	h.api.SendText(bob, telegramtest.Private(bob), "/start")
	h.api.Wait(t, "the blocked reply", wait, func() bool { _, _, f := m.get(); return f[telegram.SendError403] == 1 })

	received, sent, failed := m.get()
	if received != 4 || sent != 2 {
		t.Errorf("received %d, sent %d; want 4 updates and 2 messages", received, sent)
	}
	want := map[string]int{telegram.SendError5xx: 2, telegram.SendErrorNetwork: 1, telegram.SendError429: 1, telegram.SendError400: 1, telegram.SendError403: 1}
	for k, n := range want {
		if failed[k] != n {
			t.Errorf("failed tries of kind %s: %d, want %d (all: %v)", k, failed[k], n, failed)
		}
	}
}

// blockingEngine holds every Handle until release is closed.
type blockingEngine struct {
	telegram.Engine
	entered chan struct{}
	release chan struct{}
}

func (b *blockingEngine) Handle(ctx context.Context, in bot.Incoming) ([]bot.Reply, error) {
	b.entered <- struct{}{}
	<-b.release
	return b.Engine.Handle(ctx, in)
}

// TestQueueDepth counts the updates waiting behind one being handled.
func TestQueueDepth(t *testing.T) {
	t.Parallel()
	h := setup(t, telegramtest.Options{})
	eng := &blockingEngine{Engine: h.eng, entered: make(chan struct{}, 10), release: make(chan struct{})}
	h.opts.Engine = eng
	h.start()
	for _, text := range []string{"/start", "/help", "/about"} {
		h.api.SendText(alice, telegramtest.Private(alice), text)
	}
	<-eng.entered
	h.api.Wait(t, "two updates queued", wait, func() bool { return h.a.QueueDepth() == 2 })
	close(eng.release)
	h.api.WaitMessages(t, alice.ID, 3, wait)
	if got := h.a.QueueDepth(); got != 0 {
		t.Fatalf("QueueDepth after all were answered = %d, want 0", got)
	}
}

// TestHealth: connected while polls succeed; not while the Bot API is
// down; connected again after; not after shutdown.
func TestHealth(t *testing.T) {
	t.Parallel()
	h := setup(t, telegramtest.Options{})
	h.opts.PollTimeout = 2 * time.Second
	h.start()
	healthy := func() bool { return h.a.Health() == nil }
	h.api.Wait(t, "healthy at start", wait, healthy)

	h.api.Outage(time.Hour, telegramtest.Failure{Code: 502, NotJSON: true}, "getUpdates")
	h.api.Wait(t, "unhealthy in an outage", wait, func() bool { return !healthy() })
	if err := h.a.Health(); !strings.Contains(err.Error(), "getUpdates failing since") {
		t.Fatalf("Health in an outage = %v, want it to name getUpdates", err)
	}
	h.api.Outage(0, telegramtest.Failure{})
	h.api.Wait(t, "healthy after the outage", wait, healthy)

	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	if err := h.a.Health(); err == nil {
		t.Fatal("Health after shutdown = nil, want an error")
	}
}

// TestWebhookHTTP: with Options.HTTP, the webhook's listener hands every
// request but the updates to it.
func TestWebhookHTTP(t *testing.T) {
	t.Parallel()
	h := setup(t, telegramtest.Options{})
	addr := freeAddr(t)
	public := "http://" + addr + "/telegram/hook"
	h.opts.Mode, h.opts.Listen, h.opts.PublicURL, h.opts.Secret = telegram.ModeWebhook, addr, public, webhookSecret
	h.opts.HTTP = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "main: "+r.Method+" "+r.URL.Path)
	})
	h.start()
	for _, path := range []string{"/healthz", "/metrics", "/telegram/hook"} {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if want := "main: GET " + path; string(body) != want {
			t.Errorf("GET %s = %q, want %q", path, body, want)
		}
	}
	h.say(alice, "/start", 1) // updates still reach the adapter
}

// TestDescriptionEchoNotLogged: Telegram's descriptions may quote what it
// was sent; the quote never reaches the logs.
func TestDescriptionEchoNotLogged(t *testing.T) {
	t.Parallel()
	h := setup(t, telegramtest.Options{})
	h.start()
	h.say(alice, "/start", 1)
	const echo = "my-private-words-echoed"
	h.api.Fail("sendMessage",
		telegramtest.Failure{Code: 500, Description: `Internal Server Error: "` + echo}, // retried
		telegramtest.Failure{Code: 400, Description: `Bad Request: can't parse entities: Unsupported start tag "` + echo + `" at byte offset 3`},
	)
	h.api.SendText(alice, telegramtest.Private(alice), "/help")
	h.api.Wait(t, "the refused reply logged", wait, func() bool { return strings.Contains(h.logs.String(), "refused a reply") })
	if logs := h.logs.String(); !strings.Contains(logs, "can't parse entities") {
		t.Fatalf("the logs lost the description's kind:\n%s", logs)
	}
	h.checkLogs(echo)
}
