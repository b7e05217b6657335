package discord

import (
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"github.com/trustbot/trustbot/bot"
)

func TestRenderEscapes(t *testing.T) {
	tests := []struct {
		name string
		in   bot.Text
		want string
	}{
		{"plain", bot.Text{{Text: "Hello there."}}, "Hello there."},
		{"bold and italic", bot.Text{{Text: "Step 1", Style: bot.Bold}, {Text: "\n\n"}, {Text: "why", Style: bot.Italic}}, "**Step 1**\n\n*why*"},
		{"spaces stay outside markers", bot.Text{{Text: "For today: ", Style: bot.Bold}, {Text: "breathe"}}, "**For today:** breathe"},
		{"adjacent styles", bot.Text{{Text: "a", Style: bot.Bold}, {Text: "b", Style: bot.Italic}}, "**a**\u200b*b*"},
		{"markdown", bot.Text{{Text: "**bold** _u_ ~~s~~ `c` ||spoiler|| \\"}}, `\*\*bold\*\* \_u\_ \~\~s\~\~ \` + "`c\\` " + `\|\|spoiler\|\| \\`},
		{"styled text is escaped too", bot.Text{{Text: "a*b", Style: bot.Italic}}, `*a\*b*`},
		{"everyone and here", bot.Text{{Text: "@everyone @HERE @here_x @someone"}}, "@\u200beveryone @\u200bHERE @\u200bhere\\_x @someone"},
		{"user, role and channel mentions", bot.Text{{Text: "<@123> <@&456> <#789> <t:1:R> </help:1>"}}, `\<@123\> \<@&456\> \<#789\> \<t:1:R\> \</help:1\>`},
		{"masked link", bot.Text{{Text: "[click](https://evil.example/x)"}}, `\[click\](<https://evil.example/x>)`},
		{"bare link gets no preview", bot.Text{{Text: "see https://example.org/a_b*c, then"}}, "see <https://example.org/a_b*c>, then"},
		{"link inside a word is not a link", bot.Text{{Text: "xhttps://a.b"}}, "xhttps://a.b"},
		{"a scheme alone is not linked", bot.Text{{Text: "https:// and http://\\x"}}, `https\:// and http\://\\x`},
		{"line starts", bot.Text{{Text: "# h\n-# small\n- item\n+ x\n> quote\n12. list\n  ## deep"}}, "\\# h\n\\-# small\n\\- item\n\\+ x\n\\> quote\n12\\. list\n  \\## deep"},
		{"blank lines collapse to paragraphs", bot.Text{{Text: "a\n\n\n\nb\n \nc"}}, "a\n\nb\n\nc"},
		{"invalid utf-8", bot.Text{{Text: "a\xffb"}}, "a\uFFFDb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := strings.Join(renderText(tt.in, MaxMessageLen), "\n\n")
			if got != tt.want {
				t.Fatalf("render\n got: %q\nwant: %q", got, tt.want)
			}
		})
	}
}

func TestRenderSplitsAtParagraphsThenLines(t *testing.T) {
	para := strings.Repeat("word ", 150) // 750 characters
	var in bot.Text
	in = append(in, bot.Span{Text: "Title", Style: bot.Bold}, bot.Span{Text: "\n\n" + para + "\n\n" + para + "\n\n" + para})
	chunks := renderText(in, MaxMessageLen)
	if len(chunks) != 2 {
		t.Fatalf("got %d messages, want 2 (two paragraphs and the title fit in the first)", len(chunks))
	}
	for i, c := range chunks {
		if n := textLen(c); n > MaxMessageLen {
			t.Errorf("message %d is %d characters, over %d", i, n, MaxMessageLen)
		}
	}
	if !strings.HasPrefix(chunks[1], "word") || strings.HasSuffix(chunks[0], "\n") {
		t.Errorf("split is not at a paragraph boundary: %q | %q", tail(chunks[0]), head(chunks[1]))
	}

	// One paragraph of many lines splits between lines.
	lines := strings.Repeat(strings.Repeat("x", 99)+"\n", 50) // 5000 characters
	chunks = renderText(bot.Text{{Text: lines}}, MaxMessageLen)
	if len(chunks) != 3 {
		t.Fatalf("got %d messages, want 3", len(chunks))
	}
	for i, c := range chunks {
		for _, l := range strings.Split(c, "\n") {
			if len(l) != 99 {
				t.Fatalf("message %d has a line of %d characters, want whole lines of 99", i, len(l))
			}
		}
	}

	// One long line splits between words; escaping counts toward the limit.
	long := strings.Repeat("a_b ", 700) // 2800 characters, 3500 escaped
	chunks = renderText(bot.Text{{Text: long, Style: bot.Italic}}, MaxMessageLen)
	if len(chunks) < 2 {
		t.Fatalf("got %d messages, want at least 2", len(chunks))
	}
	for i, c := range chunks {
		if n := textLen(c); n > MaxMessageLen {
			t.Errorf("message %d is %d characters, over %d", i, n, MaxMessageLen)
		}
		if !strings.HasPrefix(c, "*a") || !strings.HasSuffix(c, "b*") {
			t.Errorf("message %d does not open and close its italics: %q…%q", i, head(c), tail(c))
		}
	}
}

