package telegram

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/trustbot/trustbot/adapters/telegram/telegramtest"
	"github.com/trustbot/trustbot/bot"
)

func TestRenderHTML(t *testing.T) {
	tests := []struct {
		name string
		in   bot.Text
		want string
	}{
		{"Plain", bot.Text{{Text: "hello"}}, "hello"},
		{"Styles", bot.Text{{Text: "Step 1", Style: bot.Bold}, {Text: "\n\n"}, {Text: "why", Style: bot.Italic}}, "<b>Step 1</b>\n\n<i>why</i>"},
		{"Escaped", bot.Text{{Text: "<b>&amp; a<b & c>d", Style: bot.Bold}}, "<b>&lt;b&gt;&amp;amp; a&lt;b &amp; c&gt;d</b>"},
		{"MarkdownIsText", bot.Text{{Text: "*x* _y_ [z](u) `c`"}}, "*x* _y_ [z](u) `c`"},
		{"EmptySpansDropped", bot.Text{{Text: "", Style: bot.Bold}, {Text: "x"}}, "x"},
		{"InvalidUTF8", bot.Text{{Text: "a\xffb"}}, "a\uFFFDb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := renderHTML(tt.in); got != tt.want {
				t.Fatalf("renderHTML = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestUnits(t *testing.T) {
	for s, want := range map[string]int{"": 0, "abc": 3, "é": 1, "界": 1, "😀": 2, "a😀b": 4, "👍🏽": 4} {
		if got := units(s); got != want {
			t.Errorf("units(%q) = %d, want %d", s, got, want)
		}
	}
}

func TestSplitText(t *testing.T) {
	para := func(parts ...string) bot.Text { return bot.Text{{Text: strings.Join(parts, "")}} }
	tests := []struct {
		name  string
		in    bot.Text
		limit int
		want  []string
	}{
		{"Fits", para("hello world"), 20, []string{"hello world"}},
		{"ExactlyTheLimit", para("0123456789"), 10, []string{"0123456789"}},
		{"Empty", para(""), 10, nil},
		{"OnlySpace", para(" \n\n "), 10, nil},
		{"AtParagraph", para("aaaa bbbb\n\ncccc dddd"), 12, []string{"aaaa bbbb", "cccc dddd"}},
		{"ParagraphBeforeLine", para("aa\n\nbb\ncc dd"), 10, []string{"aa", "bb\ncc dd"}},
		{"AtLine", para("aaaa\nbbbb cccc"), 10, []string{"aaaa", "bbbb cccc"}},
		{"AtSpace", para("aaaa bbbb cccc"), 10, []string{"aaaa bbbb", "cccc"}},
		{"BreakRightAfterLimit", para("0123456789\nabc"), 10, []string{"0123456789", "abc"}},
		{"HardCut", para("abcdefghijklmnop"), 5, []string{"abcde", "fghij", "klmno", "p"}},
		// 😀 is two units: never cut between its halves.
		{"SurrogatePair", para("ab😀😀😀"), 5, []string{"ab😀", "😀😀"}},
		{"SurrogateAtLimit", para("abcd😀"), 5, []string{"abcd", "😀"}},
		{"ThreeByteChars", para("界界界界界界"), 4, []string{"界界界界", "界界"}},
		{"TrimsEdges", para("  aaaa  \n\n  bbbb  "), 6, []string{"aaaa", "bbbb"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, p := range splitText(tt.in, tt.limit) {
				got = append(got, p.String())
			}
			if strings.Join(got, "|") != strings.Join(tt.want, "|") || len(got) != len(tt.want) {
				t.Fatalf("splitText(%q, %d) = %q, want %q", tt.in.String(), tt.limit, got, tt.want)
			}
		})
	}
	t.Run("KeepsStyles", func(t *testing.T) {
		in := bot.Text{{Text: "Title here", Style: bot.Bold}, {Text: "\n\nbody "}, {Text: "and a long italic tail", Style: bot.Italic}}
		parts := splitText(in, 16)
		var html []string
		for _, p := range parts {
			html = append(html, renderHTML(p))
		}
		want := []string{"<b>Title here</b>", "body <i>and a long</i>", "<i>italic tail</i>"}
		if strings.Join(html, "|") != strings.Join(want, "|") {
			t.Fatalf("parts = %q, want %q", html, want)
		}
	})
}

// FuzzSplit: for any text and limit, every part renders to HTML that
// Telegram's parser accepts, shows exactly the part's text, fits the
// limit, and the parts together hold all of the text but white space.
func FuzzSplit(f *testing.F) {
	f.Add("Step 1 <b>&amp;</b>\n\nbody 😀 text\nline two", "bold", 10)
	f.Add("ab😀😀😀", "x", 3)
	f.Add(strings.Repeat("界😀 ", 100), "y", 7)
	f.Add("a\xffb<&>", "", 2)
	f.Fuzz(func(t *testing.T, a, b string, limit int) {
		if limit < 2 || limit > 5000 {
			return // a limit under 2 cannot hold a surrogate pair
		}
		in := bot.Text{{Text: a, Style: bot.Bold}, {Text: "\n\n"}, {Text: b, Style: bot.Italic}, {Text: a}}
		parts := splitText(in, limit)
		var all strings.Builder
		for _, p := range parts {
			html := renderHTML(p)
			vis, _, err := telegramtest.ParseHTML(html)
			if err != nil {
				t.Fatalf("Telegram would refuse %q: %v", html, err)
			}
			var want string // each span is rendered on its own
			for _, sp := range p {
				want += strings.ToValidUTF8(sp.Text, "\uFFFD")
			}
			if vis != want {
				t.Fatalf("part shows %q, want %q", vis, want)
			}
			if n := telegramtest.Units(vis); n > limit {
				t.Fatalf("part %q is %d units, limit %d", vis, n, limit)
			}
			if strings.TrimSpace(vis) == "" {
				t.Fatalf("empty part %q", vis)
			}
			all.WriteString(p.String())
		}
		if !utf8.ValidString(a) || !utf8.ValidString(b) {
			// Stray bytes are shown as U+FFFD, part by part; people's text
			// is always valid UTF-8, and only then must every character
			// be kept.
			return
		}
		noSpace := func(s string) string {
			return strings.Map(func(r rune) rune {
				if unicode.IsSpace(r) {
					return -1
				}
				return r
			}, s)
		}
		if got, want := noSpace(all.String()), noSpace(in.String()); got != want {
			t.Fatalf("parts hold %q, want %q", got, want)
		}
		if !utf8.ValidString(all.String()) {
			t.Fatalf("a cut split a character")
		}
	})
}

func TestPlan(t *testing.T) {
	step := bot.Reply{Text: bot.Text{{Text: "Step 1", Style: bot.Bold}}, Personal: true,
		Buttons: [][]bot.Button{{{Label: "Next", Action: bot.Action{Kind: bot.ActNext}}}}}
	thanks := bot.Reply{Text: bot.Text{{Text: "Thanks."}}}
	export := bot.Reply{Text: bot.Text{{Text: "Here is your file."}}, Doc: &bot.Document{Name: "x.json", Data: []byte("{}")}, Personal: true}

	t.Run("MergesIntoFewMessages", func(t *testing.T) {
		got := plan([]bot.Reply{thanks, step}, true, "TrustBot_bot")
		if len(got) != 1 || got[0].html != "Thanks.\n\n<b>Step 1</b>" || got[0].keyboard == nil {
			t.Fatalf("plan = %+v, want one message with the step's button", got)
		}
		if b := got[0].keyboard.InlineKeyboard[0][0]; b.Text != "Next" || b.CallbackData != "next" {
			t.Fatalf("button = %+v", b)
		}
	})
	t.Run("ButtonsEndAMessage", func(t *testing.T) {
		got := plan([]bot.Reply{step, thanks}, true, "b")
		if len(got) != 2 || got[0].keyboard == nil || got[1].keyboard != nil {
			t.Fatalf("plan = %+v, want the step with its button, then the thanks", got)
		}
	})
	t.Run("DocumentWithCaption", func(t *testing.T) {
		got := plan([]bot.Reply{export}, true, "b")
		if len(got) != 1 || got[0].doc == nil || got[0].html != "Here is your file." {
			t.Fatalf("plan = %+v, want one document with its caption", got)
		}
	})
	t.Run("LongCaptionSentFirst", func(t *testing.T) {
		long := export
		long.Text = bot.Text{{Text: strings.Repeat("word ", 300)}}
		got := plan([]bot.Reply{long}, true, "b")
		if len(got) != 2 || got[0].doc != nil || got[1].doc == nil || got[1].html != "" {
			t.Fatalf("plan = %d messages, want the text, then the document without a caption", len(got))
		}
	})
	t.Run("Group", func(t *testing.T) {
		got := plan([]bot.Reply{thanks, step, export}, false, "TrustBot_bot")
		if len(got) != 1 {
			t.Fatalf("plan = %d messages, want 1", len(got))
		}
		m := got[0]
		if strings.Contains(m.html, "Step 1") || m.doc != nil || !strings.Contains(m.html, "I only do that in a private chat.") {
			t.Fatalf("group message %q (doc %v) shows personal replies", m.html, m.doc)
		}
		if kb := m.keyboard; kb == nil || len(kb.InlineKeyboard) != 1 || kb.InlineKeyboard[0][0].URL != "https://t.me/TrustBot_bot" {
			t.Fatalf("group keyboard = %+v, want only the link to the private chat", kb)
		}
	})
	t.Run("CallbackDataLimit", func(t *testing.T) {
		r := bot.Reply{Text: bot.Text{{Text: "x"}}, Buttons: [][]bot.Button{{
			{Label: "ok", Action: bot.Action{Kind: bot.ActJournal, Arg: "2"}},
			{Label: "too long", Action: bot.Action{Kind: bot.ActJournal, Arg: strings.Repeat("9", 70)}},
			{Label: " ", Action: bot.Action{Kind: bot.ActStep}},
		}}}
		kb := plan([]bot.Reply{r}, true, "b")[0].keyboard
		if kb == nil || len(kb.InlineKeyboard[0]) != 1 || kb.InlineKeyboard[0][0].CallbackData != "journal:2" {
			t.Fatalf("keyboard = %+v, want only the button within 64 bytes with a label", kb)
		}
	})
}
