package storage

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/trustbot/trustbot/bot"
)

// mustKey returns a key made of the byte b repeated, so tests are repeatable.
func mustKey(tb testing.TB, b byte) *Key {
	tb.Helper()
	k, err := NewKey(bytes.Repeat([]byte{b}, KeySize))
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// mustOpenWith opens the store at path with o and closes it when the test ends.
func mustOpenWith(tb testing.TB, path string, o Options) *Store {
	tb.Helper()
	s, err := OpenWith(path, o)
	if err != nil {
		tb.Fatalf("open with key: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("close: %v", err)
		}
	})
	return s
}

// raw reads one stored value as it is in the file.
func raw(tb testing.TB, s *Store, query string, args ...any) string {
	tb.Helper()
	var v string
	if err := s.r.QueryRow(query, args...).Scan(&v); err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
	return v
}

// fill writes a person and n reflections on s, and returns the person.
func fill(tb testing.TB, s *Store, platformID string, n int) *bot.User {
	tb.Helper()
	u := mustUser(tb, s, platformID)
	for i := range n {
		r := &bot.Reflection{UserID: u.ID, Step: 1, Prompt: "What happened?", Text: fmt.Sprintf("entry %d of %s", i, platformID)}
		if err := s.AddReflection(context.Background(), r); err != nil {
			tb.Fatalf("add reflection: %v", err)
		}
	}
	return u
}

