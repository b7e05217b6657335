package storage

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/trustbot/trustbot/bot"
)

func TestRecordMessageBatch(t *testing.T) {
	ctx := context.Background()
	s := MustOpen(t)
	now := time.Date(2026, 6, 3, 12, 0, 0, 0, time.UTC)
	s.Now = func() time.Time { return now }
	tg := bot.PlatformTelegram
	ids := func(chat string) []string {
		t.Helper()
		ms, err := s.RecentMessages(ctx, tg, chat, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, m := range ms {
			out = append(out, m.ID)
			if m.ID == "21" && (m.FromBot || !m.At.Equal(now)) {
				t.Errorf("message 21 = %+v, want from the person, at now (a zero At)", m)
			}
		}
		return out
	}

	if err := s.RecordMessageBatch(ctx, tg, nil); err != nil {
		t.Fatalf("an empty batch: %v", err)
	}
	if err := s.RecordMessages(ctx, tg, "1", []bot.ChatMessage{{ID: "9", At: now.Add(-49 * time.Hour)}}); err != nil {
		t.Fatal(err)
	}
	err := s.RecordMessageBatch(ctx, tg, map[string][]bot.ChatMessage{
		"1": {{ID: "10", FromBot: true, At: now.Add(-time.Minute)}, {ID: "11", At: now}},
		"2": {{ID: "21"}, {ID: "22", FromBot: true, At: now}},
		"3": {},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ids("1"), []string{"10", "11"}; !slices.Equal(got, want) {
		t.Errorf("chat 1: %v, want %v (the one older than 48 hours pruned)", got, want)
	}
	if got, want := ids("2"), []string{"21", "22"}; !slices.Equal(got, want) {
		t.Errorf("chat 2: %v, want %v", got, want)
	}
	// A message recorded again keeps its first record.
	if err := s.RecordMessageBatch(ctx, tg, map[string][]bot.ChatMessage{"1": {{ID: "10", At: now}}}); err != nil {
		t.Fatal(err)
	}
	ms, _ := s.RecentMessages(ctx, tg, "1", time.Time{})
	if len(ms) != 2 || !ms[0].FromBot || !ms[0].At.Equal(now.Add(-time.Minute)) {
		t.Errorf("after recording 10 again: %+v, want its first record kept", ms)
	}
}

// The table of message ids holds ids, who sent them and when: no column
// could keep a message's text.
func TestChatMessagesHoldNoText(t *testing.T) {
	s := MustOpen(t)
	rows, err := s.r.QueryContext(context.Background(), "SELECT name FROM pragma_table_info('chat_messages') ORDER BY cid")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var cols []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			t.Fatal(err)
		}
		cols = append(cols, c)
	}
	if want := []string{"platform", "chat_id", "message_id", "from_bot", "at"}; !slices.Equal(cols, want) {
		t.Fatalf("chat_messages columns = %v, want %v", cols, want)
	}
}
