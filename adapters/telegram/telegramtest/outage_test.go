package telegramtest

import (
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"
)

func TestOutage(t *testing.T) {
	s := NewServer(t, Options{})
	u := User{ID: 5, FirstName: "A"}
	s.AddChat(Private(u))
	send := url.Values{"chat_id": {"5"}, "text": {"hi"}}

	t.Run("5xx", func(t *testing.T) {
		s.Outage(time.Hour, Failure{Code: 502, Description: "Bad Gateway"}, "sendMessage")
		if env, code := call(t, s, "sendMessage", send); code != 502 || env["error_code"].(float64) != 502 {
			t.Fatalf("sendMessage in an outage: %d %v, want 502", code, env)
		}
		if _, code := call(t, s, "getMe", nil); code != 200 {
			t.Fatalf("getMe, not in the outage: %d, want 200", code)
		}
		if !s.Down() {
			t.Fatal("Down() = false during an outage")
		}
		s.Outage(0, Failure{})
		if _, code := call(t, s, "sendMessage", send); code != 200 || s.Down() {
			t.Fatalf("sendMessage after the outage: %d (down %v), want 200", code, s.Down())
		}
		if n := len(s.Messages(5)); n != 1 {
			t.Fatalf("%d messages kept, want 1: a failed call keeps nothing", n)
		}
	})
	t.Run("Drop", func(t *testing.T) {
		s.Outage(time.Hour, Failure{Drop: true})
		defer s.Outage(0, Failure{})
		resp, err := http.PostForm(s.URL+"/bot"+s.Token+"/getMe", nil)
		if err == nil {
			resp.Body.Close()
			t.Fatalf("getMe while dropping connections: status %d, want a connection error", resp.StatusCode)
		}
	})
	t.Run("EndsOnItsOwn", func(t *testing.T) {
		s.Outage(50*time.Millisecond, Failure{Code: 500, Description: "Internal Server Error"})
		s.Wait(t, "the outage to end", 5*time.Second, func() bool { return !s.Down() })
		if _, code := call(t, s, "getMe", nil); code != 200 {
			t.Fatalf("getMe after the outage: %d, want 200", code)
		}
	})
	t.Run("CutsAnOpenLongPoll", func(t *testing.T) {
		var wg sync.WaitGroup
		wg.Add(1)
		var code int
		go func() {
			defer wg.Done()
			_, code = call(t, s, "getUpdates", url.Values{"timeout": {"30"}})
		}()
		calls := s.Calls("getUpdates")
		// Counted: past the check at the door, so the poll's own loop must notice.
		s.Wait(t, "the long poll to start", 5*time.Second, func() bool { return s.Calls("getUpdates") > calls })
		s.Outage(time.Hour, Failure{Code: 500, Description: "Internal Server Error"})
		defer s.Outage(0, Failure{})
		wg.Wait()
		if code != 500 {
			t.Fatalf("a long poll open when the outage began: %d, want 500", code)
		}
	})
}

func TestWaitCount(t *testing.T) {
	s := NewServer(t, Options{})
	u := User{ID: 6, FirstName: "B"}
	s.AddChat(Private(u))
	stop := make(chan struct{})
	got := make(chan bool, 1)
	go func() { got <- s.WaitCount(6, 2, stop) }()
	for range 2 {
		if _, code := call(t, s, "sendMessage", url.Values{"chat_id": {"6"}, "text": {"hi"}}); code != 200 {
			t.Fatalf("sendMessage: %d", code)
		}
	}
	if !<-got {
		t.Fatal("WaitCount(2) after two messages = false, want true")
	}
	close(stop)
	if s.WaitCount(6, 3, stop) {
		t.Fatal("WaitCount(3) with two messages and stop closed = true, want false")
	}
}
