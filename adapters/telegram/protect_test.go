package telegram

import (
	"slices"
	"strings"
	"testing"

	"github.com/trustbot/trustbot/bot"
)

// TestPlanProtect: a message is sent with protect_content when any reply in
// it asks for it, and every part of a split message or a document is.
func TestPlanProtect(t *testing.T) {
	text := func(s string) bot.Text { return bot.Text{{Text: s}} }
	buttons := [][]bot.Button{{{Label: "Write a reflection", Action: bot.Action{Kind: bot.ActReflect}}}}
	long := strings.Repeat("A paragraph of some length, to be split.\n\n", 200) // over 4,096 units
	doc := &bot.Document{Name: "export.json", MIME: "application/json", Data: []byte("{}")}
	tests := []struct {
		name    string
		replies []bot.Reply
		want    []bool // protect, per message sent
	}{
		{"Plain", []bot.Reply{{Text: text("hello")}}, []bool{false}},
		{"Protected", []bot.Reply{{Text: text("hello"), Protect: true}}, []bool{true}},
		{"MergedIntoProtected", []bot.Reply{{Text: text("first")}, {Text: text("second"), Buttons: buttons, Protect: true}}, []bool{true}},
		{"ProtectedMergedIntoPlain", []bot.Reply{{Text: text("first"), Protect: true}, {Text: text("second"), Buttons: buttons}}, []bool{true}},
		{"ProtectedDoesNotLeakForward", []bot.Reply{{Text: text("first"), Buttons: buttons, Protect: true}, {Text: text("second")}}, []bool{true, false}},
		{"SplitAllProtected", []bot.Reply{{Text: text(long), Protect: true}}, []bool{true, true, true}},
		{"Document", []bot.Reply{{Text: text("Your export"), Doc: doc, Protect: true}}, []bool{true}},
		{"DocumentLongCaption", []bot.Reply{{Text: text(strings.Repeat("x ", 600)), Doc: doc, Protect: true}}, []bool{true, true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []bool
			for _, m := range plan(tt.replies, true, "TrustBot_bot") {
				got = append(got, m.protect)
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("protect per message = %v, want %v", got, tt.want)
			}
		})
	}
}
