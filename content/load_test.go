package content

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trustbot/trustbot/bot"
)

// mini is a small valid program with two steps. The line numbers in the
// tests below refer to it.
const mini = `id = "mini"
title = "Mini"
welcome = "Hello."
not_this = "Not therapy."
completion = "Done."

[crisis]
message = "You matter."

[[crisis.resources]]
name = "Emergency services"
contact = "112"

[[steps]]
number = 1
title = "One"
summary = "First."
body = "Body one."
action = "Do one thing."
[[steps.prompts]]
text = "Q1?"
hurt = "Q1, worded for the hurt partner?"
[[steps.prompts]]
text = "Q2?"
[[steps.prompts]]
text = "Q3?"

[[steps]]
number = 2
title = "Two"
summary = "Second."
body = """
Body two.

Second paragraph."""
action = "Do another thing."
[[steps.prompts]]
text = "Q4?"
[[steps.prompts]]
text = "Q5?"
[[steps.prompts]]
text = "Q6?"
`

// edit returns mini with old replaced by new, failing if old is absent.
func edit(t *testing.T, old, new string) string {
	t.Helper()
	if !strings.Contains(mini, old) {
		t.Fatalf("test setup: mini does not contain %q", old)
	}
	return strings.Replace(mini, old, new, 1)
}

func TestLoadMini(t *testing.T) {
	p, err := Load("mini.toml", []byte(mini))
	if err != nil {
		t.Fatalf("Load(mini): got error %v, want none", err)
	}
	want := &bot.Program{ID: "mini", Title: "Mini", Welcome: "Hello.", NotThis: "Not therapy.", Completion: "Done."}
	if p.ID != want.ID || p.Title != want.Title || p.Welcome != want.Welcome || p.NotThis != want.NotThis || p.Completion != want.Completion {
		t.Fatalf("Load(mini): got %+v, want %+v", p, want)
	}
	if len(p.Steps) != 2 || p.Steps[1].Number != 2 || p.Steps[1].Body != "Body two.\n\nSecond paragraph." {
		t.Fatalf("Load(mini) steps: got %+v, want two steps, the second with a two-paragraph body", p.Steps)
	}
	pr := p.Steps[0].Prompts[0]
	if pr.For(bot.RoleHurt) != "Q1, worded for the hurt partner?" || pr.For(bot.RoleRepairing) != "Q1?" {
		t.Fatalf("prompt variants: got %v, want a hurt variant only", pr.Variants)
	}
	if p.Steps[0].Prompts[1].Variants != nil {
		t.Fatalf("prompt without variants: got %v, want nil", p.Steps[0].Prompts[1].Variants)
	}
	if len(p.Crisis.Resources) != 1 || p.Crisis.Resources[0] != (bot.Resource{Name: "Emergency services", Contact: "112"}) {
		t.Fatalf("crisis resources: got %v, want the one in mini", p.Crisis.Resources)
	}
}

