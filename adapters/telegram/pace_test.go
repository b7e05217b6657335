package telegram

import (
	"context"
	"testing"
	"time"
)

// TestPacerChat checks the per-chat schedule with a fake clock: a burst of
// three, then one a second; a group also at most 20 a minute; a 429 holds
// the chat back.
func TestPacerChat(t *testing.T) {
	t0 := time.Date(2025, 3, 3, 18, 0, 0, 0, time.UTC)
	offsets := func(p *pacer, chat int64, n int, at time.Time) []time.Duration {
		var out []time.Duration
		for range n {
			out = append(out, p.reserve(chat, at).Sub(t0))
		}
		return out
	}
	s := time.Second

	t.Run("PrivateBurstThenOnePerSecond", func(t *testing.T) {
		p := newPacer(30)
		got := offsets(p, 42, 6, t0)
		want := []time.Duration{0, 0, 0, s, 2 * s, 3 * s}
		if !equal(got, want) {
			t.Fatalf("schedule = %v, want %v", got, want)
		}
		// After a quiet spell the burst is available again.
		if got := offsets(p, 42, 3, t0.Add(time.Minute)); !equal(got, []time.Duration{time.Minute, time.Minute, time.Minute}) {
			t.Fatalf("after a minute: %v, want a burst of 3 at once", got)
		}
	})
	t.Run("ChatsAreIndependent", func(t *testing.T) {
		p := newPacer(30)
		offsets(p, 1, 5, t0)
		if got := p.reserve(2, t0); !got.Equal(t0) {
			t.Fatalf("chat 2 waits until %v because of chat 1", got.Sub(t0))
		}
	})
	t.Run("GroupTwentyAMinute", func(t *testing.T) {
		p := newPacer(30)
		got := offsets(p, -100, 22, t0)
		// 3 at once, then 1/s up to the 20th at 17 s; the 21st waits for the
		// minute since the 1st, the 22nd for the minute since the 2nd.
		if got[19] != 17*s || got[20] != 60*s || got[21] != 60*s {
			t.Fatalf("20th, 21st, 22nd at %v, %v, %v; want 17s, 1m0s, 1m0s", got[19], got[20], got[21])
		}
		for i := 20; i < len(got); i++ {
			n := 0
			for _, o := range got[:i+1] {
				if o > got[i]-time.Minute {
					n++
				}
			}
			if n > groupPerMinute {
				t.Fatalf("%d group messages within the minute before %v", n, got[i])
			}
		}
	})
	t.Run("BlockedAfter429", func(t *testing.T) {
		p := newPacer(30)
		p.block(7, t0.Add(5*s))
		if got := p.reserve(7, t0).Sub(t0); got != 5*s {
			t.Fatalf("after a 429 with retry_after 5: next send at %v, want 5s", got)
		}
	})
	t.Run("Sweep", func(t *testing.T) {
		p := newPacer(30)
		offsets(p, 1, 1, t0)
		p.reserve(2, t0.Add(2*time.Minute))
		if _, ok := p.chats[1]; ok {
			t.Fatal("a chat quiet for two minutes is still tracked")
		}
	})
}

func TestPacerOff(t *testing.T) {
	p := newPacer(0)
	if p != nil {
		t.Fatal("rate 0 should turn pacing off")
	}
	ctx := context.Background()
	for range 1000 {
		if err := p.wait(ctx, 1); err != nil {
			t.Fatal(err)
		}
	}
}

// TestPacerGlobal: with a real clock, the global gap holds between any two
// sends, and waiting respects the context.
func TestPacerGlobal(t *testing.T) {
	p := newPacer(100) // a gap of 10.3 ms
	ctx := context.Background()
	var times []time.Time
	for i := range 20 {
		if err := p.wait(ctx, int64(i+1)); err != nil {
			t.Fatal(err)
		}
		times = append(times, time.Now())
	}
	// Any two sends k apart are at least k gaps minus the slack apart.
	for i := range times {
		for j := i + 1; j < len(times); j++ {
			if span, min := times[j].Sub(times[i]), time.Duration(j-i)*p.interval-slack; span < min {
				t.Fatalf("sends %d and %d came %v apart, want at least %v", i, j, span, min)
			}
		}
	}
	if total, want := times[len(times)-1].Sub(times[0]), 19*p.interval; total > want+100*time.Millisecond {
		t.Errorf("20 sends took %v, want about %v: late wake-ups add up", total, want)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := p.wait(cctx, 99); err == nil {
		t.Fatal("wait with a cancelled context succeeded")
	}
}

func equal(a, b []time.Duration) bool {
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
