package storage

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/trustbot/trustbot/bot"
)

// BenchmarkAddReflection measures a durable reflection: one fsync per
// commit (synchronous=FULL).
func BenchmarkAddReflection(b *testing.B) {
	s := MustOpen(b)
	u := mustUser(b, s, "1")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		r := &bot.Reflection{UserID: u.ID, Step: 3, Prompt: "What do you need to feel safe?", Text: "A few honest sentences about today."}
		if err := s.AddReflection(ctx, r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSaveUser measures the update that the engine makes on most
// messages (synchronous=NORMAL).
func BenchmarkSaveUser(b *testing.B) {
	s := MustOpen(b)
	u := mustUser(b, s, "1")
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		u.PromptIndex = i
		if err := s.SaveUser(ctx, u); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUser(b *testing.B) {
	s := MustOpen(b)
	for i := range 1000 {
		mustUser(b, s, strconv.Itoa(i))
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.User(ctx, bot.PlatformTelegram, "500"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReflections reads a journal page of 5 out of 200 reflections.
func BenchmarkReflections(b *testing.B) {
	s := MustOpen(b)
	u := mustUser(b, s, "1")
	ctx := context.Background()
	for i := range 200 {
		if err := s.AddReflection(ctx, &bot.Reflection{UserID: u.ID, Step: i%10 + 1, Text: fmt.Sprint("entry ", i)}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := s.Reflections(ctx, u.ID, 5, 10); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCountReflections(b *testing.B) {
	s := MustOpen(b)
	u := mustUser(b, s, "1")
	ctx := context.Background()
	for i := range 200 {
		if err := s.AddReflection(ctx, &bot.Reflection{UserID: u.ID, Step: i%10 + 1, Text: fmt.Sprint("entry ", i)}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.CountReflections(ctx, u.ID, 3); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpen opens a fresh database and applies the migrations, and
// closes it.
func BenchmarkOpen(b *testing.B) {
	dir := b.TempDir()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		s, err := Open(filepath.Join(dir, fmt.Sprintf("%d.db", i)))
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReopen opens an existing, up-to-date database.
func BenchmarkReopen(b *testing.B) {
	path := filepath.Join(b.TempDir(), "trustbot.db")
	s, err := Open(path)
	if err != nil {
		b.Fatal(err)
	}
	s.Close()
	b.ReportAllocs()
	for b.Loop() {
		s, err := Open(path)
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
	}
}
