package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trustbot/trustbot/adapters/telegram/telegramtest"
	"github.com/trustbot/trustbot/storage"
)

// TestLogsKeepSecrets runs serve at debug level, in text and in JSON, with
// known secrets (the bot token, the webhook secret, the encryption key)
// and known words of people (names, reflections, a crisis message), and
// sends them through every path it can reach: replies and daily prompts,
// answered, retried after 5xx, proxy pages, dropped connections and 429s,
// refused with a 400 that echoes the text, and refused with 403; journal
// pages and exports; webhook requests with a wrong secret or a broken body.
// No log line, and nothing /metrics or /healthz answers, may hold any of
// them; nor may a line need the logger's scrubbing (which would mean a
// code path tried to log one).
func TestLogsKeepSecrets(t *testing.T) {
	for _, tt := range []struct{ format, mode string }{{"text", "polling"}, {"json", "webhook"}} {
		t.Run(tt.format+"_"+tt.mode, func(t *testing.T) {
			t.Parallel() // each has its own fake, database and ports
			logsKeepSecrets(t, tt.format, tt.mode)
		})
	}
}

func logsKeepSecrets(t *testing.T, format, mode string) {
	const (
		token         = "424242:AAHsecretTokenValueForTheLogTest_0123"
		webhookSecret = "webhook-secret-VALUE_for-the-log-test"
		nameA         = "Quillonius"
		nameN         = "Ximenaverde"
		nameB         = "Brontehilde"
	)
	// Words that must not leak, in everything people write.
	words := []string{
		"zq-first-reflection-words", "zq-retried-reflection-words", "zq-refused-reflection-words",
		"zq-crisis-words", "zq-blocked-reflection-words", "zq-wrong-secret-body", "zq-broken-body",
	}
	api := telegramtest.NewServer(t, telegramtest.Options{Token: token})
	dir, keyDir := t.TempDir(), t.TempDir()
	keyFile := filepath.Join(keyDir, "trustbot.key")
	key, err := storage.WriteKeyFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	keyText, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "trustbot.db")
	hook := freeAddr(t)
	httpAddr := hook // webhook mode: one listener for both
	telegramTable := fmt.Sprintf("enabled = true\ntoken = %q\napi_url = %q\nrate_limit = 0\n", token, api.URL)
	if mode == "webhook" {
		telegramTable += fmt.Sprintf("mode = \"webhook\"\nlisten = %q\npublic_url = \"http://%s/tg\"\nsecret = %q\n", hook, hook, webhookSecret)
	} else {
		httpAddr = freeAddr(t)
	}
	cfg := writeFile(t, dir, "config.toml", fmt.Sprintf(`[storage]
path = %q
encryption_key_file = %q

[scheduler]
tick = "@every 1s"
quiet_start = "00:00"
quiet_end = "00:00"

[log]
format = %q
level = "debug"

[http]
listen = %q

[telegram]
%s`, db, keyFile, format, httpAddr, telegramTable))

	// Two people whose daily prompt is due at once: one gets it after a
	// 500 that quotes their name, one has blocked the bot.
	n, b := telegramtest.User{ID: 702, FirstName: nameN}, telegramtest.User{ID: 703, FirstName: nameB}
	api.AddChat(telegramtest.Private(n))
	api.AddChat(telegramtest.Private(b))
	api.Block(b)
	seedUsers(t, db, key, []int64{n.ID, b.ID}, func(i int) string { return []string{nameN, nameB}[i] },
		func(int) time.Time { return time.Now().Add(-time.Second) })
	api.Fail("sendMessage", telegramtest.Failure{Code: 500, Description: `Internal Server Error: "` + nameN + `"`})

	srv := startServe(t, cfg)
	api.WaitMessages(t, n.ID, 1, patience) // the daily prompt, after the 500
	waitUntil(t, "the blocked person's prompt to fail", patience, func() bool { return strings.Contains(srv.out.String(), "person unreachable") })

	if mode == "polling" {
		// The polls after the one that brings /start fail: the library
		// logs them through the adapter.
		api.Fail("getUpdates",
			telegramtest.Failure{Code: 500, Description: "Internal Server Error: " + words[0]},
			telegramtest.Failure{Code: 502, NotJSON: true},
			telegramtest.Failure{Drop: true},
		)
	}
	a := telegramtest.User{ID: 701, FirstName: nameA}
	say := func(text string, want int) []telegramtest.Message {
		t.Helper()
		api.SendText(a, telegramtest.Private(a), text)
		return api.WaitMessages(t, a.ID, want, patience)
	}
	msgs := say("/start", 1)
	api.Press(a, msgs[0], msgs[0].Buttons()[0]) // a role
	msgs = api.WaitMessages(t, a.ID, 2, patience)
	msgs = say(words[0], len(msgs)+1)
	api.Fail("sendMessage",
		telegramtest.Failure{Code: 500, Description: "Internal Server Error: " + words[1]},
		telegramtest.Failure{Code: 502, NotJSON: true},
		telegramtest.Failure{Drop: true},
		telegramtest.TooManyRequests(1),
	)
	msgs = say(words[1], len(msgs)+1)
	api.Fail("sendMessage", telegramtest.Failure{Code: 400, Description: `Bad Request: can't parse entities: Unsupported start tag "` + words[2] + `" at byte offset 0`})
	api.SendText(a, telegramtest.Private(a), words[2])
	waitUntil(t, "the refused reply", patience, func() bool { return strings.Contains(srv.out.String(), "refused a reply") })
	msgs = say("I want to end my life "+words[3], len(msgs)+1)
	api.Fail("sendMessage", telegramtest.Failure{Code: 500, Description: "Internal Server Error: " + words[0]})
	msgs = say("/journal", len(msgs)+1)
	api.Fail("sendDocument", telegramtest.Failure{Code: 400, Description: `Bad Request: "` + words[0] + `"`})
	api.SendText(a, telegramtest.Private(a), "/export")
	waitUntil(t, "the refused export", patience, func() bool { return api.Calls("sendDocument") == 1 })
	msgs = say("/export", len(msgs)+1)
	if msgs[len(msgs)-1].Document == nil || !strings.Contains(string(msgs[len(msgs)-1].Document.Data), words[0]) {
		t.Fatal("the export did not arrive with the journal in it")
	}
	if mode == "webhook" {
		for _, r := range []struct{ secret, body string }{
			{"wrong-" + webhookSecret, `{"update_id":1,"message":{"text":"` + words[5] + `"}}`},
			{webhookSecret, "{" + words[6]},
		} {
			req, _ := http.NewRequest(http.MethodPost, "http://"+hook+"/tg", strings.NewReader(r.body))
			req.Header.Set("X-Telegram-Bot-Api-Secret-Token", r.secret)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode < 400 {
				t.Fatalf("a webhook request with %s got %d", r.secret, resp.StatusCode)
			}
		}
	}
	if mode == "polling" {
		waitUntil(t, "the failed polls", patience, func() bool { return strings.Count(srv.out.String(), "polling failed") >= 3 })
	}
	api.Block(a)
	api.SendText(a, telegramtest.Private(a), words[4])
	waitUntil(t, "the blocked reply", patience, func() bool { return strings.Contains(srv.out.String(), "chat unreachable") })

	var endpoints []string
	for _, path := range []string{"/healthz", "/metrics"} {
		resp, err := http.Get("http://" + httpAddr + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		endpoints = append(endpoints, string(body))
	}
	if code := srv.stop(); code != 0 {
		t.Fatalf("serve exited %d", code)
	}

	out := srv.out.String()
	// The paths above were taken: each left its trace.
	for _, want := range []string{
		"send failed; retrying", "rate limited (429)", "refused a reply", "chat unreachable",
		"person unreachable", "daily prompts: sweep", "telegram: connected",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no log line says %q: a path was not reached", want)
		}
	}
	secrets := append([]string{
		token, token[strings.Index(token, ":")+1:], webhookSecret, strings.TrimSpace(string(keyText)),
		nameA, nameN, nameB,
	}, words...)
	check := func(where, s string) {
		for _, secret := range secrets {
			if strings.Contains(s, secret) {
				t.Errorf("%s holds %q:\n%s", where, secret, s)
			}
		}
	}
	check("the log", out)
	check("/healthz", endpoints[0])
	check("/metrics", endpoints[1])
	if strings.Contains(out, redacted) {
		t.Errorf("a log line needed scrubbing: a code path logs a secret:\n%s", out)
	}
	if format == "json" {
		// JSON escapes some characters: check the decoded values too.
		lines := 0
		sc := bufio.NewScanner(strings.NewReader(out))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			line := sc.Text()
			if !strings.HasPrefix(line, "{") {
				continue // exitCode's own line, if any
			}
			var v any
			if err := json.Unmarshal([]byte(line), &v); err != nil {
				t.Fatalf("a JSON log line does not parse: %v\n%s", err, line)
			}
			lines++
			walkStrings(v, func(s string) { check("a decoded JSON log value", s) })
		}
		if lines < 10 {
			t.Fatalf("%d JSON log lines, want many at debug level:\n%s", lines, out)
		}
	}
}

// walkStrings calls fn with every string in a decoded JSON value, keys
// included.
func walkStrings(v any, fn func(string)) {
	switch v := v.(type) {
	case string:
		fn(v)
	case []any:
		for _, x := range v {
			walkStrings(x, fn)
		}
	case map[string]any:
		for k, x := range v {
			fn(k)
			walkStrings(x, fn)
		}
	}
}
