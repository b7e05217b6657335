package telegram

import (
	"context"
	"sync"
	"time"
)

// Telegram's documented limits for bots: about 30 messages a second in all,
// about one a second in one chat (short bursts are fine), and 20 a minute in
// a group. Exceeding them earns 429s with a retry_after of seconds to
// minutes, so the pacer keeps under them instead of relying on retries.
const (
	chatBurst      = 3           // messages a chat may get at once
	chatInterval   = time.Second // then one per chatInterval
	groupPerMinute = 20
	// headroom slows the global pace by 3%, so that jitter between here and
	// Telegram's servers does not put 31 messages into one second.
	headroom = 1.03
	// slack lets a send go this much before its slot, so that late
	// wake-ups do not add up into a slower pace. Any 31 sends still span
	// at least 30 gaps minus slack: 1,020 ms at 30 a second.
	slack = 10 * time.Millisecond
)

// pacer spaces out sends: a global gap between any two messages, and
// per-chat bursts, steady rate and group quota. A nil pacer (rate 0) lets
// everything through.
type pacer struct {
	interval time.Duration

	// gate admits one sender at a time to the global stage, in arrival
	// order (channel senders queue first in, first out). tat, guarded by
	// gate, is the next send's theoretical time (GCRA): a send may go from
	// tat-slack on, and moves tat one interval past the later of tat and
	// its own time, so a stall never turns into a burst.
	gate chan struct{}
	tat  time.Time

	mu        sync.Mutex
	chats     map[int64]*chatPace
	lastSweep time.Time
	now       func() time.Time // the chat stage's clock; tests set it
}

type chatPace struct {
	tat     time.Time   // theoretical arrival time (GCRA): bursts of chatBurst, then one per chatInterval
	blocked time.Time   // no sends before this (after a 429)
	window  []time.Time // groups: the times of the last groupPerMinute sends
}

func newPacer(rate int) *pacer {
	if rate <= 0 {
		return nil
	}
	return &pacer{
		interval: time.Duration(float64(time.Second) * headroom / float64(rate)),
		gate:     make(chan struct{}, 1),
		chats:    map[int64]*chatPace{},
		now:      time.Now,
	}
}

// wait blocks until a message may be sent to chatID, or ctx is done.
func (p *pacer) wait(ctx context.Context, chatID int64) error {
	if p == nil {
		return ctx.Err()
	}
	now := p.now()
	if err := sleep(ctx, p.reserve(chatID, now).Sub(now)); err != nil {
		return err
	}
	select {
	case p.gate <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-p.gate }()
	if err := sleep(ctx, time.Until(p.tat.Add(-slack))); err != nil {
		return err
	}
	p.tat = later(p.tat, time.Now()).Add(p.interval)
	return nil
}

// reserve books the chat's next send at or after now and returns its time.
func (p *pacer) reserve(chatID int64, now time.Time) time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sweep(now)
	c := p.chats[chatID]
	if c == nil {
		c = &chatPace{}
		p.chats[chatID] = c
	}
	t := now
	if earliest := c.tat.Add(-(chatBurst - 1) * chatInterval); earliest.After(t) {
		t = earliest
	}
	if c.blocked.After(t) {
		t = c.blocked
	}
	group := chatID < 0 // groups, supergroups and channels have negative ids
	if group && len(c.window) >= groupPerMinute {
		if w := c.window[len(c.window)-groupPerMinute].Add(time.Minute); w.After(t) {
			t = w
		}
	}
	c.tat = later(c.tat, t).Add(chatInterval)
	if group {
		c.window = append(c.window, t)
		if len(c.window) > groupPerMinute {
			c.window = append(c.window[:0], c.window[len(c.window)-groupPerMinute:]...)
		}
	}
	return t
}

// block holds back sends to chatID until t (after a 429 for it).
func (p *pacer) block(chatID int64, t time.Time) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.chats[chatID]
	if c == nil {
		c = &chatPace{}
		p.chats[chatID] = c
	}
	c.blocked = later(c.blocked, t)
}

// sweep forgets chats that have been quiet for over a minute, at most once a
// minute, so that the map holds only the recently active ones.
func (p *pacer) sweep(now time.Time) {
	if now.Sub(p.lastSweep) < time.Minute {
		return
	}
	p.lastSweep = now
	for id, c := range p.chats {
		quiet := now.Sub(c.tat) > time.Minute && now.After(c.blocked)
		if n := len(c.window); n > 0 && now.Sub(c.window[n-1]) <= time.Minute {
			quiet = false
		}
		if quiet {
			delete(p.chats, id)
		}
	}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