func TestSeal_roundTrip(t *testing.T) {
	ctx := context.Background()
	k := mustKey(t, 1)
	s := mustOpenWith(t, filepath.Join(t.TempDir(), "trustbot.db"), Options{Key: k})
	u := mustUser(t, s, "7") // named "Sam 7"
	const text = "I found the messages. Ünïcode too: 信頼"
	for range 2 {
		if err := s.AddReflection(ctx, &bot.Reflection{UserID: u.ID, Step: 2, Prompt: "What happened?", Text: text}); err != nil {
			t.Fatal(err)
		}
	}

	rs, total, err := s.Reflections(ctx, u.ID, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if total != 2 || len(rs) != 2 {
		t.Fatalf("got %d reflections (total %d), want 2", len(rs), total)
	}
	for _, r := range rs {
		if r.Text != text || r.Prompt != "What happened?" || r.Step != 2 {
			t.Fatalf("read back %+v, want text %q and prompt %q on step 2", r, text, "What happened?")
		}
	}
	got, err := s.User(ctx, bot.PlatformTelegram, "7")
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "Sam 7" {
		t.Fatalf("name = %q, want %q", got.Name, "Sam 7")
	}

	// On disk: sealed with k, nothing readable, a fresh nonce per value.
	t1 := raw(t, s, "SELECT text FROM reflections ORDER BY id LIMIT 1")
	t2 := raw(t, s, "SELECT text FROM reflections ORDER BY id DESC LIMIT 1")
	stored := []string{t1, t2,
		raw(t, s, "SELECT prompt FROM reflections LIMIT 1"),
		raw(t, s, "SELECT name FROM users"),
	}
	for _, v := range stored {
		if !sealedWith(v, k) {
			t.Errorf("stored value %q is not sealed with key %s", v, k.ID())
		}
		for _, plain := range []string{"messages", "What happened", "Sam"} {
			if strings.Contains(v, plain) {
				t.Errorf("stored value %q contains %q", v, plain)
			}
		}
	}
	if t1 == t2 {
		t.Errorf("two equal texts were sealed alike (%q): the nonce must differ", t1)
	}
	if id := k.ID(); len(id) != keyIDLen || strings.Trim(id, "0123456789abcdef") != "" {
		t.Errorf("key id %q: want %d hex digits", id, keyIDLen)
	}
}

// A sealed value moved to another row or column, or altered, is an error,
// never text.
func TestSeal_boundToItsRow(t *testing.T) {
	ctx := context.Background()
	k := mustKey(t, 1)
	// Each statement takes a's id as ?1 and b's as ?2.
	tests := []struct {
		name string
		sql  string
		read func(s *Store, a, b *bot.User) error
	}{
		{"TextToAnotherPerson", `UPDATE reflections SET text = (SELECT text FROM reflections WHERE user_id = ?1) WHERE user_id = ?2`,
			func(s *Store, a, b *bot.User) error { _, _, err := s.Reflections(ctx, b.ID, 0, 0); return err }},
		{"TextToPrompt", `UPDATE reflections SET prompt = text WHERE user_id = ?1 AND ?2 > 0`,
			func(s *Store, a, b *bot.User) error { _, _, err := s.Reflections(ctx, a.ID, 0, 0); return err }},
		{"NameToAnotherPerson", `UPDATE users SET name = (SELECT name FROM users WHERE id = ?1) WHERE id = ?2`,
			func(s *Store, a, b *bot.User) error { _, err := s.User(ctx, b.Platform, b.PlatformID); return err }},
		{"Altered", `UPDATE reflections SET text = substr(text, 1, length(text) - 2) || 'AA' WHERE user_id = ?1 AND ?2 > 0`,
			func(s *Store, a, b *bot.User) error { _, _, err := s.Reflections(ctx, a.ID, 0, 0); return err }},
		{"Truncated", `UPDATE reflections SET text = substr(text, 1, 20) WHERE user_id = ?1 AND ?2 > 0`,
			func(s *Store, a, b *bot.User) error { _, _, err := s.Reflections(ctx, a.ID, 0, 0); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustOpenWith(t, filepath.Join(t.TempDir(), "trustbot.db"), Options{Key: k})
			a, b := fill(t, s, "1", 1), fill(t, s, "2", 1)
			if _, err := s.w.Exec(tt.sql, a.ID, b.ID); err != nil {
				t.Fatal(err)
			}
			err := tt.read(s, a, b)
			if err == nil {
				t.Fatal("read a moved or altered sealed value without an error")
			}
			if strings.Contains(err.Error(), "entry") || strings.Contains(err.Error(), "Sam") {
				t.Fatalf("the error shows content: %v", err)
			}
		})
	}
}

func TestOpenWith_keys(t *testing.T) {
	a, b := mustKey(t, 1), mustKey(t, 2)
	dir := t.TempDir()
	sealed := filepath.Join(dir, "sealed.db")
	s, err := OpenWith(sealed, Options{Key: a})
	if err != nil {
		t.Fatal(err)
	}
	fill(t, s, "1", 3)
	s.Close()
	plain := filepath.Join(dir, "plain.db")
	s, err = Open(plain)
	if err != nil {
		t.Fatal(err)
	}
	fill(t, s, "1", 3)
	s.Close()

	tests := []struct {
		name    string
		path    string
		o       Options
		wantErr []string // all in the error; nil: opens
		plain   int
	}{
		{"SealedNoKey", sealed, Options{}, []string{"sealed with encryption key " + a.ID(), "no key is configured", "encryption_key_file"}, 0},
		{"SealedWrongKey", sealed, Options{Key: b}, []string{"sealed with encryption key " + a.ID(), "the configured key is " + b.ID(), "rekey"}, 0},
		{"SealedRightKey", sealed, Options{Key: a}, nil, 0},
		{"SealedOldKey", sealed, Options{Key: b, OldKeys: []*Key{a}}, nil, 0},
		{"PlainNoKey", plain, Options{}, nil, 7}, // 3 texts, 3 prompts, a name
		{"PlainWithKey", plain, Options{Key: a}, nil, 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := OpenWith(tt.path, tt.o)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("open: %v", err)
				}
				defer s.Close()
				rs, _, err := s.Reflections(context.Background(), 1, 0, 0)
				if err != nil || len(rs) != 3 || !strings.HasPrefix(rs[0].Text, "entry ") {
					t.Fatalf("reflections = %+v, %v; want 3 readable entries", rs, err)
				}
				if s.Plaintext() != tt.plain {
					t.Fatalf("Plaintext() = %d, want %d", s.Plaintext(), tt.plain)
				}
				return
			}
			if err == nil {
				s.Close()
				t.Fatal("opened a database sealed with another key")
			}
			var ke *KeyError
			if !errors.As(err, &ke) {
				t.Fatalf("error %v (%T) is not a *KeyError", err, err)
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Fatalf("error %q lacks %q", err, want)
				}
			}
		})
	}
}

