package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/trustbot/trustbot/adapters/telegram/telegramtest"
	"github.com/trustbot/trustbot/storage"
)

// observeConfig writes a config for serve against api, with [http] and
// extra [telegram] lines.
func observeConfig(t *testing.T, api *telegramtest.Server, httpListen, telegramExtra string) string {
	t.Helper()
	dir := t.TempDir()
	return writeFile(t, dir, "config.toml", fmt.Sprintf(`[storage]
path = %q
plaintext = true

[scheduler]
tick = "@every 1s"

[http]
listen = %q

[telegram]
enabled = true
token = %q
api_url = %q
rate_limit = 0
%s`, filepath.Join(dir, "trustbot.db"), httpListen, api.Token, api.URL, telegramExtra))
}

// get returns the status and body of GET url.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// healthz decodes a /healthz answer.
func healthz(t *testing.T, base string) (int, map[string]string) {
	t.Helper()
	code, body := get(t, base+"/healthz")
	var h struct {
		Status string            `json:"status"`
		Checks map[string]string `json:"checks"`
	}
	if err := json.Unmarshal([]byte(body), &h); err != nil {
		t.Fatalf("/healthz body %q: %v", body, err)
	}
	if want := map[int]string{200: "ok", 503: "unavailable"}[code]; h.Status != want {
		t.Fatalf("/healthz: status %d with %q, want %q", code, h.Status, want)
	}
	return code, h.Checks
}

// metric returns the value of the sample named exactly series (name and
// labels, as the text format writes them), or -1 if there is none.
func metric(body, series string) float64 {
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err == nil {
				return f
			}
		}
	}
	return -1
}

// TestHealthAndMetrics: with [http] listen, /healthz says whether the
// database and Telegram are there, and /metrics counts what happens.
func TestHealthAndMetrics(t *testing.T) {
	api := telegramtest.NewServer(t, telegramtest.Options{})
	addr := freeAddr(t)
	base := "http://" + addr
	cfg := observeConfig(t, api, addr, "")
	dir := filepath.Dir(cfg)
	// One person whose daily prompt is due at once.
	n := telegramtest.User{ID: 801, FirstName: "N"}
	api.AddChat(telegramtest.Private(n))
	seedUsers(t, filepath.Join(dir, "trustbot.db"), nil, []int64{n.ID}, func(int) string { return "N" },
		func(int) time.Time { return time.Now().Add(-time.Second) })
	srv := startServe(t, cfg)
	waitUntil(t, "/healthz to answer", patience, func() bool {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil
	})
	api.WaitMessages(t, n.ID, 1, patience)

	a := telegramtest.User{ID: 802, FirstName: "A"}
	api.SendText(a, telegramtest.Private(a), "/start")
	api.WaitMessages(t, a.ID, 1, patience)
	api.Fail("sendMessage", telegramtest.Failure{Code: 500, Description: "Internal Server Error"}, telegramtest.Failure{Drop: true})
	api.SendText(a, telegramtest.Private(a), "/help")
	api.WaitMessages(t, a.ID, 2, patience)
	api.Block(a)
	api.SendText(a, telegramtest.Private(a), "/about")
	waitUntil(t, "the 403", patience, func() bool { return strings.Contains(srv.out.String(), "chat unreachable") })

	t.Run("Healthy", func(t *testing.T) {
		waitUntil(t, "a healthy /healthz", patience, func() bool { code, _ := healthz(t, base); return code == 200 })
		_, checks := healthz(t, base)
		if checks["storage"] != "ok" || checks["telegram"] != "ok" {
			t.Fatalf("/healthz checks %v, want storage and telegram ok", checks)
		}
	})
	t.Run("Metrics", func(t *testing.T) {
		var body string
		waitUntil(t, "the sweep's outcome in /metrics", patience, func() bool {
			_, body = get(t, base+"/metrics")
			return metric(body, `trustbot_nudges_total{outcome="sent"}`) == 1
		})
		for series, want := range map[string]float64{
			`trustbot_updates_received_total{platform="telegram"}`:           3,
			`trustbot_replies_sent_total{platform="telegram"}`:               3, // the prompt, /start, /help
			`trustbot_send_errors_total{kind="5xx",platform="telegram"}`:     1,
			`trustbot_send_errors_total{kind="network",platform="telegram"}`: 1,
			`trustbot_send_errors_total{kind="403",platform="telegram"}`:     1,
			`trustbot_send_errors_total{kind="429",platform="telegram"}`:     0,
			`trustbot_nudges_total{outcome="claimed"}`:                       1,
			`trustbot_nudges_total{outcome="skipped"}`:                       0,
			`trustbot_queue_depth{platform="telegram"}`:                      0,
		} {
			if got := metric(body, series); got != want {
				t.Errorf("%s = %v, want %v", series, got, want)
			}
		}
		if got := metric(body, "trustbot_sweep_duration_seconds_count"); got < 1 {
			t.Errorf("trustbot_sweep_duration_seconds_count = %v, want at least 1", got)
		}
		if !strings.Contains(body, "go_goroutines") || !strings.Contains(body, "process_open_fds") {
			t.Errorf("/metrics lacks the Go and process collectors")
		}
	})
	t.Run("TelegramDown", func(t *testing.T) {
		api.Outage(time.Hour, telegramtest.Failure{Code: 502, NotJSON: true}, "getUpdates")
		waitUntil(t, "an unhealthy /healthz", patience, func() bool { code, _ := healthz(t, base); return code == 503 })
		_, checks := healthz(t, base)
		if !strings.Contains(checks["telegram"], "getUpdates failing") || checks["storage"] != "ok" {
			t.Fatalf("/healthz checks in an outage: %v", checks)
		}
		api.Outage(0, telegramtest.Failure{})
		waitUntil(t, "a healthy /healthz again", patience, func() bool { code, _ := healthz(t, base); return code == 200 })
	})
	if code := srv.stop(); code != 0 {
		t.Fatalf("serve exited %d:\n%s", code, srv.out)
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Fatal("/healthz still answers after serve stopped")
	}
}