func head(s string) string { return s[:min(len(s), 30)] }
func tail(s string) string { return s[max(0, len(s)-30):] }

// FuzzRender checks that every rendered message is within the limit, that
// nothing typed can format, mention or link, and that no character is lost.
func FuzzRender(f *testing.F) {
	f.Add("hello **world**", uint8(0), uint16(2000))
	f.Add("@everyone <@123> [x](https://e.x) `c`\n\n# title\n1. item", uint8(5), uint16(50))
	f.Add(strings.Repeat("https://example.org/"+strings.Repeat("_", 30)+" ", 40), uint8(2), uint16(100))
	f.Add("a\x01b\x01c\x01\n\nd", uint8(0b0110), uint16(0))
	f.Add(strings.Repeat("é@", 600), uint8(1), uint16(7))
	f.Fuzz(func(t *testing.T, text string, styles uint8, lim uint16) {
		limit := 40 + int(lim)%(MaxMessageLen-39)
		var in bot.Text
		for i, part := range strings.Split(text, "\x01") {
			// Span texts are valid UTF-8 (they come from JSON and the
			// program file); TestRenderEscapes covers invalid bytes.
			part = strings.ToValidUTF8(part, "\uFFFD")
			in = append(in, bot.Span{Text: part, Style: bot.Style((styles >> (2 * (i % 4))) % 3)})
		}
		chunks := renderText(in, limit)
		var decoded strings.Builder
		for i, c := range chunks {
			if n := textLen(c); n > limit {
				t.Fatalf("message %d is %d characters, over %d", i, n, limit)
			}
			if strings.TrimSpace(strings.ReplaceAll(c, "\u200b", "")) == "" {
				t.Fatalf("message %d is empty: %q", i, c)
			}
			if !utf8.ValidString(c) {
				t.Fatalf("message %d is not valid UTF-8", i)
			}
			for _, line := range strings.Split(c, "\n") {
				d, problem := decodeLine(line)
				if problem != "" {
					t.Fatalf("message %d, line %q: %s", i, line, problem)
				}
				decoded.WriteString(d)
			}
		}
		if got, want := squash(decoded.String()), squash(in.String()); got != want {
			t.Fatalf("text changed:\n got: %q\nwant: %q", got, want)
		}
	})
}

