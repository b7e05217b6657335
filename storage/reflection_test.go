package storage

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/trustbot/trustbot/bot"
)

func TestAddReflection(t *testing.T) {
	s := MustOpen(t)
	ctx := context.Background()
	u := mustUser(t, s, "1")
	s.Now = func() time.Time { return time.Date(2030, 3, 4, 5, 6, 7, 890, time.FixedZone("X", -3*60*60)) }

	r := &bot.Reflection{UserID: u.ID, Step: 2, Prompt: "What hurt most?", Text: "That I found out from someone else."}
	if err := s.AddReflection(ctx, r); err != nil {
		t.Fatal(err)
	}
	if r.ID == 0 {
		t.Error("ID: got 0, want it set")
	}
	want := time.Date(2030, 3, 4, 8, 6, 7, 0, time.UTC)
	if !r.CreatedAt.Equal(want) || r.CreatedAt.Location() != time.UTC {
		t.Errorf("CreatedAt: got %v, want %v (from Now, UTC, to the second)", r.CreatedAt, want)
	}

	rs, total, err := s.Reflections(ctx, u.ID, 10, 0)
	if err != nil {
		t.Fatal(err)
	}
	if total != 1 || len(rs) != 1 {
		t.Fatalf("got %d reflections (total %d), want 1", len(rs), total)
	}
	if !reflect.DeepEqual(rs[0], *r) {
		t.Errorf("stored: got %+v, want %+v", rs[0], *r)
	}

	// A CreatedAt given by the caller is kept.
	given := time.Date(2029, 12, 31, 23, 59, 59, 0, time.UTC)
	r2 := &bot.Reflection{UserID: u.ID, Step: 2, Text: "earlier", CreatedAt: given}
	if err := s.AddReflection(ctx, r2); err != nil {
		t.Fatal(err)
	}
	rs, _, err = s.Reflections(ctx, u.ID, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 || !rs[0].CreatedAt.Equal(given) {
		t.Errorf("given CreatedAt: got %+v, want %v", rs, given)
	}
}

func TestAddReflection_unknownUser(t *testing.T) {
	s := MustOpen(t)
	err := s.AddReflection(context.Background(), &bot.Reflection{UserID: 404, Step: 1, Text: "hello"})
	if got := bot.ErrorCode(err); got != bot.ENOTFOUND {
		t.Errorf("got code %q (%v), want %q", got, err, bot.ENOTFOUND)
	}
}

func TestReflections_paging(t *testing.T) {
	s := MustOpen(t)
	ctx := context.Background()
	u := mustUser(t, s, "1")
	other := mustUser(t, s, "2")
	base := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

	// Seven reflections, added out of time order, two of them at the same
	// second. ids[i] is the id of the i-th one added.
	offsets := []int{0, 3, 1, 3, 5, 2, 4} // hours after base
	ids := make([]int64, len(offsets))
	for i, h := range offsets {
		r := &bot.Reflection{UserID: u.ID, Step: 1, Text: fmt.Sprint("entry ", i), CreatedAt: base.Add(time.Duration(h) * time.Hour)}
		if err := s.AddReflection(ctx, r); err != nil {
			t.Fatal(err)
		}
		ids[i] = r.ID
		// Someone else's journal never shows up in this one.
		if err := s.AddReflection(ctx, &bot.Reflection{UserID: other.ID, Step: 1, Text: "not yours", CreatedAt: r.CreatedAt}); err != nil {
			t.Fatal(err)
		}
	}
	// Newest first; among equal times (entries 1 and 3) the later id first.
	newest := []int64{ids[4], ids[6], ids[3], ids[1], ids[5], ids[2], ids[0]}

	for _, tt := range []struct {
		name          string
		limit, offset int
		want          []int64
	}{
		{"first page", 3, 0, newest[0:3]},
		{"second page", 3, 3, newest[3:6]},
		{"last page", 3, 6, newest[6:]},
		{"past the end", 3, 7, nil},
		{"far past the end", 3, 100, nil},
		{"everything", 0, 0, newest},
		{"no limit, skip two", -1, 2, newest[2:]},
		{"negative offset", 2, -5, newest[:2]},
		{"limit larger than total", 50, 0, newest},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rs, total, err := s.Reflections(ctx, u.ID, tt.limit, tt.offset)
			if err != nil {
				t.Fatal(err)
			}
			if total != len(ids) {
				t.Errorf("total: got %d, want %d", total, len(ids))
			}
			var got []int64
			for _, r := range rs {
				got = append(got, r.ID)
				if r.UserID != u.ID {
					t.Errorf("reflection %d: got user %d, want %d", r.ID, r.UserID, u.ID)
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ids: got %v, want %v", got, tt.want)
			}
		})
	}

	t.Run("nobody", func(t *testing.T) {
		rs, total, err := s.Reflections(ctx, 999, 10, 0)
		if err != nil || len(rs) != 0 || total != 0 {
			t.Errorf("got %v, total %d, err %v; want none, 0, nil", rs, total, err)
		}
	})
}

