package content

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzLoad checks that Load never panics, and that what it returns is either
// a program that keeps the package's promises or an error naming the file.
// Run it with: go test ./content -run=^$ -fuzz=FuzzLoad -fuzztime=20s
func FuzzLoad(f *testing.F) {
	f.Add(DefaultSource())
	f.Add([]byte(mini))
	f.Add([]byte(strings.Replace(mini, "number = 2", "number = 1", 1)))
	f.Add([]byte(strings.Replace(mini, `title = "Mini"`, `title = "Mini`, 1)))
	f.Add([]byte(strings.Replace(mini, `text = "Q3?"`, "text = \"Q3?\"\npartner = \"?\"", 1)))
	f.Add([]byte("prompts = [{text = \"a\"}, [1, {b = '''\n'''}]]\n[[steps]]\n[[steps.prompts]]\n"))
	f.Add([]byte(""))

	f.Fuzz(func(t *testing.T, data []byte) {
		locate(data) // must not panic, even on input that is not TOML

		p, err := Load("fuzz.toml", data)
		if (p == nil) == (err == nil) {
			t.Fatalf("Load: got program %v and error %v, want exactly one", p, err)
		}
		if err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				if !strings.HasPrefix(line, "fuzz.toml") {
					t.Fatalf("Load: got error line %q, want it to start with the file name", line)
				}
			}
			if e, ok := err.(*Error); ok && len(e.Problems) > MaxProblems {
				t.Fatalf("Load: got %d problems, want at most %d", len(e.Problems), MaxProblems)
			}
			return
		}
		if p.ID == "" || p.Title == "" || p.Welcome == "" || p.NotThis == "" || p.Completion == "" || p.Crisis.Message == "" {
			t.Fatalf("Load: got a program missing a required text: %+v", p)
		}
		if len(p.Steps) == 0 {
			t.Fatalf("Load: got a program with no steps, want at least one")
		}
		for i, s := range p.Steps {
			if s.Number != i+1 {
				t.Fatalf("Load: got step %d at index %d, want %d", s.Number, i, i+1)
			}
			if s.Title == "" || s.Summary == "" || s.Body == "" || s.Action == "" {
				t.Fatalf("Load: got step %d with an empty text: %+v", s.Number, s)
			}
			if n := utf8.RuneCountInString(s.Body); n >= MaxBodyRunes {
				t.Fatalf("Load: got step %d with a body of %d runes, want under %d", s.Number, n, MaxBodyRunes)
			}
			if len(s.Prompts) < MinPrompts {
				t.Fatalf("Load: got step %d with %d prompts, want at least %d", s.Number, len(s.Prompts), MinPrompts)
			}
			for _, pr := range s.Prompts {
				if pr.Text == "" {
					t.Fatalf("Load: got step %d with an empty prompt", s.Number)
				}
				for r, v := range pr.Variants {
					if !r.Valid() || v == "" {
						t.Fatalf("Load: got step %d with variant %q = %q, want a known role and a text", s.Number, r, v)
					}
				}
			}
		}
	})
}
