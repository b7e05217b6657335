package telegram

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/trustbot/trustbot/bot"
)

// Telegram's limits, counted in UTF-16 code units of the text people see
// (after HTML is parsed), as Telegram counts them.
const (
	maxMessageUnits = 4096
	maxCaptionUnits = 1024
	maxCallbackData = 64 // bytes
)

// outMsg is one Telegram message to send: HTML text (a caption when doc is
// set), an optional inline keyboard and an optional document.
type outMsg struct {
	html     string
	keyboard *inlineKeyboard
	doc      *bot.Document
	protect  bool // protect_content: no forwarding or saving
}

// inlineKeyboard is Telegram's InlineKeyboardMarkup. It is ours rather than
// the library's because the library's button type always sends an empty
// copy_text object, and a button must have exactly one kind.
type inlineKeyboard struct {
	InlineKeyboard [][]inlineButton `json:"inline_keyboard"`
}

type inlineButton struct {
	Text         string `json:"text"`
	CallbackData string `json:"callback_data,omitempty"`
	URL          string `json:"url,omitempty"`
}

// plan turns the engine's replies into the messages to send to one chat.
//
// Consecutive replies are joined into one message where Telegram allows (a
// reply without buttons or a document runs on into the next one), so that
// a command is answered in as few messages as reads well. Texts over 4,096
// units are split at paragraph, then line, then word boundaries; the
// buttons go under the last part.
//
// A message made of several replies is protected from forwarding and
// saving if any of them asks for it (bot.Reply.Protect), and so is every
// part of a split one.
//
// In a group (private false) nothing personal is shown: a Personal reply
// becomes a pointer to the private chat, buttons are dropped (presses in
// groups do nothing) and every message gets a button that opens the private
// chat with the bot.
func plan(replies []bot.Reply, private bool, username string) []outMsg {
	var out []outMsg
	var pending bot.Text // text waiting to run on into the next reply
	pendingProtect := false
	for _, r := range replies {
		if !private {
			r = forGroup(r, username)
		}
		text := joinText(pending, r.Text)
		protect := pendingProtect || r.Protect
		pending, pendingProtect = nil, false
		kb := keyboard(r.Buttons)
		switch {
		case r.Doc != nil:
			if units(strings.TrimSpace(text.String())) <= maxCaptionUnits {
				out = append(out, outMsg{html: renderHTML(text), keyboard: kb, doc: r.Doc, protect: protect})
				continue
			}
			out = append(out, protected(messages(text, nil), protect)...)
			out = append(out, outMsg{keyboard: kb, doc: r.Doc, protect: protect})
		case kb == nil:
			pending, pendingProtect = text, protect
		default:
			out = append(out, protected(messages(text, kb), protect)...)
		}
	}
	var link *inlineKeyboard
	if !private && username != "" {
		link = &inlineKeyboard{[][]inlineButton{{{Text: "Message me privately", URL: "https://t.me/" + username}}}}
	}
	out = append(out, protected(messages(pending, link), pendingProtect)...)
	if n := len(out); link != nil && n > 0 && out[n-1].keyboard == nil {
		out[n-1].keyboard = link
	}
	return out
}

// messages splits text into messages, with kb under the last one.
func messages(text bot.Text, kb *inlineKeyboard) []outMsg {
	parts := splitText(text, maxMessageUnits)
	out := make([]outMsg, len(parts))
	for i, part := range parts {
		out[i].html = renderHTML(part)
	}
	if n := len(out); n > 0 {
		out[n-1].keyboard = kb
	}
	return out
}

// protected marks ms protected when protect is set, and returns them.
func protected(ms []outMsg, protect bool) []outMsg {
	for i := range ms {
		ms[i].protect = ms[i].protect || protect
	}
	return ms
}

// forGroup makes r safe for a group chat.
func forGroup(r bot.Reply, username string) bot.Reply {
	if r.Personal {
		t := "I only do that in a private chat."
		if username != "" {
			t += " Message me at https://t.me/" + username
		}
		return bot.Reply{Text: bot.Text{{Text: t}}}
	}
	r.Buttons = nil
	return r
}

// joinText returns a, a paragraph break, and b.
func joinText(a, b bot.Text) bot.Text {
	if len(strings.TrimSpace(b.String())) == 0 {
		return a
	}
	if len(strings.TrimSpace(a.String())) == 0 {
		return b
	}
	t := make(bot.Text, 0, len(a)+len(b)+1)
	t = append(t, a...)
	t = append(t, bot.Span{Text: "\n\n"})
	return append(t, b...)
}

// keyboard builds the inline keyboard for buttons. A button whose callback
// data would exceed Telegram's 64 bytes is left out (the engine keeps its
// actions far shorter), as is one without a label.
func keyboard(rows [][]bot.Button) *inlineKeyboard {
	var kb inlineKeyboard
	for _, row := range rows {
		var r []inlineButton
		for _, b := range row {
			data := b.Action.String()
			label := strings.TrimSpace(b.Label)
			if label == "" || data == "" || len(data) > maxCallbackData {
				continue
			}
			r = append(r, inlineButton{Text: label, CallbackData: data})
		}
		if len(r) > 0 {
			kb.InlineKeyboard = append(kb.InlineKeyboard, r)
		}
	}
	if len(kb.InlineKeyboard) == 0 {
		return nil
	}
	return &kb
}