func TestCountReflections(t *testing.T) {
	s := MustOpen(t)
	ctx := context.Background()
	u := mustUser(t, s, "1")
	other := mustUser(t, s, "2")
	for _, step := range []int{1, 1, 2, 5, 5, 5} {
		if err := s.AddReflection(ctx, &bot.Reflection{UserID: u.ID, Step: step, Text: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AddReflection(ctx, &bot.Reflection{UserID: other.ID, Step: 1, Text: "y"}); err != nil {
		t.Fatal(err)
	}

	for _, tt := range []struct {
		userID int64
		step   int
		want   int
	}{
		{u.ID, 0, 6},
		{u.ID, 1, 2},
		{u.ID, 2, 1},
		{u.ID, 3, 0},
		{u.ID, 5, 3},
		{other.ID, 0, 1},
		{other.ID, 5, 0},
		{999, 0, 0},
	} {
		got, err := s.CountReflections(ctx, tt.userID, tt.step)
		if err != nil {
			t.Fatal(err)
		}
		if got != tt.want {
			t.Errorf("user %d step %d: got %d, want %d", tt.userID, tt.step, got, tt.want)
		}
	}
}

// A message delivered twice (the Telegram inbox replays after a crash) is
// kept once; messages without a source id are never merged.
func TestAddReflection_sourceIDOnce(t *testing.T) {
	s := MustOpen(t)
	ctx := context.Background()
	u := &bot.User{Platform: bot.PlatformTelegram, PlatformID: "7", Step: 1}
	if err := s.SaveUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	first := &bot.Reflection{UserID: u.ID, Step: 1, Text: "once", SourceID: "42", CreatedAt: time.Unix(1000, 0)}
	if err := s.AddReflection(ctx, first); err != nil {
		t.Fatal(err)
	}
	again := &bot.Reflection{UserID: u.ID, Step: 1, Text: "once", SourceID: "42", CreatedAt: time.Unix(2000, 0)}
	if err := s.AddReflection(ctx, again); err != nil {
		t.Fatalf("same source id again: %v", err)
	}
	if again.ID != first.ID || !again.CreatedAt.Equal(first.CreatedAt) {
		t.Fatalf("replayed reflection got id %d at %v, want the first's %d at %v", again.ID, again.CreatedAt, first.ID, first.CreatedAt)
	}
	for _, r := range []*bot.Reflection{
		{UserID: u.ID, Step: 1, Text: "console one"},
		{UserID: u.ID, Step: 1, Text: "console two"},
		{UserID: u.ID, Step: 1, Text: "other message", SourceID: "43"},
	} {
		if err := s.AddReflection(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.CountReflections(ctx, u.ID, 0); err != nil || n != 4 {
		t.Fatalf("CountReflections = %d, %v; want 4 (one per source id, every one without)", n, err)
	}
}
