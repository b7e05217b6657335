package content

import (
	"os"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/trustbot/trustbot/bot"
)

// articlePath is the source article, beside the repository in CI.
const articlePath = "../../shared/seed/rebuild-trust-article.txt"

// citedTitle is the article's title, which the about text cites by name. It
// is the one run of the article's words the program may contain.
const citedTitle = "How to Rebuild Trust in a Relationship, According to a Therapist"

// copiedRun is the length of a run of words that counts as copied.
const copiedRun = 8

func TestDefaultLoads(t *testing.T) {
	p, err := Load(DefaultName, DefaultSource())
	if err != nil {
		t.Fatalf("Load(%s) error:\n%v", DefaultName, err)
	}
	if got := Default(); got == nil || got.ID != p.ID {
		t.Fatalf("Default() = %v, want the program %q", got, p.ID)
	}
	if Default() != Default() {
		t.Fatalf("Default() returned different programs, want one shared program")
	}
	for _, tc := range []struct{ name, got, want string }{
		{"id", p.ID, "rebuilding-trust"},
		{"title", p.Title, "Rebuilding trust"},
		{"language", p.Language, "en"},
	} {
		if tc.got != tc.want {
			t.Fatalf("%s: got %q, want %q", tc.name, tc.got, tc.want)
		}
	}
}

func TestDefaultSteps(t *testing.T) {
	want := []string{
		"Acknowledge what happened",
		"Talk openly and honestly",
		"Commit to change",
		"Bring in outside help",
		"Set expectations together",
		"Give it time",
		"Start small",
		"Forgiving is not forgetting",
		"Invest in yourself",
		"Celebrate how far you have come",
	}
	p := Default()
	if len(p.Steps) != len(want) {
		t.Fatalf("len(Steps): got %d, want %d", len(p.Steps), len(want))
	}
	for i, s := range p.Steps {
		if s.Number != i+1 {
			t.Fatalf("Steps[%d].Number: got %d, want %d", i, s.Number, i+1)
		}
		if s.Title != want[i] {
			t.Fatalf("step %d title: got %q, want %q", s.Number, s.Title, want[i])
		}
		if n := utf8.RuneCountInString(s.Body); n >= MaxBodyRunes {
			t.Fatalf("step %d body: got %d runes, want under %d", s.Number, n, MaxBodyRunes)
		}
		if n := len(strings.Split(s.Body, "\n\n")); n < 2 || n > 4 {
			t.Fatalf("step %d body: got %d paragraphs, want 2 to 4", s.Number, n)
		}
		if len(s.Prompts) < MinPrompts {
			t.Fatalf("step %d: got %d prompts, want at least %d", s.Number, len(s.Prompts), MinPrompts)
		}
		if strings.Contains(s.Summary, "\n") || s.Action == "" {
			t.Fatalf("step %d: got summary %q and action %q, want a one-line summary and an action", s.Number, s.Summary, s.Action)
		}
		if got, ok := p.Step(i + 1); !ok || got.Title != s.Title {
			t.Fatalf("Step(%d): got %q, %v, want %q, true", i+1, got.Title, ok, s.Title)
		}
	}
}

// Every role gets a worded prompt for every step, and the hurt partner is
// never asked to forgive.
func TestDefaultRoles(t *testing.T) {
	for _, s := range Default().Steps {
		for _, r := range bot.Roles {
			n := 0
			for _, pr := range s.Prompts {
				if _, ok := pr.Variants[r]; ok {
					n++
				}
			}
			if r != bot.RoleNone && n == 0 {
				t.Fatalf("step %d: got no prompt worded for role %q, want at least one", s.Number, r)
			}
		}
		for _, pr := range s.Prompts {
			hurt := strings.ToLower(pr.For(bot.RoleHurt))
			for _, push := range []string{"should forgive", "you need to forgive", "ready to forgive", "time to forgive", "let it go", "move on now"} {
				if strings.Contains(hurt, push) {
					t.Fatalf("step %d: hurt prompt %q contains %q, want no push to forgive", s.Number, hurt, push)
				}
			}
		}
	}
}

// allTexts returns every text of p with a name for messages.
func allTexts(p *bot.Program) map[string]string {
	m := map[string]string{
		"title": p.Title, "about": p.About, "welcome": p.Welcome, "not_this": p.NotThis,
		"how_it_works": p.HowItWorks, "breaks": p.Breaks, "completion": p.Completion,
		"crisis.message": p.Crisis.Message,
	}
	for i, r := range p.Crisis.Resources {
		m[index("crisis.resources", i)+".name"] = r.Name
		m[index("crisis.resources", i)+".contact"] = r.Contact
	}
	for i, s := range p.Steps {
		f := index("steps", i)
		m[f+".title"], m[f+".summary"], m[f+".body"], m[f+".action"] = s.Title, s.Summary, s.Body, s.Action
		for j, pr := range s.Prompts {
			pf := index(f+".prompts", j)
			m[pf+".text"] = pr.Text
			for r, v := range pr.Variants {
				m[pf+"."+string(r)] = v
			}
		}
	}
	return m
}

// The engine adds its own formatting; the program is plain text.
func TestDefaultPlainText(t *testing.T) {
	for field, s := range allTexts(Default()) {
		if i := strings.IndexAny(s, "*_`<>[]{}#~|\\"); i >= 0 {
			t.Fatalf("%s: got markup character %q in %q, want plain text", field, s[i], s)
		}
		if strings.Contains(s, "\n\n\n") {
			t.Fatalf("%s: got three line breaks in a row, want paragraphs separated by one blank line", field)
		}
		for _, r := range s {
			if r > unicode.MaxASCII && unicode.Is(unicode.So, r) {
				t.Fatalf("%s: got symbol %q, want no emoji", field, r)
			}
		}
	}
}