// Text in the clear is stored as valid UTF-8, so that it can never start
// with the 0xFF that marks a sealed value.
func TestSeal_plainNeverLooksSealed(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "trustbot.db")
	s := MustOpenPath(t, path)
	u := mustUser(t, s, "1")
	tricky := []string{"\xffv1.0123abcd.AAAA", "\xff", "ok \xfe\xff bytes", "plain"}
	for _, text := range tricky {
		if err := s.AddReflection(ctx, &bot.Reflection{UserID: u.ID, Step: 1, Text: text}); err != nil {
			t.Fatal(err)
		}
	}
	rs, _, err := s.Reflections(ctx, u.ID, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rs {
		want := strings.ToValidUTF8(tricky[len(tricky)-1-i], "\uFFFD")
		if r.Text != want || !utf8.ValidString(r.Text) {
			t.Errorf("reflection %d = %q, want %q", i, r.Text, want)
		}
	}
	// And a key can be added: nothing in the file looks sealed.
	s2, err := OpenWith(path, Options{Key: mustKey(t, 1)})
	if err != nil {
		t.Fatalf("open with a key: %v", err)
	}
	s2.Close()
}

func TestRekey(t *testing.T) {
	ctx := context.Background()
	a, b := mustKey(t, 1), mustKey(t, 2)
	path := filepath.Join(t.TempDir(), "trustbot.db")

	// A database in the clear, 2 people and 7 reflections.
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	fill(t, s, "1", 4)
	fill(t, s, "2", 3)
	s.Close()

	steps := []struct {
		name        string
		o           Options
		reflections int
		names       int
	}{
		{"PlainToA", Options{Key: a}, 7, 2},
		{"AAgain", Options{Key: a}, 0, 0}, // nothing left to do
		{"AToB", Options{Key: b, OldKeys: []*Key{a}}, 7, 2},
	}
	for _, st := range steps {
		s, err := OpenWith(path, st.o)
		if err != nil {
			t.Fatalf("%s: open: %v", st.name, err)
		}
		res, err := s.Rekey(ctx, 3) // batches of 3: several per table
		s.Close()
		if err != nil {
			t.Fatalf("%s: rekey: %v", st.name, err)
		}
		if res.Reflections != st.reflections || res.Names != st.names {
			t.Fatalf("%s: rekey changed %d reflections and %d names, want %d and %d", st.name, res.Reflections, res.Names, st.reflections, st.names)
		}
	}

	// Only b opens it now, and everything reads as it was written.
	if _, err := OpenWith(path, Options{Key: a}); err == nil {
		t.Fatal("the old key still opens the database after the rekey")
	}
	s = mustOpenWith(t, path, Options{Key: b})
	if s.Plaintext() != 0 {
		t.Fatalf("Plaintext() = %d after the rekey, want 0", s.Plaintext())
	}
	for _, pid := range []string{"1", "2"} {
		u, err := s.User(ctx, bot.PlatformTelegram, pid)
		if err != nil || u.Name != "Sam "+pid {
			t.Fatalf("user %s = %+v, %v; want named %q", pid, u, err, "Sam "+pid)
		}
		rs, _, err := s.Reflections(ctx, u.ID, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range rs {
			if want := fmt.Sprintf("entry %d of %s", len(rs)-1-i, pid); r.Text != want || r.Prompt != "What happened?" {
				t.Fatalf("reflection = %q / %q, want %q / %q", r.Text, r.Prompt, want, "What happened?")
			}
		}
	}
	if n := count(t, s, "SELECT COUNT(*) FROM reflections WHERE text NOT LIKE ?", sealPrefix+b.ID()+".%"); n != 0 {
		t.Fatalf("%d reflections are not sealed with the new key", n)
	}

	// Without a key, Rekey has nothing to seal with.
	plain := MustOpen(t)
	if _, err := plain.Rekey(ctx, 10); err == nil {
		t.Fatal("Rekey without a key succeeded")
	}
}

func TestKeyFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, KeySize))
	tests := []struct {
		name string
		path string
		want string // in the error; "" for none
	}{
		{"OK", write("ok.key", good+"\n"), ""},
		{"Spaces", write("spaces.key", "  "+good+"\r\n\n"), ""},
		{"Missing", filepath.Join(dir, "missing.key"), "does not exist; make one with: trustbot keygen"},
		{"Empty", write("empty.key", "\n"), "it is empty"},
		{"NotBase64", write("text.key", "correct horse battery staple\n"), "not base64"},
		{"Short", write("short.key", base64.StdEncoding.EncodeToString([]byte("sixteen bytes..."))), "holds 16 bytes, want 32"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := LoadKeyFile(tt.path)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("load: %v", err)
				}
				if want := mustKey(t, 7).ID(); k.ID() != want {
					t.Fatalf("key id = %s, want %s", k.ID(), want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), tt.path) {
				t.Fatalf("error = %v; want one naming %s and saying %q", err, tt.path, tt.want)
			}
			if strings.Contains(err.Error(), "horse") {
				t.Fatalf("the error shows the file's content: %v", err)
			}
		})
	}

	t.Run("Write", func(t *testing.T) {
		p := filepath.Join(dir, "new.key")
		k, err := WriteKeyFile(p)
		if err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(p)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("key file mode = %v, %v; want 0600", fi.Mode().Perm(), err)
		}
		back, err := LoadKeyFile(p)
		if err != nil || back.ID() != k.ID() {
			t.Fatalf("loaded back %v, %v; want key %s", back, err, k.ID())
		}
		before, _ := os.ReadFile(p)
		if _, err := WriteKeyFile(p); err == nil || !strings.Contains(err.Error(), "already exists") {
			t.Fatalf("second write: %v; want a refusal to overwrite", err)
		}
		if after, _ := os.ReadFile(p); !bytes.Equal(before, after) {
			t.Fatal("the existing key file was changed")
		}
		other, err := WriteKeyFile(filepath.Join(dir, "other.key"))
		if err != nil || other.ID() == k.ID() {
			t.Fatalf("two new keys: %v, %v: want different random keys", other, err)
		}
	})
}

