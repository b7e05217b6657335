// Package content loads and validates the programs trustbot walks people
// through, and embeds the default one, "Rebuilding trust" (default.toml).
//
// A program file is TOML. Its top-level keys are id, title, language,
// version, about, welcome, not_this, how_it_works, breaks and completion
// (strings); a [crisis] table with a message, [[crisis.resources]] entries
// (name, contact, and an optional kind: emergency, crisis or abuse) for
// everyone, and optional [[crisis.countries]] (code, an ISO 3166-1 alpha-2
// code in capitals, listed once; name; and [[crisis.countries.resources]],
// at least one of kind emergency); and one [[steps]] table per step,
// numbered 1..N in order, each with number, title, summary, body, action
// and at least MinPrompts [[steps.prompts]] entries (text, and the optional
// role variants repairing, hurt and together). All text is plain: no
// markdown, no HTML.
//
// Load rejects a file with every problem it finds (up to MaxProblems), one per
// line, each naming the file, the line and the field:
//
//	default.toml:42: steps[3].title: must not be empty
//
// Array indexes in field names start at 0, so steps[3] is the fourth
// [[steps]] table. When a field is missing, the line is that of the table it
// belongs in (line 1 for top-level keys).
package content

import (
	_ "embed"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/BurntSushi/toml"
	"github.com/trustbot/trustbot/bot"
)

// Limits a program must respect. Texts are counted in runes (characters),
// not bytes, after leading and trailing white space is trimmed.
const (
	// MaxBodyRunes is the limit a step's body must stay under, so that the
	// step, its title and its action fit in one chat message.
	MaxBodyRunes = 1500
	// MaxTextRunes is the limit the longer program texts (about, welcome,
	// not_this, how_it_works, breaks, completion, crisis.message) must stay
	// under. Discord allows 2,000 characters a message, Telegram 4,096.
	MaxTextRunes = 1500
	// MaxLineRunes is the limit short texts (titles, summaries, actions,
	// prompts, resource names and contacts) must stay under.
	MaxLineRunes = 300
	// MinPrompts is how many prompts each step needs at least, so daily
	// prompts vary.
	MinPrompts = 3
	// MaxProblems is how many problems an *Error lists at most.
	MaxProblems = 20
)

// DefaultName is the file name of the embedded default program, as used in
// error messages.
const DefaultName = "default.toml"

//go:embed default.toml
var defaultSource string

// DefaultSource returns a copy of the embedded default program file.
func DefaultSource() []byte { return []byte(defaultSource) }

var defaultProgram = sync.OnceValue(func() *bot.Program {
	p, err := Load(DefaultName, []byte(defaultSource))
	if err != nil {
		panic("content: the embedded " + DefaultName + " is invalid:\n" + err.Error())
	}
	return p
})

// Default returns the embedded "Rebuilding trust" program, ten steps long.
// It is parsed once, on first use; every call returns the same *bot.Program,
// which callers must not modify. It panics only if the embedded file is
// invalid, which the package's tests rule out.
func Default() *bot.Program { return defaultProgram() }

// LoadFile reads and validates the program file at path. Problems are
// reported against path as given.
func LoadFile(path string) (*bot.Program, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("content: %w", err)
	}
	return Load(path, data)
}

// Load parses and validates a program file. name is the file's name, used in
// error messages. On failure the error is an *Error listing the problems.
func Load(name string, data []byte) (*bot.Program, error) {
	var raw map[string]any
	if _, err := toml.Decode(string(data), &raw); err != nil {
		return nil, syntaxError(name, err)
	}
	c := checker{file: name, pos: locate(data)}
	p := c.program(raw)
	if len(c.problems) > 0 {
		return nil, newError(name, c.problems)
	}
	return p, nil
}

// syntaxError turns a TOML decoding error into an *Error.
func syntaxError(name string, err error) error {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		msg := "syntax error: " + pe.Message
		if pe.LastKey != "" {
			msg += " (after key " + strconv.Quote(pe.LastKey) + ")"
		}
		return newError(name, []Problem{{File: name, Line: pe.Position.Line, Msg: msg}})
	}
	// Decoding into a map[string]any fails only on syntax; keep anything
	// else readable all the same.
	return newError(name, []Problem{{File: name, Msg: err.Error()}})
}

// Problem is one thing wrong with a program file.
type Problem struct {
	File  string
	Line  int    // 1-based; 0 if unknown
	Field string // e.g. "steps[3].title"; empty for syntax errors
	Msg   string
}

// String formats the problem as "file:line: field: message".
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(p.Line))
	}
	b.WriteString(": ")
	if p.Field != "" {
		b.WriteString(p.Field)
		b.WriteString(": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Error is the error Load returns for an invalid program file: its problems
// in file order, at most MaxProblems of them.
type Error struct {
	File     string
	Problems []Problem
	Omitted  int // problems found beyond MaxProblems
}

func newError(file string, problems []Problem) *Error {
	e := &Error{File: file, Problems: problems}
	if len(problems) > MaxProblems {
		e.Problems = problems[:MaxProblems:MaxProblems]
		e.Omitted = len(problems) - MaxProblems
	}
	return e
}

// Error lists the problems, one per line.
func (e *Error) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(p.String())
	}
	if e.Omitted > 0 {
		fmt.Fprintf(&b, "\n%s: and %d more %s", e.File, e.Omitted, plural(e.Omitted, "problem"))
	}
	return b.String()
}