func TestDefaultTexts(t *testing.T) {
	p := Default()
	var res strings.Builder
	for _, r := range p.Crisis.Resources {
		res.WriteString(r.Name + ": " + r.Contact + "\n")
	}
	for _, tc := range []struct {
		field string
		text  string
		want  []string
	}{
		{"about", p.About, []string{citedTitle, "Hayley Folk", "The Knot", "Ariel Landrum", "licensed marriage and family therapist", "February 2024", "our own"}},
		{"not_this", p.NotThis, []string{"not therapy", "therapist", "not all of it should be", "safety"}},
		{"how_it_works", p.HowItWorks, []string{"20:00", "/time", "/timezone", "/step", "/next", "/journal", "/progress", "/help", "/privacy", "private journal"}},
		{"breaks", p.Breaks, []string{"Infidelity", "Lying", "neglect", "inconsistency", "agreements", "respected", "not all of it should be"}},
		{"completion", p.Completion, []string{"/restart", "/journal", "keeps your journal"}},
		{"crisis.message", p.Crisis.Message, []string{"You matter", "in danger right now", "local emergency number", "alone", "Couples work is not advised while someone is unsafe"}},
		{"crisis.resources", res.String(), []string{
			"112 in the EU", "999 in the UK", "911 in the US and Canada", "000 in Australia",
			"988 Suicide & Crisis Lifeline (US): Call or text 988",
			"National Domestic Violence Hotline (US): Call 1-800-799-7233, or text START to 88788",
			"Samaritans (UK): Call 116 123",
			"National Domestic Abuse Helpline (UK): Call 0808 2000 247",
			"findahelpline.com",
		}},
	} {
		for _, w := range tc.want {
			if !strings.Contains(tc.text, w) {
				t.Fatalf("%s: got %q, want it to contain %q", tc.field, tc.text, w)
			}
		}
	}
}

// discordLimit is the most characters Discord allows in one message
// (Telegram allows 4,096).
const discordLimit = 2000

// The engine (bot/engine.go) sends some texts together in one message: the
// welcome, how it works and what this is not at /start; about, what breaks
// trust and what this is not at /about; a step with its summary and action;
// the crisis message with its resources. Each must fit one Discord message.
func TestDefaultFitsOneMessage(t *testing.T) {
	p := Default()
	msgs := map[string][]string{
		"/start":  {p.Title, p.Welcome, p.HowItWorks, p.NotThis},
		"/about":  {p.Title, p.About, p.Breaks, p.NotThis},
		"crisis":  {p.Crisis.Message},
		"the end": {"You have walked all 10 steps", p.Completion},
	}
	for _, r := range p.Crisis.Resources {
		msgs["crisis"] = append(msgs["crisis"], "- "+r.Name+": "+r.Contact)
	}
	for _, s := range p.Steps {
		msgs[s.Title] = []string{"Step 10 of 10 - " + s.Title, s.Summary, s.Body, "For today: " + s.Action}
	}
	for name, parts := range msgs {
		if n := utf8.RuneCountInString(strings.Join(parts, "\n\n")); n >= discordLimit {
			t.Fatalf("%s message: got %d characters, want under %d", name, n, discordLimit)
		}
	}
}

// words splits s into lower-case words, dropping apostrophes (so "don't" is
// one word) and treating every other non-letter, non-digit as a space.
func words(s string) []string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\'' || r == '\u2019':
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(unicode.ToLower(r))
		default:
			b.WriteByte(' ')
		}
	}
	return strings.Fields(b.String())
}

func runs(ws []string, n int) map[string]bool {
	m := map[string]bool{}
	for i := 0; i+n <= len(ws); i++ {
		m[strings.Join(ws[i:i+n], " ")] = true
	}
	return m
}

// The program takes the article's ideas, not its sentences: no run of
// copiedRun words of the article appears in default.toml, apart from the
// article's title where the about text credits it.
func TestDefaultDoesNotCopyArticle(t *testing.T) {
	article, err := os.ReadFile(articlePath)
	if os.IsNotExist(err) {
		t.Skipf("source article %s not found (it lives in shared/, beside the repository): skipping the copy check", articlePath)
	}
	if err != nil {
		t.Fatalf("reading the article: got %v, want no error", err)
	}
	src := DefaultSource()
	if !strings.Contains(string(src), citedTitle) {
		t.Fatalf("default.toml: got no citation of %q, want the about text to credit it", citedTitle)
	}
	prog := words(strings.Replace(string(src), citedTitle, " ", 1))
	art := words(string(article))

	copied := runs(art, copiedRun)
	for i := 0; i+copiedRun <= len(prog); i++ {
		if run := strings.Join(prog[i:i+copiedRun], " "); copied[run] {
			t.Fatalf("default.toml copies the article: got the run %q, want no run of %d words in common", run, copiedRun)
		}
	}
	// For the record: the longest run the two have in common.
	for n := copiedRun - 1; n > 0; n-- {
		a := runs(art, n)
		for r := range runs(prog, n) {
			if a[r] {
				t.Logf("longest run of words shared with the article: %d (e.g. %q)", n, r)
				return
			}
		}
	}
}

func TestWords(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Don't  PANIC, it's fine.", "dont panic its fine"},
		{"can\u2014or should\u2014be", "can or should be"},
		{"It\u2019s 20:00", "its 20 00"},
	} {
		if got := strings.Join(words(tc.in), " "); got != tc.want {
			t.Fatalf("words(%q): got %q, want %q", tc.in, got, tc.want)
		}
	}
}

func BenchmarkDefault(b *testing.B) {
	src := DefaultSource()
	b.ReportAllocs()
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		if _, err := Load(DefaultName, src); err != nil {
			b.Fatal(err)
		}
	}
}
