package telegramtest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestParseHTML(t *testing.T) {
	tests := []struct {
		name, in, text string
		ents           []Entity
		err            string
	}{
		{"Plain", "hello", "hello", nil, ""},
		{"Bold", "<b>bold</b> &lt;x&gt;", "bold <x>", []Entity{{Type: "bold", Offset: 0, Length: 4}}, ""},
		{"Nested", "<b>a<i>b</i></b>", "ab", []Entity{{Type: "italic", Offset: 1, Length: 1}, {Type: "bold", Offset: 0, Length: 2}}, ""},
		{"UTF16Offsets", "😀<i>x</i>", "😀x", []Entity{{Type: "italic", Offset: 2, Length: 1}}, ""},
		{"BareAmpersand", "&foo; & &amp; &#65;&#x42;", "&foo; & & AB", nil, ""},
		{"GreaterThanIsText", "a > b", "a > b", nil, ""},
		{"Link", `<a href="http://x?a=1&amp;b=2">l</a>`, "l", []Entity{{Type: "text_link", Offset: 0, Length: 1, URL: "http://x?a=1&b=2"}}, ""},
		{"LessThanSpace", "a < b", "", nil, `Unsupported start tag "" at byte offset 2`},
		{"Heart", "I <3 you", "", nil, `Unsupported start tag "3" at byte offset 2`},
		{"Unclosed", "<b>x", "", nil, `Can't find end tag corresponding to start tag "b"`},
		{"UnexpectedEnd", "x</b>", "", nil, "Unexpected end tag at byte offset 1"},
		{"Unmatched", "<b><i>x</b></i>", "", nil, `Unmatched end tag at byte offset 7, expected "</i>", found "</b>"`},
		{"UnclosedStart", "<b", "", nil, "Unclosed start tag at byte offset 0"},
		{"Span", "<span>x</span>", "", nil, `Tag "span" must have class "tg-spoiler" at byte offset 0`},
		{"Markdown", "*x* _y_ [z](u)", "*x* _y_ [z](u)", nil, ""},
		{"InvalidUTF8", "a\xffb", "", nil, "text must be encoded in UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text, ents, err := ParseHTML(tt.in)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("ParseHTML(%q) error = %v, want %q", tt.in, err, tt.err)
				}
				return
			}
			if err != nil || text != tt.text || !equalEntities(ents, tt.ents) {
				t.Fatalf("ParseHTML(%q) = %q, %+v, %v; want %q, %+v", tt.in, text, ents, err, tt.text, tt.ents)
			}
		})
	}
}

func equalEntities(a, b []Entity) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// call posts to method with form values and returns the decoded envelope
// and the HTTP status.
func call(t *testing.T, s *Server, method string, form url.Values) (map[string]any, int) {
	t.Helper()
	resp, err := http.PostForm(s.URL+"/bot"+s.Token+"/"+method, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var env map[string]any
	body, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(body, &env); err != nil {
		t.Fatalf("%s: not JSON: %s", method, body)
	}
	return env, resp.StatusCode
}

func TestSendValidation(t *testing.T) {
	s := NewServer(t, Options{})
	s.AddChat(Chat{ID: 5, Type: "private"})
	s.AddChat(Chat{ID: 6, Type: "private"})
	s.Block(User{ID: 6})
	long := strings.Repeat("😀", 2049) // 4,098 units
	tests := []struct {
		name string
		form url.Values
		code int
		desc string
	}{
		{"OK", url.Values{"chat_id": {"5"}, "text": {"<b>hi</b>"}, "parse_mode": {"HTML"}}, 200, ""},
		{"NoChat", url.Values{"text": {"x"}}, 400, "Bad Request: chat_id is empty"},
		{"UnknownChat", url.Values{"chat_id": {"99"}, "text": {"x"}}, 400, "Bad Request: chat not found"},
		{"Blocked", url.Values{"chat_id": {"6"}, "text": {"x"}}, 403, "Forbidden: bot was blocked by the user"},
		{"Empty", url.Values{"chat_id": {"5"}, "text": {"  \n "}}, 400, "Bad Request: message text is empty"},
		{"EmptyAfterParsing", url.Values{"chat_id": {"5"}, "text": {"<b> </b>"}, "parse_mode": {"HTML"}}, 400, "Bad Request: message text is empty"},
		{"TooLong", url.Values{"chat_id": {"5"}, "text": {long}}, 400, "Bad Request: message is too long"},
		{"LongButTagsDoNotCount", url.Values{"chat_id": {"5"}, "text": {"<b>" + long[4:] + "</b>"}, "parse_mode": {"HTML"}}, 200, ""},
		{"BadHTML", url.Values{"chat_id": {"5"}, "text": {"a < b"}, "parse_mode": {"HTML"}}, 400, `Bad Request: can't parse entities: Unsupported start tag "" at byte offset 2`},
		{"LongData", url.Values{"chat_id": {"5"}, "text": {"x"}, "reply_markup": {`{"inline_keyboard":[[{"text":"b","callback_data":"` + strings.Repeat("d", 65) + `"}]]}`}}, 400, "Bad Request: BUTTON_DATA_INVALID"},
		{"EmptyCopyText", url.Values{"chat_id": {"5"}, "text": {"x"}, "reply_markup": {`{"inline_keyboard":[[{"text":"b","callback_data":"d","copy_text":{"text":""}}]]}`}}, 400, "Bad Request: BUTTON_TYPE_INVALID"},
		{"TextButton", url.Values{"chat_id": {"5"}, "text": {"x"}, "reply_markup": {`{"inline_keyboard":[[{"text":"b"}]]}`}}, 400, "Bad Request: BUTTON_TYPE_INVALID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, code := call(t, s, "sendMessage", tt.form)
			if code != tt.code || (tt.desc != "" && env["description"] != tt.desc) {
				t.Fatalf("status %d %v, want %d %q", code, env["description"], tt.code, tt.desc)
			}
			if tt.code != 200 && (env["ok"] != false || env["error_code"] != float64(tt.code)) {
				t.Fatalf("envelope %v, want ok=false and error_code %d", env, tt.code)
			}
		})
	}
	t.Run("Encodings", func(t *testing.T) {
		before := len(s.Messages(5))
		req, _ := http.NewRequest(http.MethodPost, s.URL+"/bot"+s.Token+"/sendMessage", strings.NewReader(`{"chat_id":5,"text":"<i>json</i>","parse_mode":"HTML"}`))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("JSON request: %v %v", resp, err)
		}
		resp.Body.Close()
		resp, err = http.Get(s.URL + "/bot" + s.Token + "/sendMessage?chat_id=5&text=query")
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("query request: %v %v", resp, err)
		}
		resp.Body.Close()
		ms := s.Messages(5)[before:]
		if len(ms) != 2 || ms[0].Text != "json" || ms[0].Styled("italic")[0] != "json" || ms[1].Text != "query" {
			t.Fatalf("messages = %+v", ms)
		}
	})
	t.Run("AuthAndMethods", func(t *testing.T) {
		resp, _ := http.Get(s.URL + "/bot1:wrong/getMe")
		if resp.StatusCode != 401 {
			t.Fatalf("wrong token: %d, want 401", resp.StatusCode)
		}
		if _, code := call(t, s, "sendTelepathy", nil); code != 404 {
			t.Fatalf("unknown method: %d, want 404", code)
		}
	})
}

