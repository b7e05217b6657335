package telegram_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trustbot/trustbot/adapters/telegram"
	"github.com/trustbot/trustbot/adapters/telegram/telegramtest"
)

// freeAddr returns a loopback address with a free port.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

const webhookSecret = "s3cr3t-Webhook_token"

// TestWebhook: setWebhook with the secret at start; requests without the
// right secret are refused (the library's own handler would answer 200);
// updates Telegram delivers are answered; a re-delivered update is dropped;
// /healthz answers.
func TestWebhook(t *testing.T) {
	t.Parallel()
	h := setup(t, telegramtest.Options{})
	addr := freeAddr(t)
	public := "http://" + addr + "/telegram/hook"
	h.opts.Mode, h.opts.Listen, h.opts.PublicURL, h.opts.Secret = telegram.ModeWebhook, addr, public, webhookSecret
	h.start()

	if gotURL, gotSecret := h.api.Webhook(); gotURL != public || gotSecret != webhookSecret {
		t.Fatalf("setWebhook(%q, %q), want (%q, the secret)", gotURL, gotSecret, public)
	}
	if n := h.api.Calls("deleteWebhook"); n != 0 {
		t.Errorf("deleteWebhook called %d times in webhook mode", n)
	}
	body := `{"update_id":1,"message":{"message_id":1,"date":1,"chat":{"id":3003,"type":"private"},"from":{"id":3003,"is_bot":false,"first_name":"Eve"},"text":"/start"}}`
	for _, tt := range []struct {
		name, secret string
		want         int
	}{
		{"NoSecret", "", http.StatusUnauthorized},
		{"WrongSecret", "guess", http.StatusForbidden},
		{"WrongCase", strings.ToUpper(webhookSecret), http.StatusForbidden},
	} {
		req, _ := http.NewRequest(http.MethodPost, public, strings.NewReader(body))
		if tt.secret != "" {
			req.Header.Set("X-Telegram-Bot-Api-Secret-Token", tt.secret)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("%s: status %d, want %d", tt.name, resp.StatusCode, tt.want)
		}
	}
	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("/healthz: %v %v, want 200", resp, err)
	}
	resp.Body.Close()

	id := h.api.SendText(alice, telegramtest.Private(alice), "/start")
	msgs := h.api.WaitMessages(t, alice.ID, 1, wait)
	h.api.Replay(id) // Telegram re-sends an update it thinks was not received
	msgs = h.say(alice, "/help", len(msgs)+1)
	if len(msgs) != 2 {
		t.Fatalf("%d messages, want 2: the re-delivered /start was answered again", len(msgs))
	}
	// The fake records a delivery's status after the reply may have come.
	h.api.Wait(t, "three webhook deliveries", wait, func() bool { return len(h.api.WebhookStatuses()) >= 3 })
	if got := h.api.WebhookStatuses(); len(got) != 3 || slices.ContainsFunc(got, func(s int) bool { return s != 200 }) {
		t.Fatalf("webhook deliveries = %v, want three 200s", got)
	}
	if _, err := h.store.User(context.Background(), "telegram", "3003"); err == nil {
		t.Fatalf("an update with the wrong secret was handled")
	}
	if err := h.stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if _, err := http.Get("http://" + addr + "/healthz"); err == nil {
		t.Errorf("the webhook server still answers after shutdown")
	}
	h.checkLogs(webhookSecret)
}

// TestShutdownWhileRetrying: a reply being retried when shutdown begins is
// still delivered, and Run waits for it.
func TestShutdownWhileRetrying(t *testing.T) {
	t.Parallel()
	h := setup(t, telegramtest.Options{})
	h.opts.RetryBackoff = 150 * time.Millisecond
	h.start()
	h.api.Fail("sendMessage",
		telegramtest.Failure{Code: 500, Description: "Internal Server Error"},
		telegramtest.TooManyRequests(1),
		telegramtest.Failure{Code: 502, NotJSON: true})
	h.api.SendText(alice, telegramtest.Private(alice), "/help")
	h.api.Wait(t, "the first failed send", wait, func() bool { return h.api.Calls("sendMessage") >= 1 })
	begin := time.Now()
	if err := h.stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	msgs := h.api.Messages(alice.ID)
	if len(msgs) != 1 || !strings.Contains(msgs[0].Text, "/privacy") {
		t.Fatalf("after shutdown: %d messages, want the help reply delivered", len(msgs))
	}
	if took := time.Since(begin); took < time.Second {
		t.Errorf("Run returned %s after cancel, before the reply's retry_after of 1s: it did not wait", took)
	}
}