// squash drops whitespace and zero-width spaces, and reads invalid UTF-8 the
// way the renderer does, one replacement character per byte.
func squash(s string) string {
	var b strings.Builder
	for _, r := range s {
		if !unicode.IsSpace(r) && r != 0x200b {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// decodeLine reads a rendered line the way Discord would for the constructs
// the renderer must neutralise, and returns its literal text, or a problem:
// any markdown, mention or link the renderer did not put there itself.
func decodeLine(line string) (text, problem string) {
	var b strings.Builder
	bold, italic := false, false
	atStart := true
	for i := 0; i < len(line); {
		r, size := utf8.DecodeRuneInString(line[i:])
		if atStart && !unicode.IsSpace(r) {
			atStart = false
			switch {
			case r == '#' || r == '-' || r == '+' || r == '>':
				return "", "unescaped " + string(r) + " starts a line"
			case r >= '0' && r <= '9':
				j := i
				for j < len(line) && line[j] >= '0' && line[j] <= '9' {
					j++
				}
				if strings.HasPrefix(line[j:], ". ") {
					return "", "unescaped numbered list"
				}
			}
		}
		switch {
		case r == '\\':
			if i+1 >= len(line) || !strings.ContainsRune(alwaysEscaped+"#-+.:", rune(line[i+1])) {
				return "", "stray backslash"
			}
			b.WriteByte(line[i+1])
			i += 2
			continue
		case r == '*':
			// The renderer never nests styles, and separates adjacent ones.
			if strings.HasPrefix(line[i:], "**") {
				bold = !bold
				i += 2
			} else {
				italic = !italic
				i++
			}
			continue
		case r == '<':
			j := strings.IndexByte(line[i:], '>')
			if j < 0 {
				return "", "unescaped <"
			}
			url := line[i+1 : i+j]
			if !hasPrefixFold(url, "http://") && !hasPrefixFold(url, "https://") || strings.ContainsAny(url, " <") {
				return "", "unescaped <...> that is not a link: " + url
			}
			b.WriteString(url)
			i += j + 1
			continue
		case r == '@':
			rest := line[i+1:]
			if hasPrefixFold(rest, "everyone") || hasPrefixFold(rest, "here") {
				return "", "a live @everyone/@here"
			}
		case r < utf8.RuneSelf && strings.ContainsRune("_~`|[]>", r):
			return "", "unescaped " + string(r)
		}
		if hasPrefixFold(line[i:], "https://") || hasPrefixFold(line[i:], "http://") {
			// A bare link is fine only if it is not one: inside a word.
			if i == 0 || !isWordChar(line[:i]) {
				return "", "a bare link (it would show a preview)"
			}
		}
		b.WriteString(line[i : i+size])
		i += size
	}
	if bold || italic {
		return "", "markers not closed on this line"
	}
	return b.String(), ""
}

func isWordChar(before string) bool {
	r, _ := utf8.DecodeLastRuneInString(before)
	return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_'
}

func TestMatchZones(t *testing.T) {
	tests := []struct {
		query string
		first string
	}{
		{"", "UTC"},
		{"berlin", "Europe/Berlin"},
		{"new york", "America/New_York"},
		{"europe/berlin", "Europe/Berlin"},
		{"port-au", "America/Port-au-Prince"},
		{"KOLKATA", "Asia/Kolkata"},
	}
	for _, tt := range tests {
		got := matchZones(tt.query, 25)
		if len(got) == 0 || got[0] != tt.first {
			t.Errorf("matchZones(%q) = %v, want %s first", tt.query, got, tt.first)
		}
		if len(got) > 25 {
			t.Errorf("matchZones(%q) gave %d choices, want at most 25", tt.query, len(got))
		}
	}
	if got := matchZones("zzzz", 25); len(got) != 0 {
		t.Errorf("matchZones(zzzz) = %v, want none", got)
	}
	if got := matchZones("america", 25); len(got) != 25 {
		t.Errorf("matchZones(america) gave %d choices, want 25", len(got))
	}
}

func TestZoneNamesAllLoad(t *testing.T) {
	if len(zoneNames) < 300 {
		t.Fatalf("only %d zone names; regenerate zones.go with go generate", len(zoneNames))
	}
	for _, z := range append(zoneNames, popularZones...) {
		if _, err := time.LoadLocation(z); err != nil {
			t.Errorf("zone %q does not load: %v", z, err)
		}
		if name, _, err := bot.ParseTimeZone(z); err != nil || name != z {
			t.Errorf("bot.ParseTimeZone(%q) = %q, %v; want it accepted as is", z, name, err)
		}
		if len(z) > 100 {
			t.Errorf("zone %q is longer than a choice may be", z)
		}
	}
}

func TestCommandDefs(t *testing.T) {
	defs := commandDefs()
	if len(defs) != len(bot.Commands) {
		t.Fatalf("got %d commands, want %d (one per bot.Commands)", len(defs), len(bot.Commands))
	}
	for _, d := range defs {
		if d.Description == "" || utf8.RuneCountInString(d.Description) > 100 {
			t.Errorf("/%s: description %q must be 1 to 100 characters", d.Name, d.Description)
		}
		for _, o := range d.Options {
			if o.Description == "" || utf8.RuneCountInString(o.Description) > 100 || len(o.Name) > 32 || strings.ToLower(o.Name) != o.Name {
				t.Errorf("/%s %s: option name or description out of Discord's limits", d.Name, o.Name)
			}
		}
	}
}

func TestComponentsKeepDiscordsLimits(t *testing.T) {
	var row []bot.Button
	for i := range 7 {
		row = append(row, bot.Button{Label: strings.Repeat("x", 100), Action: bot.Action{Kind: bot.ActJournal, Arg: strconv.Itoa(i + 1)}})
	}
	tooLong := bot.Button{Label: "old", Action: bot.Action{Kind: bot.ActJournal, Arg: strings.Repeat("9", 120)}}
	rows := [][]bot.Button{row, {tooLong}, {{Label: "a", Action: bot.Action{Kind: bot.ActNext}}}, {{Action: bot.Action{Kind: bot.ActStep}}}, {{Label: "b", Action: bot.Action{Kind: bot.ActPause}}}, {{Label: "c", Action: bot.Action{Kind: bot.ActReflect}}}}
	comps := components(rows)
	if len(comps) != maxRows {
		t.Fatalf("%d action rows, want %d (Discord's maximum)", len(comps), maxRows)
	}
	first, ok := comps[0].(discordgo.ActionsRow)
	if !ok || len(first.Components) != maxButtonsPerRow {
		t.Fatalf("first row = %#v, want %d buttons (the rest wrap)", comps[0], maxButtonsPerRow)
	}
	for _, c := range comps {
		for _, b := range c.(discordgo.ActionsRow).Components {
			btn := b.(discordgo.Button)
			if len(btn.CustomID) > maxCustomID || btn.CustomID == "" {
				t.Errorf("custom_id %q: want 1 to %d characters", btn.CustomID, maxCustomID)
			}
			if n := utf8.RuneCountInString(btn.Label); n > maxLabel || n == 0 {
				t.Errorf("label of %d characters, want 1 to %d", n, maxLabel)
			}
		}
	}
}