func TestRateLimit(t *testing.T) {
	s := NewServer(t, Options{RateLimit: 3})
	s.AddChat(Chat{ID: 5, Type: "private"})
	for i := range 4 {
		env, code := call(t, s, "sendMessage", url.Values{"chat_id": {"5"}, "text": {"x"}})
		if i < 3 && code != 200 {
			t.Fatalf("message %d: %d", i, code)
		}
		if i == 3 {
			params, _ := env["parameters"].(map[string]any)
			if code != 429 || env["description"] != "Too Many Requests: retry after 1" || params["retry_after"] != float64(1) {
				t.Fatalf("4th message in a second: %d %v, want Telegram's 429", code, env)
			}
		}
	}
	if s.TooMany() != 1 {
		t.Fatalf("TooMany = %d, want 1", s.TooMany())
	}
}

func TestGetUpdates(t *testing.T) {
	s := NewServer(t, Options{})
	u := User{ID: 5, FirstName: "A"}
	id1 := s.SendText(u, Private(u), "/start")
	id2 := s.SendText(u, Private(u), "hello")
	ids := func(env map[string]any) []int64 {
		var out []int64
		for _, r := range env["result"].([]any) {
			out = append(out, int64(r.(map[string]any)["update_id"].(float64)))
		}
		return out
	}
	env, _ := call(t, s, "getUpdates", nil)
	if got := ids(env); len(got) != 2 || got[0] != id1 || got[1] != id2 {
		t.Fatalf("first poll = %v, want [%d %d]", got, id1, id2)
	}
	// Not confirmed yet: a poller that crashed gets them again.
	env, _ = call(t, s, "getUpdates", url.Values{"limit": {"1"}})
	if got := ids(env); len(got) != 1 || got[0] != id1 {
		t.Fatalf("replayed poll = %v, want [%d]", got, id1)
	}
	env, _ = call(t, s, "getUpdates", url.Values{"offset": {itoa(id2 + 1)}})
	if got := ids(env); len(got) != 0 || s.Pending() != 0 {
		t.Fatalf("after confirming: %v, %d pending; want none", got, s.Pending())
	}
	// Long polling: a poll waits for the next update.
	var wg sync.WaitGroup
	wg.Add(1)
	var got []int64
	begin := time.Now()
	go func() {
		defer wg.Done()
		env, _ := call(t, s, "getUpdates", url.Values{"offset": {itoa(id2 + 1)}, "timeout": {"10"}})
		got = ids(env)
	}()
	s.Wait(t, "the long poll to start", 5*time.Second, func() bool { return s.Calls("getUpdates") == 4 })
	id3 := s.SendText(u, Private(u), "later")
	wg.Wait()
	if len(got) != 1 || got[0] != id3 || time.Since(begin) > 5*time.Second {
		t.Fatalf("long poll = %v after %s, want [%d] at once", got, time.Since(begin), id3)
	}
	// A webhook and getUpdates do not mix.
	if _, code := call(t, s, "setWebhook", url.Values{"url": {"https://example.invalid/hook"}}); code != 200 {
		t.Fatalf("setWebhook: %d", code)
	}
	if env, code := call(t, s, "getUpdates", nil); code != 409 || !strings.Contains(env["description"].(string), "webhook is active") {
		t.Fatalf("getUpdates with a webhook: %d %v, want 409", code, env)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
