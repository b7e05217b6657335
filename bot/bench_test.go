package bot_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/trustbot/trustbot/bot"
)

// The engine's per-message cost, through a real SQLite file. Reflections
// include one durable commit (an fsync) by design: see storage.AddReflection.

func BenchmarkHandleReflection(b *testing.B) {
	benchHandle(b, "Tonight I noticed how often I wait for the other shoe to drop.")
}

func BenchmarkHandleStep(b *testing.B) { benchHandle(b, "/step") }

// benchHandle measures one person sending text again and again.
func benchHandle(b *testing.B, text string) {
	h := started(b)
	ctx := context.Background()
	in := h.in(text)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.eng.Handle(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHandleStepManyUsers spreads /step over 1,000 people, so the
// user lookups do not all hit one hot row.
func BenchmarkHandleStepManyUsers(b *testing.B) {
	h := newHarness(b)
	ctx := context.Background()
	const n = 1000
	for i := range n {
		in := h.in("/start")
		in.UserID = strconv.Itoa(i)
		if _, err := h.eng.Handle(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
	in := h.in("/step")
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		in.UserID = strconv.Itoa(i % n)
		i++
		if _, err := h.eng.Handle(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDetectCrisis(b *testing.B) {
	text := "Tonight I noticed how often I wait for the other shoe to drop, and it makes me tired in a way sleep doesn't fix."
	b.ReportAllocs()
	for b.Loop() {
		if bot.DetectCrisis(text) {
			b.Fatal("false alarm")
		}
	}
}
