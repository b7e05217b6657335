package telegramtest

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Entity is a formatted range of a message, as Telegram reports it: Offset
// and Length count UTF-16 code units of the visible text.
type Entity struct {
	Type   string `json:"type"` // bold, italic, underline, strikethrough, spoiler, text_link, code, pre, blockquote, custom_emoji
	Offset int    `json:"offset"`
	Length int    `json:"length"`
	URL    string `json:"url,omitempty"`
}

// Units is the length of s in UTF-16 code units, as Telegram counts
// message lengths.
func Units(s string) int {
	n := 0
	for _, r := range s {
		n++
		if r > 0xFFFF {
			n++
		}
	}
	return n
}

var htmlTags = map[string]string{
	"b": "bold", "strong": "bold", "i": "italic", "em": "italic",
	"u": "underline", "ins": "underline", "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough",
	"tg-spoiler": "spoiler", "span": "spoiler", "a": "text_link", "code": "code", "pre": "pre",
	"blockquote": "blockquote", "tg-emoji": "custom_emoji",
}

// ParseHTML parses text in Telegram's HTML parse mode the way the Bot API
// does (its parser is tdlib's parse_html): it returns the visible text and
// its entities, or the error Telegram reports after "Bad Request: can't
// parse entities: ". Only <, > and & need escaping; a '&' that starts no
// known entity stays literal, as in Telegram, and &lt; &gt; &amp; &quot;
// and numeric entities are decoded. The visible text is not trimmed.
func ParseHTML(s string) (string, []Entity, error) {
	if !utf8.ValidString(s) {
		return "", nil, fmt.Errorf("text must be encoded in UTF-8")
	}
	type open struct {
		tag, arg string
		offset   int
	}
	var (
		out   strings.Builder
		units int
		stack []open
		ents  []Entity
	)
	for i := 0; i < len(s); {
		c := s[i]
		switch c {
		case '&':
			if r, n := decodeEntity(s[i:]); n > 0 {
				out.WriteRune(r)
				units += runeUnits(r)
				i += n
				continue
			}
		case '<':
			begin := i
			i++
			if i < len(s) && s[i] == '/' {
				if len(stack) == 0 {
					return "", nil, fmt.Errorf("Unexpected end tag at byte offset %d", begin)
				}
				i++
				j := i
				for j < len(s) && !isSpace(s[j]) && s[j] != '>' {
					j++
				}
				name := strings.ToLower(s[i:j])
				for j < len(s) && isSpace(s[j]) {
					j++
				}
				if j >= len(s) || s[j] != '>' {
					return "", nil, fmt.Errorf("Unclosed end tag at byte offset %d", begin)
				}
				top := stack[len(stack)-1]
				if name != "" && name != top.tag {
					return "", nil, fmt.Errorf("Unmatched end tag at byte offset %d, expected \"</%s>\", found \"</%s>\"", begin, top.tag, name)
				}
				stack = stack[:len(stack)-1]
				if units > top.offset {
					e := Entity{Type: htmlTags[top.tag], Offset: top.offset, Length: units - top.offset}
					if top.tag == "a" {
						e.URL = top.arg
					}
					ents = append(ents, e)
				}
				i = j + 1
				continue
			}
			j := i
			for j < len(s) && !isSpace(s[j]) && s[j] != '>' {
				j++
			}
			if j >= len(s) {
				return "", nil, fmt.Errorf("Unclosed start tag at byte offset %d", begin)
			}
			name := strings.ToLower(s[i:j])
			if _, ok := htmlTags[name]; !ok {
				return "", nil, fmt.Errorf("Unsupported start tag \"%s\" at byte offset %d", name, begin)
			}
			attrs := map[string]string{}
			for {
				for j < len(s) && isSpace(s[j]) {
					j++
				}
				if j >= len(s) {
					return "", nil, fmt.Errorf("Unclosed start tag at byte offset %d", begin)
				}
				if s[j] == '>' {
					break
				}
				k := j
				for k < len(s) && !isSpace(s[k]) && s[k] != '=' && s[k] != '>' {
					k++
				}
				attr := strings.ToLower(s[j:k])
				if attr == "" {
					return "", nil, fmt.Errorf("Empty attribute name in the tag \"%s\" at byte offset %d", name, begin)
				}
				for k < len(s) && isSpace(s[k]) {
					k++
				}
				if k >= len(s) || s[k] != '=' {
					return "", nil, fmt.Errorf("Expected equal sign in declaration of an attribute of the tag \"%s\" at byte offset %d", name, begin)
				}
				k++
				for k < len(s) && isSpace(s[k]) {
					k++
				}
				if k >= len(s) {
					return "", nil, fmt.Errorf("Unclosed start tag at byte offset %d", begin)
				}
				var val string
				if q := s[k]; q == '"' || q == '\'' {
					end := strings.IndexByte(s[k+1:], q)
					if end < 0 {
						return "", nil, fmt.Errorf("Unclosed start tag at byte offset %d", begin)
					}
					val = decodeAll(s[k+1 : k+1+end])
					k += end + 2
				} else {
					e := k
					for e < len(s) && !isSpace(s[e]) && s[e] != '>' {
						e++
					}
					val = decodeAll(s[k:e])
					k = e
				}
				attrs[attr] = val
				j = k
			}
			if name == "span" && attrs["class"] != "tg-spoiler" {
				return "", nil, fmt.Errorf("Tag \"span\" must have class \"tg-spoiler\" at byte offset %d", begin)
			}
			stack = append(stack, open{tag: name, arg: attrs["href"], offset: units})
			i = j + 1
			continue
		}
		out.WriteByte(c)
		if c < 0x80 || c >= 0xC0 { // the first byte of a character
			units++
			if c >= 0xF0 {
				units++
			}
		}
		i++
	}
	if len(stack) > 0 {
		return "", nil, fmt.Errorf("Can't find end tag corresponding to start tag \"%s\"", stack[len(stack)-1].tag)
	}
	return out.String(), ents, nil
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func runeUnits(r rune) int {
	if r > 0xFFFF {
		return 2
	}
	return 1
}

// decodeEntity decodes the HTML entity at the start of s ("&lt;",
// "&#128512;", "&#x1F600;") and returns its character and length, or 0, 0.
func decodeEntity(s string) (rune, int) {
	end := strings.IndexByte(s[:min(len(s), 12)], ';')
	if end < 2 {
		return 0, 0
	}
	name := s[1:end]
	switch name {
	case "lt":
		return '<', end + 1
	case "gt":
		return '>', end + 1
	case "amp":
		return '&', end + 1
	case "quot":
		return '"', end + 1
	}
	if name[0] != '#' || len(name) < 2 {
		return 0, 0
	}
	var n uint64
	var err error
	if name[1] == 'x' || name[1] == 'X' {
		n, err = strconv.ParseUint(name[2:], 16, 32)
	} else {
		n, err = strconv.ParseUint(name[1:], 10, 32)
	}
	r := rune(n)
	if err != nil || n == 0 || n > utf8.MaxRune || (r >= 0xD800 && r <= 0xDFFF) {
		return 0, 0
	}
	return r, end + 1
}

func decodeAll(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] == '&' {
			if r, n := decodeEntity(s[i:]); n > 0 {
				b.WriteRune(r)
				i += n
				continue
			}
		}
		b.WriteByte(s[i])
		i++
	}
	return b.String()
}

// trim removes leading and trailing white space from text, as Telegram does
// with a message, and moves the entities with it.
func trim(text string, ents []Entity) (string, []Entity) {
	t := strings.TrimLeft(text, " \t\r\n")
	lead := Units(text[:len(text)-len(t)])
	t = strings.TrimRight(t, " \t\r\n")
	n := Units(t)
	var out []Entity
	for _, e := range ents {
		start, end := max(e.Offset-lead, 0), min(e.Offset+e.Length-lead, n)
		if end > start {
			e.Offset, e.Length = start, end-start
			out = append(out, e)
		}
	}
	return t, out
}