// TestHTTPOnWebhook: in webhook mode, /healthz and /metrics share the
// webhook's listener when [http] listen is that address; with [http]
// listen empty it answers only /healthz.
func TestHTTPOnWebhook(t *testing.T) {
	for _, tt := range []struct {
		name    string
		shared  bool
		metrics int
	}{{"Shared", true, 200}, {"NoHTTPListen", false, 404}} {
		t.Run(tt.name, func(t *testing.T) {
			api := telegramtest.NewServer(t, telegramtest.Options{})
			hook := freeAddr(t)
			listen := ""
			if tt.shared {
				listen = hook
			}
			cfg := observeConfig(t, api, listen, fmt.Sprintf("mode = \"webhook\"\nlisten = %q\npublic_url = \"http://%s/tg\"\nsecret = \"hook-secret\"\n", hook, hook))
			srv := startServe(t, cfg)
			a := telegramtest.User{ID: 803, FirstName: "A"}
			api.SendText(a, telegramtest.Private(a), "/start")
			api.WaitMessages(t, a.ID, 1, patience)
			if code, checks := healthz(t, "http://"+hook); code != 200 || checks["telegram"] != "ok" || checks["storage"] != "ok" {
				t.Fatalf("/healthz on the webhook's port: %d %v, want 200 with storage and telegram ok", code, checks)
			}
			code, body := get(t, "http://"+hook+"/metrics")
			if code != tt.metrics {
				t.Fatalf("/metrics on the webhook's port: %d, want %d", code, tt.metrics)
			}
			if tt.shared && metric(body, `trustbot_updates_received_total{platform="telegram"}`) != 1 {
				t.Fatalf("/metrics on the webhook's port does not count the update:\n%s", body)
			}
			if code := srv.stop(); code != 0 {
				t.Fatalf("serve exited %d:\n%s", code, srv.out)
			}
		})
	}
}

// TestHTTPListenErrors: a bad [http] listen is a config error (exit 2); an
// address in use is a runtime error (exit 1), named.
func TestHTTPListenErrors(t *testing.T) {
	api := telegramtest.NewServer(t, telegramtest.Options{})
	busy := api.URL[len("http://"):] // the fake's own address is taken
	for _, tt := range []struct {
		listen string
		code   int
		want   string
	}{
		{"localhost", 2, `http.listen: "localhost" is not a host:port address`},
		{busy, 1, "http.listen: listen tcp " + busy},
	} {
		code, out := serve(context.Background(), observeConfig(t, api, tt.listen, ""))
		if code != tt.code || !strings.Contains(out, tt.want) {
			t.Errorf("listen %q: exit %d, want %d with %q; output:\n%s", tt.listen, code, tt.code, tt.want, out)
		}
	}
}

// TestHealthStorageDown: /healthz is 503 when the database cannot be read.
func TestHealthStorageDown(t *testing.T) {
	st, err := storage.Open(filepath.Join(t.TempDir(), "trustbot.db"))
	if err != nil {
		t.Fatal(err)
	}
	h := &health{store: st}
	h.add("telegram", func() error { return nil })
	if checks, ok := h.report(context.Background()); !ok || checks["storage"] != "ok" {
		t.Fatalf("report with the store open: %v, %v; want healthy", checks, ok)
	}
	st.Close()
	checks, ok := h.report(context.Background())
	if ok || !strings.Contains(checks["storage"], "storage: ping") || checks["telegram"] != "ok" {
		t.Fatalf("report with the store closed: %v, %v; want the storage check failing", checks, ok)
	}
}