// renderHTML renders t for Telegram's HTML parse mode: bold and italic spans
// become <b> and <i>, and all text is escaped, so nothing in it (a name, a
// reflection) is ever read as markup.
func renderHTML(t bot.Text) string {
	var b strings.Builder
	for _, s := range t {
		if s.Text == "" {
			continue
		}
		open, close := "", ""
		switch s.Style {
		case bot.Bold:
			open, close = "<b>", "</b>"
		case bot.Italic:
			open, close = "<i>", "</i>"
		}
		b.WriteString(open)
		escapeHTML(&b, s.Text)
		b.WriteString(close)
	}
	return b.String()
}

// escapeHTML writes s with the three characters Telegram's HTML treats
// specially replaced by entities. Invalid UTF-8 becomes U+FFFD, which
// Telegram would otherwise refuse.
func escapeHTML(b *strings.Builder, s string) {
	s = strings.ToValidUTF8(s, "\uFFFD")
	last := 0
	for i := 0; i < len(s); i++ {
		var esc string
		switch s[i] {
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		case '&':
			esc = "&amp;"
		default:
			continue
		}
		b.WriteString(s[last:i])
		b.WriteString(esc)
		last = i + 1
	}
	b.WriteString(s[last:])
}

// units is the length of s in UTF-16 code units, as Telegram counts it.
func units(s string) int {
	n := 0
	for _, r := range s {
		n++
		if r > 0xFFFF {
			n++
		}
	}
	return n
}

// splitText cuts t into parts of at most limit UTF-16 units of visible
// text, trimmed of surrounding white space. It cuts at the last paragraph
// break that fits, else the last line break, else the last space, else
// between two characters: never inside a character (so never between the
// halves of a surrogate pair), and, because each part is rendered on its
// own, never inside a tag or an entity. Parts that would be empty are left
// out.
func splitText(t bot.Text, limit int) []bot.Text {
	t = validUTF8(t)
	s := t.String()
	var parts []bot.Text
	start := 0
	for start < len(s) {
		// Skip the white space a part would lose to trimming anyway.
		for start < len(s) {
			r, n := utf8.DecodeRuneInString(s[start:])
			if !unicode.IsSpace(r) {
				break
			}
			start += n
		}
		if start >= len(s) {
			break
		}
		end, next := cut(s[start:], limit)
		end, next = start+end, start+next
		if piece := strings.TrimRightFunc(s[start:end], unicode.IsSpace); piece != "" {
			parts = append(parts, slice(t, start, start+len(piece)))
		}
		start = next
	}
	return parts
}

// validUTF8 returns t with invalid UTF-8 in each span replaced by U+FFFD,
// as renderHTML shows it, so that splitting counts what will be shown
// (stray bytes at the end of one span and the start of the next would
// otherwise read as one character).
func validUTF8(t bot.Text) bot.Text {
	for i, sp := range t {
		if !utf8.ValidString(sp.Text) {
			out := append(bot.Text(nil), t...)
			for j := i; j < len(out); j++ {
				out[j].Text = strings.ToValidUTF8(out[j].Text, "\uFFFD")
			}
			return out
		}
	}
	return t
}

// cut returns where the first part of s ends and where the rest begins.
func cut(s string, limit int) (end, next int) {
	// fit: the longest prefix of at most limit units, on a rune boundary.
	fit, n := 0, 0
	for fit < len(s) {
		r, size := utf8.DecodeRuneInString(s[fit:])
		w := 1 // an invalid byte is rendered as U+FFFD: one unit
		if r > 0xFFFF {
			w = 2
		}
		if n+w > limit {
			break
		}
		n += w
		fit += size
	}
	if fit == len(s) {
		return fit, fit
	}
	if fit == 0 { // limit below one character: take one anyway
		_, w := utf8.DecodeRuneInString(s)
		return w, w
	}
	window := s[:fit]
	// A break right at the limit is as good as one inside it.
	if s[fit] == '\n' || s[fit] == ' ' {
		window = s[:fit+1]
	}
	for _, sep := range []string{"\n\n", "\n", " "} {
		if i := strings.LastIndex(window, sep); i > 0 {
			return i, i + len(sep)
		}
	}
	return fit, fit
}

// slice returns the spans of t covering bytes [from, to) of t.String(),
// keeping their styles.
func slice(t bot.Text, from, to int) bot.Text {
	var out bot.Text
	off := 0
	for _, s := range t {
		a, b := off, off+len(s.Text)
		off = b
		lo, hi := max(a, from), min(b, to)
		if lo >= hi {
			continue
		}
		out = append(out, bot.Span{Text: s.Text[lo-a : hi-a], Style: s.Style})
	}
	return out
}