// FuzzOpenSealed: for any stored value, open never panics, returns a plain
// value unchanged, and never returns text for a value that is not a valid
// sealed one.
func FuzzOpenSealed(f *testing.F) {
	k := mustKey(f, 1)
	kr := newKeyring(Options{Key: k})
	ad := reflectionAD("text", 1)
	f.Add(kr.seal("hello", ad))
	f.Add("plain text")
	f.Add(sealPrefix + k.ID() + ".")
	f.Add(sealPrefix + "zzzzzzzz.AAAA")
	f.Add("\xff")
	f.Fuzz(func(t *testing.T, v string) {
		got, err := kr.open(v, ad)
		if !strings.HasPrefix(v, sealMark) {
			if err != nil || got != v {
				t.Fatalf("open(%q) = %q, %v; want it unchanged", v, got, err)
			}
			return
		}
		if err == nil {
			if !sealedWith(v, k) {
				t.Fatalf("open(%q) = %q without an error, but it is not sealed with the key", v, got)
			}
			// Only a genuine seal opens: sealing it again round-trips.
			if back, err := kr.open(kr.seal(got, ad), ad); err != nil || back != got {
				t.Fatalf("reseal of %q: %q, %v", got, back, err)
			}
		}
	})
}

// BenchmarkAddReflectionSealing compares AddReflection in the clear and
// sealed: durable (an fsync per commit, as in production), and with
// synchronous=OFF, which leaves only the CPU and page cost so that the
// sealing's share shows without the fsync's noise.
func BenchmarkAddReflectionSealing(b *testing.B) {
	for _, sync := range []string{"durable", "nosync"} {
		for _, mode := range []string{"plain", "sealed"} {
			b.Run(sync+"/"+mode, func(b *testing.B) {
				var o Options
				if mode == "sealed" {
					o.Key = mustKey(b, 1)
				}
				s := mustOpenWith(b, filepath.Join(b.TempDir(), "trustbot.db"), o)
				u := mustUser(b, s, "1") // SaveUser resets synchronous: set it after
				if sync == "nosync" {
					// The one writer connection keeps the setting.
					if _, err := s.w.Exec("PRAGMA synchronous = OFF"); err != nil {
						b.Fatal(err)
					}
				}
				ctx := context.Background()
				text := strings.Repeat("A few honest sentences about today. ", 8) // ~300 bytes
				b.ReportAllocs()
				for b.Loop() {
					r := &bot.Reflection{UserID: u.ID, Step: 3, Prompt: "What do you need to feel safe?", Text: text}
					if err := s.AddReflection(ctx, r); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkSeal is the sealing alone of a reflection's text and prompt.
func BenchmarkSeal(b *testing.B) {
	kr := newKeyring(Options{Key: mustKey(b, 1)})
	text := strings.Repeat("A few honest sentences about today. ", 8) // ~300 bytes
	b.ReportAllocs()
	for b.Loop() {
		kr.seal("What do you need to feel safe?", reflectionAD("prompt", 1))
		kr.seal(text, reflectionAD("text", 1))
	}
}
