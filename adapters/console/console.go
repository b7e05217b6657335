// Package console is the terminal adapter: one person, talking to trustbot
// on stdin and stdout. It is how a newcomer tries the bot with no token, and
// the easiest end-to-end harness for the engine.
package console

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/trustbot/trustbot/bot"
)

// UserID is the id of the one person the console talks to.
const UserID = "local"

// Handler answers messages; *bot.Engine is one.
type Handler interface {
	Handle(ctx context.Context, in bot.Incoming) ([]bot.Reply, error)
}

// Console reads lines from In and writes replies to Out.
type Console struct {
	Handler Handler
	In      io.Reader
	Out     io.Writer
	// Name is how the person is greeted; empty is fine.
	Name string
	// Styled turns on ANSI bold and italics (for a terminal, not a pipe).
	Styled bool
	// Interactive prints a prompt before each line is read.
	Interactive bool
	// Echo repeats each input line as "> line", so that piped sessions read
	// as a transcript.
	Echo bool
	// DocDir is where documents (the /export file) are saved; "" is the
	// current directory.
	DocDir string
	// Log receives internal errors, never message text. Nil discards them.
	Log *slog.Logger

	mu      sync.Mutex   // guards Out and buttons: the scheduler prints too
	buttons []bot.Action // the numbered choices last shown
}

var _ bot.Sender = (*Console)(nil)

// Run handles each line of input in order until the input ends (exit 0) or
// ctx is done.
func (c *Console) Run(ctx context.Context) error {
	lines := make(chan string)
	errc := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(c.In)
		sc.Buffer(make([]byte, 64*1024), 1<<20)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
		errc <- sc.Err()
		close(lines)
	}()
	for {
		c.prompt()
		select {
		case <-ctx.Done():
			return nil
		case line, ok := <-lines:
			if !ok {
				if err := <-errc; err != nil {
					return fmt.Errorf("read input: %w", err)
				}
				return nil
			}
			if err := c.handleLine(ctx, line); err != nil {
				return err
			}
		}
	}
}

func (c *Console) prompt() {
	if c.Interactive {
		c.mu.Lock()
		fmt.Fprint(c.Out, "> ")
		c.mu.Unlock()
	}
}

func (c *Console) handleLine(ctx context.Context, line string) error {
	if c.Echo {
		c.mu.Lock()
		fmt.Fprintf(c.Out, "\n> %s\n", line)
		c.mu.Unlock()
	}
	in := bot.Incoming{Platform: bot.PlatformConsole, UserID: UserID, ChatID: UserID, Private: true, Name: c.Name, Text: line}
	// A number that matches a choice on screen presses that button.
	if n, err := strconv.Atoi(strings.TrimSpace(line)); err == nil {
		c.mu.Lock()
		if n >= 1 && n <= len(c.buttons) {
			a := c.buttons[n-1]
			in.Action, in.Text = &a, ""
		}
		c.mu.Unlock()
	}
	replies, err := c.Handler.Handle(ctx, in)
	if err != nil && c.Log != nil {
		c.Log.Error("handle message", "err", err)
	}
	return c.print(replies)
}

// Send prints replies that arrive outside a turn, such as a daily prompt.
func (c *Console) Send(ctx context.Context, to bot.Address, replies []bot.Reply) error {
	return c.print(replies)
}

func (c *Console) print(replies []bot.Reply) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var b strings.Builder
	for _, r := range replies {
		b.WriteString("\n")
		b.WriteString(c.render(r.Text))
		b.WriteString("\n")
		if len(r.Buttons) > 0 {
			c.buttons = c.buttons[:0]
			b.WriteString("\n")
			for _, row := range r.Buttons {
				for _, btn := range row {
					c.buttons = append(c.buttons, btn.Action)
					fmt.Fprintf(&b, "  [%d] %s\n", len(c.buttons), btn.Label)
				}
			}
		}
		if r.Doc != nil {
			path, err := c.saveDoc(r.Doc)
			if err != nil {
				fmt.Fprintf(&b, "\n(I could not save %s: %v)\n", r.Doc.Name, err)
			} else {
				fmt.Fprintf(&b, "\n(Saved as %s — only you can read it.)\n", path)
			}
		}
	}
	_, err := io.WriteString(c.Out, b.String())
	if err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}

func (c *Console) render(t bot.Text) string {
	var b strings.Builder
	for _, s := range t {
		switch {
		case !c.Styled || s.Style == bot.Plain:
			b.WriteString(s.Text)
		case s.Style == bot.Bold:
			b.WriteString("\x1b[1m" + s.Text + "\x1b[0m")
		case s.Style == bot.Italic:
			b.WriteString("\x1b[3m" + s.Text + "\x1b[0m")
		}
	}
	return b.String()
}

func (c *Console) saveDoc(d *bot.Document) (string, error) {
	path := filepath.Join(c.DocDir, filepath.Base(d.Name))
	if err := os.WriteFile(path, d.Data, 0o600); err != nil {
		return "", err
	}
	return path, nil
}
