package telegram_test

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trustbot/trustbot/adapters/telegram/telegramtest"
	"github.com/trustbot/trustbot/bot"
)

// BenchmarkThroughput: 1,000 people each send /start and four
// reflections, each waiting for the answer before writing again, through
// long polling on loopback with pacing off (rate_limit = 0): the real
// client, engine and SQLite file, and the fake Bot API in the same process.
// Latency is from an update becoming available to its reply being accepted
// by the fake. Run with -benchtime=1x: one iteration is the whole scenario.
//
//   - burst: everyone writes at once. updates/s is the capacity; the
//     latencies are mostly queueing (1,000 updates in flight).
//   - steady-N: updates arrive at N a second; the latencies are what a
//     person waits at that load.
//   - echo/...: the same with an engine that only echoes (no SQLite
//     writes of its own), to measure the adapter, the client and the
//     update log without the engine's durable writes.
func BenchmarkThroughput(b *testing.B) {
	b.Run("burst", func(b *testing.B) { throughput(b, 0, false) })
	b.Run("steady-1000", func(b *testing.B) { throughput(b, 1000, false) })
	b.Run("steady-2000", func(b *testing.B) { throughput(b, 2000, false) })
	b.Run("echo/burst", func(b *testing.B) { throughput(b, 0, true) })
	b.Run("echo/steady-2000", func(b *testing.B) { throughput(b, 2000, true) })
}

// echo is an engine that answers every message with one short line and
// stores nothing: a measuring device for the adapter's own cost.
type echo struct{}

func (echo) Handle(_ context.Context, in bot.Incoming) ([]bot.Reply, error) {
	return []bot.Reply{{Text: bot.Text{{Text: "Noted: "}, {Text: in.Text, Style: bot.Italic}}}}, nil
}

func (echo) MarkUnreachable(context.Context, bot.Platform, string) error { return nil }

// throughput runs the scenario with updates offered at rate a second (0:
// as fast as the people get answers) and reports the figures.
func throughput(b *testing.B, rate float64, echoOnly bool) {
	const users, perUser = 1000, 5
	var all []time.Duration
	var total time.Duration
	for range b.N {
		b.StopTimer()
		h := setup(b, telegramtest.Options{})
		h.opts.RateLimit = 0
		h.opts.Log = slog.New(slog.DiscardHandler)
		if echoOnly {
			h.opts.Engine = echo{}
		}
		h.start()
		lat := make([][]time.Duration, users)
		var wg sync.WaitGroup
		var slot atomic.Int64
		b.StartTimer()
		begin := time.Now()
		for i := range users {
			wg.Add(1)
			go func() {
				defer wg.Done()
				u := telegramtest.User{ID: int64(100000 + i), FirstName: fmt.Sprintf("User %d", i)}
				texts := []string{"/start"}
				for j := 1; j < perUser; j++ {
					texts = append(texts, fmt.Sprintf("Reflection %d of user %d: a few honest sentences about today.", j, i))
				}
				for j, text := range texts {
					if rate > 0 { // take the next free arrival slot
						n := slot.Add(1) - 1
						time.Sleep(time.Until(begin.Add(time.Duration(float64(n) / rate * float64(time.Second)))))
					}
					id := h.api.SendText(u, telegramtest.Private(u), text)
					ms := h.api.WaitMessages(b, u.ID, j+1, time.Minute)
					lat[i] = append(lat[i], ms[j].At.Sub(h.api.PushedAt(id)))
				}
			}()
		}
		wg.Wait()
		total += time.Since(begin)
		b.StopTimer()
		for _, l := range lat {
			all = append(all, l...)
		}
		if err := h.stop(); err != nil {
			b.Fatal(err)
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	pct := func(p float64) float64 { return float64(all[int(p*float64(len(all)-1))]) / float64(time.Millisecond) }
	b.ReportMetric(float64(len(all))/total.Seconds(), "updates/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkBroadcast: 600 daily prompts to 600 chats with the global limit
// at 30 a second, against a fake that answers 429 to a 31st message in any
// second. It reports how long they took and how many 429s came back.
// About 20.6 s per iteration: run with -benchtime=1x.
func BenchmarkBroadcast(b *testing.B) {
	var took time.Duration
	tooMany, most := 0, 0
	for range b.N {
		d, api := broadcast(b, 600, 30)
		took += d
		tooMany += api.TooMany()
		most = max(most, maxInOneSecond(api.AllMessages()))
	}
	b.ReportMetric(took.Seconds()/float64(b.N), "s/600msgs")
	b.ReportMetric(float64(tooMany)/float64(b.N), "429s")
	b.ReportMetric(float64(most), "max-msgs/1s")
	b.ReportMetric(0, "ns/op")
}
