package bot

import "strings"

// A small builder for structured text, so engine code reads like the message
// it writes.
type textBuilder struct{ t Text }

func (b *textBuilder) add(style Style, parts ...string) *textBuilder {
	s := strings.Join(parts, "")
	if s == "" {
		return b
	}
	if n := len(b.t); n > 0 && b.t[n-1].Style == style {
		b.t[n-1].Text += s
		return b
	}
	b.t = append(b.t, Span{Text: s, Style: style})
	return b
}

func (b *textBuilder) plain(parts ...string) *textBuilder  { return b.add(Plain, parts...) }
func (b *textBuilder) bold(parts ...string) *textBuilder   { return b.add(Bold, parts...) }
func (b *textBuilder) italic(parts ...string) *textBuilder { return b.add(Italic, parts...) }

// para starts a new paragraph unless the text is empty.
func (b *textBuilder) para() *textBuilder {
	if len(b.t) > 0 && !strings.HasSuffix(b.t[len(b.t)-1].Text, "\n\n") {
		if strings.HasSuffix(b.t[len(b.t)-1].Text, "\n") {
			return b.plain("\n")
		}
		return b.plain("\n\n")
	}
	return b
}

func (b *textBuilder) text() Text { return b.t }

// reply is shorthand for a reply of plain text.
func reply(parts ...string) Reply {
	return Reply{Text: Text{{Text: strings.Join(parts, "")}}}
}
