package discord

import (
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/trustbot/trustbot/bot"
)

// MaxMessageLen is Discord's limit on a message's content. Lengths are
// counted here in UTF-16 code units, which is never fewer than Discord's own
// count, so a rendered message is never refused for its length.
const MaxMessageLen = 2000

// maxWrappedURL is the longest link wrapped in <...> (which stops Discord
// from showing a preview). Longer ones are escaped like any other text, so
// that a long line can still be split anywhere.
const maxWrappedURL = 512

// zwsp breaks "@everyone" and "@here" so that they never render as mentions
// (allowed_mentions already stops them from pinging anyone).
const zwsp = "\u200b"

// textLen is the length of s as Discord may count it.
func textLen(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// seg is a run of text in one style, without newlines.
type seg struct {
	text  string
	style bot.Style
}

// renderText turns structured text into Discord messages of at most limit
// characters each, split at paragraph boundaries where possible, then at
// line boundaries, then between words. Every span's text is escaped, so
// nothing in it can format, mention or link; the engine's bold and italic
// spans become **bold** and *italic*.
func renderText(t bot.Text, limit int) []string {
	var p packer
	p.limit = limit
	for _, para := range paragraphs(t) {
		var lines []string
		for _, l := range para {
			lines = append(lines, renderLineSplit(l, limit)...)
		}
		p.paragraph(lines)
	}
	return p.done()
}

// paragraphs splits t into paragraphs of lines; blank lines separate
// paragraphs and are otherwise dropped.
func paragraphs(t bot.Text) [][][]seg {
	var (
		paras [][][]seg
		para  [][]seg
		line  []seg
	)
	endLine := func() {
		blank := true
		for _, s := range line {
			if strings.TrimSpace(s.text) != "" {
				blank = false
				break
			}
		}
		if blank {
			if len(para) > 0 {
				paras = append(paras, para)
				para = nil
			}
		} else {
			para = append(para, line)
		}
		line = nil
	}
	for _, sp := range t {
		text := strings.ReplaceAll(sp.Text, "\r\n", "\n")
		for i, part := range strings.Split(text, "\n") {
			if i > 0 {
				endLine()
			}
			if part != "" {
				line = append(line, seg{text: part, style: sp.Style})
			}
		}
	}
	endLine()
	if len(para) > 0 {
		paras = append(paras, para)
	}
	return paras
}

// packer fills messages with paragraphs, keeping each paragraph whole when
// it fits in one message.
type packer struct {
	limit  int
	chunks []string
	cur    strings.Builder
	n      int
}

func (p *packer) add(s, sep string) {
	l := textLen(s)
	if p.n > 0 && p.n+len(sep)+l <= p.limit {
		p.cur.WriteString(sep)
		p.cur.WriteString(s)
		p.n += len(sep) + l
		return
	}
	p.flush()
	p.cur.WriteString(s)
	p.n = l
}

func (p *packer) flush() {
	if p.n > 0 {
		p.chunks = append(p.chunks, p.cur.String())
	}
	p.cur.Reset()
	p.n = 0
}

func (p *packer) paragraph(lines []string) {
	if len(lines) == 0 {
		return
	}
	whole := strings.Join(lines, "\n")
	if textLen(whole) <= p.limit {
		p.add(whole, "\n\n")
		return
	}
	for i, l := range lines {
		sep := "\n"
		if i == 0 {
			sep = "\n\n"
		}
		p.add(l, sep)
	}
}

func (p *packer) done() []string {
	p.flush()
	return p.chunks
}

// renderLineSplit renders one line, cut into several lines between words
// when it is longer than limit.
func renderLineSplit(line []seg, limit int) []string {
	if s := renderLine(line); textLen(s) <= limit {
		return []string{s}
	}
	toks := tokens(line, max(limit/4, 1))
	var out []string
	for i := 0; i < len(toks); {
		if len(out) > 0 { // a continuation starts with a word
			toks[i].text = strings.TrimLeftFunc(toks[i].text, unicode.IsSpace)
			if toks[i].text == "" {
				i++
				continue
			}
		}
		// Take words while a cheap estimate says they fit (a word rendered
		// alone, plus one for what context adds: a separator between
		// styles, a mention breaker), then check the real length and give
		// words back until it fits. Context can also remove length
		// (merged markers) or add more (a link that reaches into the next
		// word and becomes too long to wrap), hence the check.
		j, est := i, 0
		for j < len(toks) {
			n := textLen(renderLine(toks[j:j+1])) + 1
			if j > i && est+n > limit {
				break
			}
			est += n
			j++
		}
		for {
			s := renderLine(piece(toks[i:j]))
			if n := textLen(s); n <= limit || j == i+1 {
				if n > limit {
					s = hardCut(s, limit) // one word of limit/4 characters always fits
				}
				if strings.TrimSpace(s) != "" {
					out = append(out, s)
				}
				break
			}
			j--
		}
		i = j
	}
	return out
}

// piece merges words of the same style and drops the trailing spaces.
func piece(toks []seg) []seg {
	var out []seg
	for _, tk := range toks {
		if m := len(out); m > 0 && out[m-1].style == tk.style {
			out[m-1].text += tk.text
		} else {
			out = append(out, tk)
		}
	}
	if m := len(out); m > 0 {
		out[m-1].text = strings.TrimRightFunc(out[m-1].text, unicode.IsSpace)
	}
	return out
}

// tokens cuts a line into words with their following spaces; words longer
// than maxRunes runes are cut into pieces of maxRunes runes.
func tokens(line []seg, maxRunes int) []seg {
	var out []seg
	for _, s := range line {
		rest := s.text
		for rest != "" {
			// a word, then the spaces after it
			i := strings.IndexAny(rest, " \t")
			if i < 0 {
				i = len(rest)
			}
			j := i
			for j < len(rest) && (rest[j] == ' ' || rest[j] == '\t') {
				j++
			}
			word := rest[:j]
			rest = rest[j:]
			start, n := 0, 0
			for k := range word {
				if n == maxRunes {
					out = append(out, seg{text: word[start:k], style: s.style})
					start, n = k, 0
				}
				n++
			}
			if start < len(word) {
				out = append(out, seg{text: word[start:], style: s.style})
			}
		}
	}
	return out
}

// hardCut shortens s to at most limit characters at a rune boundary, never
// leaving a lone escaping backslash at the end.
func hardCut(s string, limit int) string {
	n := 0
	for i, r := range s {
		n += utf16.RuneLen(r)
		if n > limit {
			s = s[:i]
			break
		}
	}
	if k := len(s) - len(strings.TrimRight(s, `\`)); k%2 == 1 {
		s = s[:len(s)-1]
	}
	return s
}

// renderLine renders one line of styled segments.
func renderLine(line []seg) string {
	var b strings.Builder
	e := escaper{b: &b}
	prevStyledClose := false // the output ends with a closing marker
	for _, s := range line {
		if s.style == bot.Plain {
			e.write(s.text)
			prevStyledClose = false
			continue
		}
		lead, core, trail := splitSpace(s.text)
		b.WriteString(lead)
		if core == "" {
			b.WriteString(trail)
			continue
		}
		marker := "**"
		if s.style == bot.Italic {
			marker = "*"
		}
		if prevStyledClose && lead == "" {
			// "**a***b*" would not parse as intended.
			b.WriteString(zwsp)
		}
		b.WriteString(marker)
		e.write(core)
		b.WriteString(marker)
		b.WriteString(trail)
		prevStyledClose = trail == ""
	}
	return b.String()
}

// splitSpace splits s into leading spaces, the rest and trailing spaces:
// Discord only reads "*x*" as italic when no space is inside the markers.
func splitSpace(s string) (lead, core, trail string) {
	core = strings.TrimLeftFunc(s, unicode.IsSpace)
	lead = s[:len(s)-len(core)]
	trimmed := strings.TrimRightFunc(core, unicode.IsSpace)
	trail = core[len(trimmed):]
	return lead, trimmed, trail
}

// escaper writes literal text so that Discord shows it as typed.
type escaper struct {
	b     *strings.Builder
	start lineState
}

type lineState uint8

const (
	lineStart  lineState = iota // nothing but spaces written on this line yet
	lineDigits                  // then only digits
	midLine
)

// alwaysEscaped are the characters Discord markdown gives a meaning
// anywhere in a line: emphasis, underline, strikethrough, code, spoilers,
// masked links, quotes and <@mentions>/<#channels>/<t:timestamps>.
const alwaysEscaped = "\\*_~`|[]<>"

func (e *escaper) write(s string) {
	b := e.b
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch e.start {
		case lineStart:
			if unicode.IsSpace(r) {
				b.WriteString(s[i : i+size])
				i += size
				continue
			}
			e.start = midLine
			// Headings, subtext, lists and quotes only start a line.
			switch {
			case r == '#' || r == '-' || r == '+':
				b.WriteByte('\\')
				b.WriteRune(r)
				i += size
				continue
			case r >= '0' && r <= '9':
				e.start = lineDigits
				b.WriteRune(r)
				i += size
				continue
			}
		case lineDigits:
			// "12. " starts a numbered list, even when the digits came in
			// an earlier span.
			switch {
			case r >= '0' && r <= '9':
				b.WriteRune(r)
				i += size
				continue
			case r == '.':
				e.start = midLine
				b.WriteString(`\.`)
				i += size
				continue
			}
			e.start = midLine
		}
		if n := schemeAt(s, i); n > 0 {
			if url := linkAt(s, i, n); url != "" {
				b.WriteByte('<')
				b.WriteString(url)
				b.WriteByte('>')
				i += len(url)
			} else {
				// Not a link we can wrap: "https\://" is shown as typed
				// but not linked.
				b.WriteString(s[i : i+n-3])
				b.WriteString(`\:`)
				i += n - 2
			}
			continue
		}
		switch {
		case r < utf8.RuneSelf && strings.IndexByte(alwaysEscaped, byte(r)) >= 0:
			b.WriteByte('\\')
			b.WriteByte(byte(r))
		case r == '@':
			b.WriteByte('@')
			rest := s[i+1:]
			if hasPrefixFold(rest, "everyone") || hasPrefixFold(rest, "here") || strings.HasPrefix(rest, zwsp) {
				b.WriteString(zwsp)
			}
		case r == utf8.RuneError && size == 1:
			b.WriteRune(utf8.RuneError) // invalid UTF-8 is never sent as is
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
}

// schemeAt returns the length of "http://" or "https://" at s[i:] when a
// link starts there (not inside a word), or 0.
func schemeAt(s string, i int) int {
	n := 0
	switch {
	case hasPrefixFold(s[i:], "http://"):
		n = len("http://")
	case hasPrefixFold(s[i:], "https://"):
		n = len("https://")
	default:
		return 0
	}
	if i > 0 {
		if r, _ := utf8.DecodeLastRuneInString(s[:i]); unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' {
			return 0
		}
	}
	return n
}

// linkAt returns the link at s[i:], whose scheme is n bytes long, or "" if
// it cannot be wrapped. A link is shown as <link>: Discord links it without
// a preview, and does not read its text as markdown.
func linkAt(s string, i, n int) string {
	j := i
	for j < len(s) {
		if j-i > 2*maxWrappedURL {
			return "" // too long to wrap, whatever follows; stop reading
		}
		r, size := utf8.DecodeRuneInString(s[j:])
		if unicode.IsSpace(r) || r == '<' || r == '>' || r == '\\' || r == utf8.RuneError || unicode.IsControl(r) || r == 0x200b {
			break
		}
		j += size
	}
	// Punctuation after a link belongs to the sentence: "(see https://x.org)."
	url := strings.TrimRight(s[i:j], ".,;:!?)]}'\"")
	if len(url) <= n || len(url) > maxWrappedURL {
		return ""
	}
	return url
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
