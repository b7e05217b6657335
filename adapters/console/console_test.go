package console_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trustbot/trustbot/adapters/console"
	"github.com/trustbot/trustbot/bot"
)

// handler records what it is given and answers each line with answer.
type handler struct {
	got    []bot.Incoming
	answer func(in bot.Incoming) []bot.Reply
}

func (h *handler) Handle(ctx context.Context, in bot.Incoming) ([]bot.Reply, error) {
	h.got = append(h.got, in)
	if h.answer == nil {
		return nil, nil
	}
	return h.answer(in), nil
}

var (
	next   = bot.Action{Kind: bot.ActNext}
	role   = bot.Action{Kind: bot.ActRole, Arg: string(bot.RoleHurt)}
	pause  = bot.Action{Kind: bot.ActPause}
	choice = bot.Reply{
		Text: bot.Text{{Text: "Choose."}},
		Buttons: [][]bot.Button{
			{{Label: "Next", Action: next}, {Label: "Partner", Action: role}},
			{{Label: "Pause", Action: pause}},
		},
	}
)

// TestNumberPressesButton: a line that is the number of a choice on screen
// presses that button; anything else is sent as text.
func TestNumberPressesButton(t *testing.T) {
	tests := []struct {
		name   string
		shown  bool // "show" answers with the three buttons first
		line   string
		action *bot.Action
	}{
		{"first", true, "1", &next},
		{"second, same row", true, "2", &role},
		{"next row", true, "3", &pause},
		{"spaces around", true, "  3 ", &pause},
		{"zero", true, "0", nil},
		{"past the last", true, "4", nil},
		{"negative", true, "-1", nil},
		{"not an integer", true, "1.5", nil},
		{"words", true, "one", nil},
		{"no buttons shown", false, "1", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &handler{answer: func(in bot.Incoming) []bot.Reply {
				if in.Text == "show" {
					return []bot.Reply{choice}
				}
				return nil
			}}
			first := "hello"
			if tt.shown {
				first = "show"
			}
			var out bytes.Buffer
			c := &console.Console{Handler: h, In: strings.NewReader(first + "\n" + tt.line + "\n"), Out: &out, Name: "Ada"}
			if err := c.Run(context.Background()); err != nil {
				t.Fatalf("Run: %v", err)
			}
			if len(h.got) != 2 {
				t.Fatalf("handled %d lines, want 2", len(h.got))
			}
			in := h.got[1]
			want := bot.Incoming{Platform: bot.PlatformConsole, UserID: console.UserID, ChatID: console.UserID, Private: true, Name: "Ada", Text: tt.line}
			if tt.action != nil {
				want.Text = ""
			}
			gotAction := in.Action
			in.Action = nil
			if in != want {
				t.Errorf("incoming = %+v, want %+v", in, want)
			}
			switch {
			case tt.action == nil && gotAction != nil:
				t.Errorf("line %q pressed %v, want no button", tt.line, *gotAction)
			case tt.action != nil && (gotAction == nil || *gotAction != *tt.action):
				t.Errorf("line %q pressed %v, want %v", tt.line, gotAction, *tt.action)
			}
		})
	}
}

// TestSendPrints: replies sent outside a turn (a daily prompt) are printed
// with their numbered buttons, styled only when asked, and the number then
// presses the button.
func TestSendPrints(t *testing.T) {
	reply := bot.Reply{
		Text:    bot.Text{{Text: "Good evening. "}, {Text: "Step 2", Style: bot.Bold}, {Text: " is ", Style: bot.Plain}, {Text: "waiting", Style: bot.Italic}, {Text: "."}},
		Buttons: [][]bot.Button{{{Label: "Write", Action: bot.Action{Kind: bot.ActReflect}}}, {{Label: "Pause", Action: pause}}},
	}
	tests := []struct {
		name   string
		styled bool
		want   string
	}{
		{"plain", false, "\nGood evening. Step 2 is waiting.\n\n  [1] Write\n  [2] Pause\n"},
		{"styled", true, "\nGood evening. \x1b[1mStep 2\x1b[0m is \x1b[3mwaiting\x1b[0m.\n\n  [1] Write\n  [2] Pause\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			h := &handler{}
			c := &console.Console{Handler: h, In: strings.NewReader("2\n"), Out: &out, Styled: tt.styled}
			if err := c.Send(context.Background(), bot.Address{Platform: bot.PlatformConsole, UserID: console.UserID}, []bot.Reply{reply}); err != nil {
				t.Fatalf("Send: %v", err)
			}
			if got := out.String(); got != tt.want {
				t.Errorf("Send printed %q, want %q", got, tt.want)
			}
			if err := c.Run(context.Background()); err != nil {
				t.Fatalf("Run: %v", err)
			}
			if len(h.got) != 1 || h.got[0].Action == nil || *h.got[0].Action != pause {
				t.Errorf("after Send, \"2\" gave %+v, want the Pause button pressed", h.got)
			}
		})
	}
}

// TestDocumentSaved: a document is saved under DocDir by its base name
// only, readable by the owner alone; a failure is told, not fatal.
func TestDocumentSaved(t *testing.T) {
	data := []byte(`{"journal":["private words"]}`)
	dir := t.TempDir()
	notDir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notDir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		docDir string
		doc    string
		saved  string // "" if it cannot be saved
	}{
		{"plain name", dir, "trustbot-export.json", filepath.Join(dir, "trustbot-export.json")},
		{"a path is cut to its base", dir, "../../etc/evil.json", filepath.Join(dir, "evil.json")},
		{"DocDir is a file", notDir, "trustbot-export.json", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			c := &console.Console{Handler: &handler{}, Out: &out, DocDir: tt.docDir}
			reply := bot.Reply{Text: bot.Text{{Text: "Your export."}}, Doc: &bot.Document{Name: tt.doc, MIME: "application/json", Data: data}}
			if err := c.Send(context.Background(), bot.Address{}, []bot.Reply{reply}); err != nil {
				t.Fatalf("Send: %v", err)
			}
			if tt.saved == "" {
				if want := "(I could not save " + tt.doc + ": "; !strings.Contains(out.String(), want) {
					t.Errorf("printed %q, want it to contain %q", out.String(), want)
				}
				return
			}
			if want := "\nYour export.\n\n(Saved as " + tt.saved + " — only you can read it.)\n"; out.String() != want {
				t.Errorf("printed %q, want %q", out.String(), want)
			}
			fi, err := os.Stat(tt.saved)
			if err != nil {
				t.Fatalf("the document was not saved: %v", err)
			}
			if got := fi.Mode().Perm(); got != 0o600 {
				t.Errorf("mode = %v, want -rw------- (0600)", got)
			}
			if got, err := os.ReadFile(tt.saved); err != nil || !bytes.Equal(got, data) {
				t.Errorf("saved %q (%v), want %q", got, err, data)
			}
		})
	}
}