// TestShutdownGivesUp: a reply that cannot be delivered does not hold
// shutdown beyond ShutdownTimeout, and the loss is logged.
func TestShutdownGivesUp(t *testing.T) {
	t.Parallel()
	h := setup(t, telegramtest.Options{})
	h.opts.RetryBackoff, h.opts.MaxAttempts, h.opts.ShutdownTimeout = 50*time.Millisecond, 1000, 300*time.Millisecond
	h.start()
	fails := make([]telegramtest.Failure, 1000)
	for i := range fails {
		fails[i] = telegramtest.Failure{Code: 503, Description: "Service Unavailable"}
	}
	h.api.Fail("sendMessage", fails...)
	h.api.SendText(alice, telegramtest.Private(alice), "/help")
	h.api.Wait(t, "a failed send", wait, func() bool { return h.api.Calls("sendMessage") >= 1 })
	begin := time.Now()
	if err := h.stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if took := time.Since(begin); took > 3*time.Second {
		t.Errorf("Run took %s to return with a 300ms shutdown timeout", took)
	}
	if logs := h.logs.String(); !strings.Contains(logs, "reply not delivered") {
		t.Errorf("the lost reply was not logged:\n%s", logs)
	}
}

// TestPollingStops: polling gives up with an error when Telegram revokes
// the token (401), or when something else keeps a webhook set (409).
func TestPollingStops(t *testing.T) {
	t.Parallel()
	t.Run("Unauthorized", func(t *testing.T) {
		t.Parallel()
		h := setup(t, telegramtest.Options{})
		h.api.Fail("getUpdates", telegramtest.Failure{Code: 401, Description: "Unauthorized"})
		h.start()
		select {
		case err := <-h.done:
			h.cancel = nil
			if !errors.Is(err, telegram.ErrUnauthorized) {
				t.Fatalf("Run = %v, want ErrUnauthorized", err)
			}
		case <-time.After(wait):
			t.Fatal("Run kept polling with a revoked token")
		}
	})
	t.Run("Conflict", func(t *testing.T) {
		t.Parallel()
		h := setup(t, telegramtest.Options{})
		h.opts.ConflictTimeout = 300 * time.Millisecond
		h.start()
		h.api.Wait(t, "polling", wait, func() bool { return h.api.Calls("getUpdates") > 0 })
		// Another deployment sets a webhook for the same bot.
		resp, err := http.Post(h.api.URL+"/bot"+h.api.Token+"/setWebhook?url=https://elsewhere.example/hook", "", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		select {
		case err := <-h.done:
			h.cancel = nil
			if err == nil || !strings.Contains(err.Error(), "409 Conflict") {
				t.Fatalf("Run = %v, want a 409 Conflict error", err)
			}
		case <-time.After(wait):
			t.Fatal("Run kept polling against a webhook")
		}
	})
}

// TestNewErrors: bad options, a rejected token and an unreachable API
// give clear errors that never contain the token or the secret.
func TestNewErrors(t *testing.T) {
	t.Parallel()
	api := telegramtest.NewServer(t, telegramtest.Options{})
	down := httptest.NewServer(http.NotFoundHandler())
	downURL := down.URL
	down.Close()
	// A web server that is not a Bot API answers 404 with a page; a Bot API
	// answers 404 in its envelope (a wrong path in api_url).
	notAPI := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(notAPI.Close)
	wrongPath := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte(`{"ok":false,"error_code":404,"description":"Not Found"}`))
	}))
	t.Cleanup(wrongPath.Close)
	good := telegram.Options{Token: api.Token, APIURL: api.URL, Engine: setup(t, telegramtest.Options{}).eng, StartTimeout: 5 * time.Second}
	otherToken := "987654321:AAHsomeOtherTokenThatIsNotTheServers0"
	tests := []struct {
		name      string
		change    func(*telegram.Options)
		configKey string // a *ConfigError for this key; "" for a runtime error
		is        error
		contains  string
	}{
		{"NoToken", func(o *telegram.Options) { o.Token = "" }, "token", nil, "TELEGRAM_BOT_TOKEN"},
		{"MalformedToken", func(o *telegram.Options) { o.Token = "bot" + api.Token + " " }, "token", nil, "does not look like a bot token"},
		{"TokenWithoutID", func(o *telegram.Options) { o.Token = "AAHfakeTokenForTestsOnly-0123456789" }, "token", nil, "does not look like a bot token"},
		{"BadMode", func(o *telegram.Options) { o.Mode = "push" }, "mode", nil, `"push"`},
		{"BadAPIURL", func(o *telegram.Options) { o.APIURL = "api.telegram.org" }, "api_url", nil, "not an http(s) URL"},
		{"NegativeRate", func(o *telegram.Options) { o.RateLimit = -1 }, "rate_limit", nil, "negative"},
		{"WebhookNoSecret", func(o *telegram.Options) {
			o.Mode, o.Listen, o.PublicURL = "webhook", "127.0.0.1:0", "https://bot.example/tg"
		}, "secret", nil, "TELEGRAM_WEBHOOK_SECRET"},
		{"WebhookBadSecret", func(o *telegram.Options) {
			o.Mode, o.Listen, o.PublicURL, o.Secret = "webhook", "127.0.0.1:0", "https://bot.example/tg", "has spaces in it"
		}, "secret", nil, "letters, digits"},
		{"WebhookHTTPOnPublicAPI", func(o *telegram.Options) {
			o.APIURL, o.Mode, o.Listen, o.PublicURL, o.Secret = "", "webhook", "127.0.0.1:0", "http://bot.example/tg", webhookSecret
		}, "public_url", nil, "https://"},
		{"WebhookNoListen", func(o *telegram.Options) {
			o.Mode, o.PublicURL, o.Secret = "webhook", "https://bot.example/tg", webhookSecret
		}, "listen", nil, "empty"},
		{"Rejected", func(o *telegram.Options) { o.Token = otherToken }, "", telegram.ErrUnauthorized, "@BotFather"},
		{"WrongPath", func(o *telegram.Options) { o.APIURL = wrongPath.URL }, "api_url", nil, "404"},
		{"NotABotAPI", func(o *telegram.Options) { o.APIURL = notAPI.URL }, "", nil, "not JSON"},
		{"Unreachable", func(o *telegram.Options) { o.APIURL = downURL }, "", nil, "is the Bot API reachable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := good
			tt.change(&o)
			a, err := telegram.New(context.Background(), o)
			if err == nil {
				t.Fatalf("New succeeded (%v), want an error", a.Username())
			}
			var ce *telegram.ConfigError
			switch {
			case tt.configKey != "" && (!errors.As(err, &ce) || ce.Key != tt.configKey):
				t.Fatalf("New: %v; want a ConfigError for telegram.%s", err, tt.configKey)
			case tt.configKey == "" && errors.As(err, &ce):
				t.Fatalf("New: %v is a ConfigError, want a runtime error", err)
			case tt.is != nil && !errors.Is(err, tt.is):
				t.Fatalf("New: %v, want %v", err, tt.is)
			case !strings.Contains(err.Error(), tt.contains):
				t.Fatalf("New: %q does not say %q", err, tt.contains)
			}
			for _, secret := range []string{api.Token, otherToken, o.Token, "AAHfakeTokenForTestsOnly", webhookSecret, "has spaces in it"} {
				if secret != "" && strings.Contains(err.Error(), secret) {
					t.Fatalf("error %q contains a secret", err)
				}
			}
		})
	}
}