func TestLoadErrors(t *testing.T) {
	long := strings.Repeat("a", MaxBodyRunes)
	for _, tc := range []struct {
		name string
		src  string
		want []string // each must be a line of the error
	}{
		{"syntax error", edit(t, `title = "Mini"`, `title = "Mini`),
			[]string{`mini.toml:2: syntax error: strings cannot contain newlines (after key "title")`}},
		{"duplicate key", edit(t, `completion = "Done."`, "completion = \"Done.\"\ntitle = \"Again\""),
			[]string{`mini.toml:6: syntax error: Key 'title' has already been defined. (after key "title")`}},
		{"unknown top-level key", edit(t, "\n[crisis]", "colour = \"blue\"\n[crisis]"),
			[]string{"mini.toml:6: colour: unknown key"}},
		{"key in the wrong case", edit(t, `title = "Mini"`, `Title = "Mini"`),
			[]string{"mini.toml:1: title: is required", `mini.toml:2: Title: unknown key; did you mean "title"?`}},
		{"dash for underscore", edit(t, "not_this", "not-this"),
			[]string{"mini.toml:1: not_this: is required", `mini.toml:4: not-this: unknown key; did you mean "not_this"?`}},
		{"missing id", edit(t, "id = \"mini\"\n", ""),
			[]string{"mini.toml:1: id: is required"}},
		{"bad id", edit(t, `id = "mini"`, `id = "mini program"`),
			[]string{"mini.toml:1: id: must contain only letters, digits, '-', '_' and '.'"}},
		{"empty title", edit(t, `title = "Mini"`, `title = "  "`),
			[]string{"mini.toml:2: title: must not be empty"}},
		{"title not a string", edit(t, `title = "Mini"`, `title = 3`),
			[]string{"mini.toml:2: title: must be a string, not an integer"}},
		{"missing welcome", edit(t, "welcome = \"Hello.\"\n", ""),
			[]string{"mini.toml:1: welcome: is required"}},
		{"missing completion", edit(t, "completion = \"Done.\"\n", ""),
			[]string{"mini.toml:1: completion: is required"}},
		{"missing crisis", edit(t, "[crisis]\nmessage = \"You matter.\"\n\n[[crisis.resources]]\nname = \"Emergency services\"\ncontact = \"112\"\n", ""),
			[]string{"mini.toml:1: crisis: is required: a [crisis] table with a message"}},
		{"missing crisis message", edit(t, "message = \"You matter.\"\n", ""),
			[]string{"mini.toml:7: crisis.message: is required"}},
		{"crisis not a table", edit(t, "[crisis]\nmessage = \"You matter.\"\n\n[[crisis.resources]]\nname = \"Emergency services\"\ncontact = \"112\"\n", "crisis = \"help\"\n"),
			[]string{"mini.toml:7: crisis: must be a table ([crisis]), not a string"}},
		{"resource without contact", edit(t, "contact = \"112\"\n", ""),
			[]string{"mini.toml:10: crisis.resources[0].contact: is required"}},
		{"unknown key in crisis", edit(t, `message = "You matter."`, "message = \"You matter.\"\nphone = \"112\""),
			[]string{"mini.toml:9: crisis.phone: unknown key"}},
		{"no steps", mini[:strings.Index(mini, "[[steps]]")],
			[]string{"mini.toml:1: steps: at least one step is required: add a [[steps]] table"}},
		{"empty steps array", "steps = []\n" + mini[:strings.Index(mini, "[[steps]]")],
			[]string{"mini.toml:1: steps: at least one step is required: add a [[steps]] table"}},
		{"steps not tables", "steps = \"ten\"\n" + mini[:strings.Index(mini, "[[steps]]")],
			[]string{"mini.toml:1: steps: must be an array of tables ([[steps]]), not a string"}},
		{"empty step title", edit(t, `title = "One"`, `title = ""`),
			[]string{"mini.toml:16: steps[0].title: must not be empty"}},
		{"missing step summary", edit(t, "summary = \"Second.\"\n", ""),
			[]string{"mini.toml:28: steps[1].summary: is required"}},
		{"summary on two lines", edit(t, `summary = "First."`, `summary = "First.\nSecond line."`),
			[]string{"mini.toml:17: steps[0].summary: must be a single line"}},
		{"empty body", edit(t, `body = "Body one."`, `body = """ """`),
			[]string{"mini.toml:18: steps[0].body: must not be empty"}},
		{"empty action", edit(t, `action = "Do another thing."`, `action = ""`),
			[]string{"mini.toml:36: steps[1].action: must not be empty"}},
		{"body too long", edit(t, `body = "Body one."`, `body = "`+long+`"`),
			[]string{"mini.toml:18: steps[0].body: must be under 1500 characters, has 1500"}},
		{"body too long in runes", edit(t, `body = "Body one."`, `body = "`+strings.Repeat("é", MaxBodyRunes+1)+`"`),
			[]string{"mini.toml:18: steps[0].body: must be under 1500 characters, has 1501"}},
		{"missing step number", edit(t, "number = 2\n", ""),
			[]string{"mini.toml:28: steps[1].number: is required (this step would be number 2)"}},
		{"step number not an integer", edit(t, "number = 2", `number = "2"`),
			[]string{"mini.toml:29: steps[1].number: must be an integer, not a string"}},
		{"duplicate step number", edit(t, "number = 2", "number = 1"),
			[]string{"mini.toml:29: steps[1].number: duplicate step number 1 (also steps[0])"}},
		{"gap in step numbers", edit(t, "number = 2", "number = 3"),
			[]string{"mini.toml:29: steps[1].number: is 3, want 2: steps must be numbered 1, 2, 3... in order, with no gaps"}},
		{"steps start at 0", edit(t, "number = 1", "number = 0"),
			[]string{"mini.toml:15: steps[0].number: is 0, want 1: steps must be numbered 1, 2, 3... in order, with no gaps"}},
		{"unknown step key", edit(t, `title = "Two"`, "title = \"Two\"\nsubtitle = \"Also two\""),
			[]string{"mini.toml:31: steps[1].subtitle: unknown key"}},
		{"too few prompts", edit(t, "[[steps.prompts]]\ntext = \"Q6?\"\n", ""),
			[]string{"mini.toml:37: steps[1].prompts: has 2 prompts, want at least 3"}},
		{"no prompts", mini[:strings.Index(mini, "[[steps.prompts]]\ntext = \"Q4?\"")],
			[]string{"mini.toml:28: steps[1].prompts: has 0 prompts, want at least 3: add [[steps.prompts]] tables to this step"}},
		{"prompts as strings", edit(t, "[[steps.prompts]]\ntext = \"Q4?\"\n[[steps.prompts]]\ntext = \"Q5?\"\n[[steps.prompts]]\ntext = \"Q6?\"\n", "prompts = [\"Q4?\", \"Q5?\", \"Q6?\"]\n"),
			[]string{"mini.toml:37: steps[1].prompts[0]: must be a table, not a string"}},
		{"empty prompt text", edit(t, `text = "Q5?"`, `text = ""`),
			[]string{"mini.toml:40: steps[1].prompts[1].text: must not be empty"}},
		{"missing prompt text", edit(t, "text = \"Q2?\"\n", ""),
			[]string{"mini.toml:23: steps[0].prompts[1].text: is required"}},
		{"unknown role variant", edit(t, `text = "Q3?"`, "text = \"Q3?\"\npartner = \"Q3 for the partner?\""),
			[]string{"mini.toml:27: steps[0].prompts[2].partner: unknown key (a prompt has text and the role variants repairing, hurt and together)"}},
		{"role variant in the wrong case", edit(t, `hurt = "Q1`, `Hurt = "Q1`),
			[]string{`mini.toml:22: steps[0].prompts[0].Hurt: unknown key; did you mean "hurt"? (a prompt has text and the role variants repairing, hurt and together)`}},
		{"empty role variant", edit(t, `hurt = "Q1, worded for the hurt partner?"`, `hurt = ""`),
			[]string{"mini.toml:22: steps[0].prompts[0].hurt: must not be empty (leave it out to use text)"}},
		{"role variant not a string", edit(t, `hurt = "Q1, worded for the hurt partner?"`, `hurt = true`),
			[]string{"mini.toml:22: steps[0].prompts[0].hurt: must be a string, not a boolean"}},
		{"inline prompt tables", edit(t, "[[steps.prompts]]\ntext = \"Q4?\"\n[[steps.prompts]]\ntext = \"Q5?\"\n[[steps.prompts]]\ntext = \"Q6?\"\n",
			"prompts = [\n  {text = \"Q4?\"},\n  {text = \"\"},\n  {text = \"Q6?\", others = \"x\"},\n]\n"),
			[]string{
				"mini.toml:39: steps[1].prompts[1].text: must not be empty",
				"mini.toml:40: steps[1].prompts[2].others: unknown key (a prompt has text and the role variants repairing, hurt and together)",
			}},
		{"several problems", edit(t, "id = \"mini\"\ntitle = \"Mini\"", "title = \"\"\nextra = 1"),
			[]string{"mini.toml:1: id: is required", "mini.toml:1: title: must not be empty", "mini.toml:2: extra: unknown key"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Load("mini.toml", []byte(tc.src))
			if err == nil {
				t.Fatalf("Load: got program %q and no error, want %q", p.ID, tc.want)
			}
			if p != nil {
				t.Fatalf("Load: got a program along with the error, want nil")
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Load: got error of type %T, want *Error", err)
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tc.want) {
				t.Fatalf("Load: got %d problems:\n%v\nwant %d:\n%s", len(lines), err, len(tc.want), strings.Join(tc.want, "\n"))
			}
			for i, w := range tc.want {
				if lines[i] != w {
					t.Fatalf("Load: got problem %q, want %q", lines[i], w)
				}
			}
		})
	}
}

