package telegram

import (
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/trustbot/trustbot/adapters/telegram/telegramtest"
	"github.com/trustbot/trustbot/bot"
)

// FuzzPlan: for any replies, every message plan renders is valid for
// Telegram's HTML parse mode (as the fake parses it), within Telegram's
// length limits (4,096 units for a message, 1,024 for a caption), never an
// empty text message, with callback data of 1 to 64 bytes that parses back
// into an action; and in a group, with no button that acts.
func FuzzPlan(f *testing.F) {
	f.Add("Step 1 <b>&amp;</b>", "body 😀 text\nline two", uint16(0), uint8(1), uint16(0))
	f.Add("a", "b", uint16(0xffff), uint8(3), uint16(5000))
	f.Add(strings.Repeat("界😀 ", 700), "y", uint16(0x0124), uint8(2), uint16(3))
	f.Add("a\xffb<&>", "\n\n", uint16(0x00f0), uint8(0), uint16(70))
	f.Add("", "   ", uint16(0x0008), uint8(5), uint16(0))
	f.Fuzz(func(t *testing.T, a, b string, flags uint16, count uint8, repeat uint16) {
		// Long enough to split (over 4,096 units), small enough to be quick.
		n := min(int(repeat%2000), 6_000/max(len(a), 1))
		long := strings.Repeat(a, n)
		var replies []bot.Reply
		for i := range int(count%4) + 1 {
			bit := func(k int) bool { return flags>>((k+3*i)%16)&1 == 1 }
			r := bot.Reply{
				Text:     bot.Text{{Text: a, Style: bot.Style(flags % 3)}, {Text: "\n\n"}, {Text: b, Style: bot.Style(flags / 3 % 3)}},
				Personal: bit(0),
			}
			if i == 0 {
				r.Text = append(r.Text, bot.Span{Text: long})
			}
			if bit(1) {
				r.Buttons = [][]bot.Button{{
					{Label: b, Action: bot.Action{Kind: bot.ActJournal, Arg: strconv.Itoa(int(repeat)%1000 + 1)}},
					{Label: "Next", Action: bot.Action{Kind: bot.ActNext}},
				}}
			}
			if bit(2) {
				r.Doc = &bot.Document{Name: "journal.json", Data: []byte("{}")}
			}
			replies = append(replies, r)
		}
		private := flags&0x8000 == 0
		for i, m := range plan(replies, private, "TrustBot_bot") {
			limit := maxMessageUnits
			if m.doc != nil {
				limit = maxCaptionUnits
			}
			vis, _, err := telegramtest.ParseHTML(m.html)
			if err != nil {
				t.Fatalf("message %d: Telegram would refuse %q: %v", i, m.html, err)
			}
			vis = strings.TrimFunc(vis, unicode.IsSpace) // Telegram trims before counting
			if n := telegramtest.Units(vis); n > limit {
				t.Fatalf("message %d is %d units, limit %d", i, n, limit)
			}
			if m.doc == nil && vis == "" {
				t.Fatalf("message %d has no text: Telegram refuses it (html %q)", i, m.html)
			}
			if m.keyboard == nil {
				continue
			}
			for _, row := range m.keyboard.InlineKeyboard {
				for _, btn := range row {
					if strings.TrimSpace(btn.Text) == "" {
						t.Fatalf("message %d: a button without a label", i)
					}
					if btn.CallbackData == "" {
						continue
					}
					if !private {
						t.Fatalf("message %d: a button that acts (%q) in a group", i, btn.CallbackData)
					}
					if n := len(btn.CallbackData); n > maxCallbackData {
						t.Fatalf("message %d: callback data of %d bytes", i, n)
					}
					if _, ok := bot.ParseAction(btn.CallbackData); !ok {
						t.Fatalf("message %d: callback data %q is not an action", i, btn.CallbackData)
					}
				}
			}
		}
	})
}
