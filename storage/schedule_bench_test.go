package storage

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/trustbot/trustbot/bot"
)

// BenchmarkFindAndClaimBatch measures one batch of the sweep at the store:
// read 100 due people and claim them in one durable transaction (one
// fsync), among 300,000 people. Target: under 5 ms.
func BenchmarkFindAndClaimBatch(b *testing.B) {
	const people, batch = 300_000, 100
	s := MustOpenPath(b, filepath.Join(b.TempDir(), "trustbot.db"))
	now := time.Date(2026, 6, 1, 18, 0, 0, 0, time.UTC)
	tx, err := s.w.Begin()
	if err != nil {
		b.Fatal(err)
	}
	ins, err := tx.Prepare(`INSERT INTO users (platform, platform_id, nudge_time, time_zone, next_due) VALUES ('telegram', ?, '20:00', 'UTC', ?)`)
	if err != nil {
		b.Fatal(err)
	}
	for i := range people {
		if _, err := ins.Exec(fmt.Sprint(i), now.Add(-time.Duration(people-i)*time.Second).Unix()); err != nil {
			b.Fatal(err)
		}
	}
	ins.Close()
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	claimed := 0
	for b.Loop() {
		us, err := s.DueUsers(ctx, now, batch)
		if err != nil || len(us) != batch {
			b.Fatalf("due: %d (%v); out of people after %d claims", len(us), err, claimed)
		}
		ns := make([]*bot.Nudge, len(us))
		for i, u := range us {
			was := u.NextDue
			u.LastNudgeAt, u.NudgeStreak, u.PromptIndex, u.LastPrompt = was, 1, 1, "What happened, in your own words?"
			u.NextDue = was.AddDate(0, 0, 1)
			ns[i] = &bot.Nudge{User: u, Date: was.Format(time.DateOnly), Was: was, IfTaken: u.NextDue}
		}
		if err := s.ClaimNudges(ctx, now, ns); err != nil {
			b.Fatal(err)
		}
		for _, n := range ns {
			if !n.Claimed {
				b.Fatalf("user %d not claimed", n.User.ID)
			}
		}
		claimed += batch
	}
}