func TestLoadErrorCap(t *testing.T) {
	var b strings.Builder
	for i := range MaxProblems + 5 {
		b.WriteString("extra" + string(rune('a'+i)) + " = 1\n")
	}
	_, err := Load("mini.toml", []byte(b.String()+mini))
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("Load: got %v, want an *Error", err)
	}
	if len(e.Problems) != MaxProblems || e.Omitted != 5 {
		t.Fatalf("Load: got %d problems and %d omitted, want %d and 5", len(e.Problems), e.Omitted, MaxProblems)
	}
	lines := strings.Split(err.Error(), "\n")
	if got, want := lines[len(lines)-1], "mini.toml: and 5 more problems"; got != want {
		t.Fatalf("last line: got %q, want %q", got, want)
	}
	if got, want := lines[0], "mini.toml:1: extraa: unknown key"; got != want {
		t.Fatalf("first line: got %q, want %q", got, want)
	}
}

func TestLoadFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.toml")
	bad := filepath.Join(dir, "bad.toml")
	if err := os.WriteFile(good, []byte(mini), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte(strings.Replace(mini, `title = "One"`, `title = ""`, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if p, err := LoadFile(good); err != nil || p.ID != "mini" {
		t.Fatalf("LoadFile(good): got %v, %v, want the mini program", p, err)
	}
	if _, err := LoadFile(bad); err == nil || err.Error() != bad+":16: steps[0].title: must not be empty" {
		t.Fatalf("LoadFile(bad): got %v, want %s:16: steps[0].title: must not be empty", err, bad)
	}
	_, err := LoadFile(filepath.Join(dir, "missing.toml"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("LoadFile(missing): got %v, want an error wrapping os.ErrNotExist", err)
	}
}

// Windows line endings are accepted and normalized.
func TestLoadCRLF(t *testing.T) {
	p, err := Load("mini.toml", []byte(strings.ReplaceAll(mini, "\n", "\r\n")))
	if err != nil {
		t.Fatalf("Load(CRLF): got %v, want no error", err)
	}
	if got, want := p.Steps[1].Body, "Body two.\n\nSecond paragraph."; got != want {
		t.Fatalf("body: got %q, want %q", got, want)
	}
}

func TestLocate(t *testing.T) {
	src := `# a comment with [[steps]] in it
id = "x" # trailing [[comment]]
text = """
[[steps]]
title = "not a key"
"""
literal = '''
[[steps]]'''
[crisis]
message = 'a'
[[crisis.resources]]
name = "n"
[[crisis.resources]]
  name = "m"
[[steps]]
"quoted key" = 1
dotted.key = 2
[[steps.prompts]]
text = "a\"b"
[[steps]]
[[steps.prompts]]
[[steps.prompts]]
text = "c"
inline = [1, [2, 3], {a = 4,
  b = 5}]
`
	want := map[string]int{
		"id": 2, "text": 3, "literal": 7,
		"crisis": 9, "crisis.message": 10,
		"crisis.resources[0]": 11, "crisis.resources[0].name": 12,
		"crisis.resources[1]": 13, "crisis.resources[1].name": 14,
		"steps[0]": 15, `steps[0]."quoted key"`: 16, "steps[0].dotted.key": 17,
		"steps[0].prompts[0]": 18, "steps[0].prompts[0].text": 19,
		"steps[1]": 20, "steps[1].prompts[0]": 21, "steps[1].prompts[1]": 22,
		"steps[1].prompts[1].text":        23,
		"steps[1].prompts[1].inline":      24,
		"steps[1].prompts[1].inline[2]":   24,
		"steps[1].prompts[1].inline[2].b": 25,
	}
	got := locate([]byte(src))
	for field, line := range want {
		if got[field] != line {
			t.Fatalf("locate: %s: got line %d, want %d (all: %v)", field, got[field], line, got)
		}
	}
	if _, ok := got["title"]; ok {
		t.Fatalf("locate: got a key from inside a multi-line string, want none")
	}
	for _, tc := range []struct {
		field string
		want  int
	}{
		{"steps[1].prompts[0].text", 21}, // missing: its table's line
		{"steps[1].title", 20},
		{"steps[7].title", 15}, // no such step: the array's first table
		{"welcome", 1},
	} {
		if line := got.line(tc.field); line != tc.want {
			t.Fatalf("line(%q): got %d, want %d", tc.field, line, tc.want)
		}
	}
}
