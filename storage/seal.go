package storage

// Encryption at rest.
//
// With a key (Options.Key), the personal text a person gives us — a
// reflection's text and prompt, their display name (users.name), the
// answers of their safety plan (safety_plans, see care.go) and the raw
// Telegram updates not yet handled (telegram_inbox, see inbox.go) — is
// sealed with AES-256-GCM before it is written, and opened when it is read.
// Everything else (steps, times, settings, platform ids, which are needed
// to find a person) stays in the clear, so the schedule, the stats and the
// indexes work without the key.
//
// A sealed value lives in the same TEXT column as a plain one, so sealing
// needs no migration and a database can hold both (after a key was added and
// before `trustbot rekey` has sealed the old rows):
//
//	"\xff" "v1." KEYID "." base64(nonce || ciphertext || tag)
//
// The first byte, 0xFF, never occurs in UTF-8, and plain values are stored as
// valid UTF-8 (invalid bytes become U+FFFD, as /export's JSON shows them
// anyway), so no plain value can be mistaken for a sealed one. KEYID is 8 hex
// digits of a SHA-256 hash of the key: it says which key sealed the value
// (keys can be rotated) without revealing anything about the key. The nonce
// is 12 random bytes per value. The GCM additional data names the column and
// the row's owner ("reflections.text" and the person's id; "users.name" and
// their platform id), so a sealed value moved to another column or to
// another person's row fails to open instead of showing up there.
//
// A value that fails to open is an error, never garbled text. OpenWith
// checks at start that every sealed value in the database was sealed with
// a key it was given, and fails with a *KeyError otherwise.

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/trustbot/trustbot/bot"
)

// KeySize is the length of an encryption key in bytes (AES-256).
const KeySize = 32

const (
	sealMark   = "\xff"                         // never in UTF-8: no plain value starts with it
	sealPrefix = sealMark + "v1."               // the format version
	keyIDLen   = 8                              // hex digits
	headLen    = len(sealPrefix) + keyIDLen + 1 // sealPrefix KEYID "."
	nonceLen   = 12
)

// Key is an AES-256-GCM key for sealing personal text at rest.
type Key struct {
	id   string
	aead cipher.AEAD
}

// ID returns the key's id: 8 hex digits of a hash of the key, stored beside
// every value it seals. It is safe to print.
func (k *Key) ID() string { return k.id }

// NewKey returns a key made of raw, which must be KeySize bytes.
func NewKey(raw []byte) (*Key, error) {
	if len(raw) != KeySize {
		return nil, fmt.Errorf("a key is %d bytes, got %d", KeySize, len(raw))
	}
	block, err := aes.NewCipher(raw)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(append([]byte("trustbot key id\x00"), raw...))
	return &Key{id: hex.EncodeToString(sum[:keyIDLen/2]), aead: aead}, nil
}

// ParseKey reads a key written by WriteKeyFile: KeySize bytes in standard
// base64, with any surrounding white space.
func ParseKey(text []byte) (*Key, error) {
	s := string(bytes.TrimSpace(text))
	if s == "" {
		return nil, errors.New("it is empty")
	}
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("it is not base64 (%v)", err)
	}
	if len(raw) != KeySize {
		return nil, fmt.Errorf("it holds %d bytes, want %d", len(raw), KeySize)
	}
	return NewKey(raw)
}

// LoadKeyFile reads the key file at path. Its errors name the file, say
// what is wrong and how to make a key file, and never include the key.
func LoadKeyFile(path string) (*Key, error) {
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("encryption key file %q does not exist; make one with: trustbot keygen %s", path, path)
	case err != nil:
		return nil, fmt.Errorf("encryption key file: %w", err)
	}
	k, err := ParseKey(data)
	if err != nil {
		return nil, fmt.Errorf("encryption key file %q: %v; want %d random bytes in base64, as made by: trustbot keygen FILE", path, err, KeySize)
	}
	return k, nil
}

// WriteKeyFile writes a new random key to path with mode 0600 and returns
// it. It never overwrites a file: a lost key makes everything it sealed
// unreadable.
func WriteKeyFile(path string) (*Key, error) {
	raw := make([]byte, KeySize)
	rand.Read(raw) // never fails (crypto/rand since Go 1.24)
	k, err := NewKey(raw)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("write key file: %s already exists; a key is never overwritten (whatever it sealed would be lost): choose another file name", path)
	}
	if err != nil {
		return nil, fmt.Errorf("write key file: %w", err)
	}
	_, err = f.WriteString(base64.StdEncoding.EncodeToString(raw) + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("write key file %s: %w", path, err)
	}
	return k, nil
}

// Options configure OpenWith.
type Options struct {
	// Key seals personal text as it is written, and opens it. nil stores
	// it in the clear (and opening a database with sealed values fails).
	Key *Key
	// OldKeys open values sealed with earlier keys, e.g. while Rekey seals
	// everything with Key. They never seal anything.
	OldKeys []*Key
}

// KeyError says that the keys given to OpenWith do not fit the database:
// it holds values sealed with a key that was not given. Nothing was read
// or written.
type KeyError struct{ msg string }

func (e *KeyError) Error() string { return e.msg }

// OpenWith is Open with options: with o.Key, personal text is sealed at
// rest. It fails with a *KeyError if the database holds values sealed with
// a key that o does not give.
func OpenWith(path string, o Options) (*Store, error) {
	return openWith(path, migrations(), o)
}

// keyring is a Store's keys: cur seals, all open.
type keyring struct {
	cur *Key
	all []*Key
}

func newKeyring(o Options) keyring {
	kr := keyring{cur: o.Key}
	for _, k := range append([]*Key{o.Key}, o.OldKeys...) {
		if k != nil && kr.byID(k.id) == nil {
			kr.all = append(kr.all, k)
		}
	}
	return kr
}

func (kr keyring) byID(id string) *Key {
	for _, k := range kr.all {
		if k.id == id {
			return k
		}
	}
	return nil
}

// Additional data: the column and the row's owner.
func reflectionAD(column string, userID int64) []byte {
	return strconv.AppendInt([]byte("trustbot/reflections."+column+"/"), userID, 10)
}

func nameAD(platform, platformID string) []byte {
	return []byte("trustbot/users.name/" + platform + "/" + platformID)
}

// seal returns the value to store for plain: sealed with the current key,
// or plain (as valid UTF-8) without one. The empty string stays empty: it
// holds nothing to hide.
func (kr keyring) seal(plain string, ad []byte) string {
	if !utf8.ValidString(plain) {
		plain = strings.ToValidUTF8(plain, "\uFFFD")
	}
	if kr.cur == nil || plain == "" {
		return plain
	}
	k := kr.cur
	buf := make([]byte, nonceLen, nonceLen+len(plain)+k.aead.Overhead())
	rand.Read(buf) // the nonce
	buf = k.aead.Seal(buf, buf[:nonceLen], []byte(plain), ad)
	out := make([]byte, 0, headLen+base64.RawStdEncoding.EncodedLen(len(buf)))
	out = append(append(append(out, sealPrefix...), k.id...), '.')
	return string(base64.RawStdEncoding.AppendEncode(out, buf))
}

// open returns the plain text of a stored value. A sealed value that no
// key of the ring opens is an error that names the key id but never any
// content.
func (kr keyring) open(v string, ad []byte) (string, error) {
	if !strings.HasPrefix(v, sealMark) {
		return v, nil
	}
	if len(v) < headLen || !strings.HasPrefix(v, sealPrefix) || v[headLen-1] != '.' {
		return "", errors.New("a sealed value is malformed (an unknown format or a damaged file)")
	}
	id := v[len(sealPrefix) : headLen-1]
	k := kr.byID(id)
	if k == nil {
		if len(kr.all) == 0 {
			return "", fmt.Errorf("a value is sealed with key %s, but no encryption key is loaded", id)
		}
		return "", fmt.Errorf("a value is sealed with key %s, which is not loaded", id)
	}
	raw, err := base64.RawStdEncoding.DecodeString(v[headLen:])
	if err != nil || len(raw) < nonceLen+k.aead.Overhead() {
		return "", fmt.Errorf("a value sealed with key %s is malformed (a damaged file)", id)
	}
	plain, err := k.aead.Open(raw[nonceLen:nonceLen], raw[:nonceLen], raw[nonceLen:], ad)
	if err != nil {
		return "", fmt.Errorf("a value sealed with key %s does not open: it was altered or moved from another row", id)
	}
	return string(plain), nil
}

// sealedWith reports whether v is sealed with key k.
func sealedWith(v string, k *Key) bool {
	return len(v) >= headLen && v[:len(sealPrefix)] == sealPrefix && v[len(sealPrefix):headLen-1] == k.id
}

// sealedColumns selects every stored value that may be sealed, two per
// row, in one pass over each table.
// (The safety plans' answers are added by sealedSelect, see care.go.)
const sealedColumns = `SELECT text AS a, prompt AS b FROM reflections
	UNION ALL SELECT name, '' FROM users`

// checkKeys makes sure that every sealed value in the database was sealed
// with a key of kr, and counts the values stored in the clear. It reads
// every row (0.7 s for a million reflections, 600 MB, see BenchmarkMillion), so
// it runs at start only.
func (s *Store) checkKeys(ctx context.Context, kr keyring) (plain int, err error) {
	// Sealed values sort after every plain one (0xFF > any UTF-8 byte), and
	// those of one key form the range [prefix, prefix with '.' -> '/'):
	// plain comparisons, no function call per row.
	args := []any{sealMark}
	var known []string
	for _, k := range kr.all {
		p := sealPrefix + k.id + "."
		known = append(known, fmt.Sprintf("NOT (%%[1]s >= ?%d AND %%[1]s < ?%d)", len(args)+1, len(args)+2))
		args = append(args, p, p[:len(p)-1]+"/")
	}
	foreign := func(col string) string {
		cond := col + " >= ?1"
		for _, k := range known {
			cond += " AND " + fmt.Sprintf(k, col)
		}
		return "MIN(CASE WHEN " + cond + " THEN substr(CAST(" + col + " AS BLOB), 1, " + strconv.Itoa(headLen) + ") END)"
	}
	var fa, fb []byte
	sealed, err := s.sealedSelect(ctx)
	if err != nil {
		return 0, fmt.Errorf("check encryption keys: %w", err)
	}
	err = s.r.QueryRowContext(ctx, `SELECT
			COALESCE(SUM((a < ?1 AND a <> '') + (b < ?1 AND b <> '')), 0), `+
		foreign("a")+", "+foreign("b")+`
		FROM (`+sealed+`)`, args...).Scan(&plain, &fa, &fb)
	if err != nil {
		return 0, fmt.Errorf("check encryption keys: %w", err)
	}
	f := fa
	if f == nil {
		f = fb
	}
	if f == nil {
		return plain, nil
	}
	id := "of an unknown format"
	if f := string(f); strings.HasPrefix(f, sealPrefix) && len(f) == headLen {
		id = f[len(sealPrefix) : headLen-1]
	}
	switch {
	case len(kr.all) == 0:
		return plain, &KeyError{fmt.Sprintf("the database holds journals sealed with encryption key %s, but no key is configured: set [storage] encryption_key_file to that key's file", id)}
	case len(kr.all) == 1:
		return plain, &KeyError{fmt.Sprintf("the database holds journals sealed with encryption key %s, but the configured key is %s: set [storage] encryption_key_file to the key that sealed them (to change keys, use trustbot rekey)", id, kr.cur.id)}
	}
	return plain, &KeyError{fmt.Sprintf("the database holds journals sealed with encryption key %s, which is none of the keys given", id)}
}

// Plaintext returns how many personal values (reflection texts and
// prompts, names, safety plan answers, unhandled Telegram updates) were
// stored in the clear when the store was opened: with a key, `trustbot
// rekey` seals them.
func (s *Store) Plaintext() int { return s.plain }

// RekeyResult counts what Rekey changed.
type RekeyResult struct {
	Reflections int // reflections sealed anew
	Names       int // names sealed anew
	SafetyPlans int // safety plans sealed anew
	Inbox       int // unhandled Telegram updates sealed anew
}

// resealer re-seals the personal values of one table, a batch of rows at a
// time, in id order.
type resealer struct {
	table string
	read  string // SELECT id, and the values fix needs, WHERE id > ? ORDER BY id LIMIT ?
	// fix scans one row and returns the UPDATE's arguments, or nil when the
	// row is sealed with the current key already.
	fix    func(scan func(...any) error) (id int64, args []any, err error)
	update string
}

// Rekey seals every personal value that is not sealed with the store's key
// yet, opening it with any key of the store (or reading it in the clear),
// batch rows per transaction. It is meant to run while nothing else writes
// to the database; it may be interrupted and run again, and skips what is
// done. At the end it checks that no value is left under another key or in
// the clear (a process still writing with an old key would have left some)
// and checkpoints the WAL so that the old ciphertexts do not linger in it.
func (s *Store) Rekey(ctx context.Context, batch int) (RekeyResult, error) {
	var res RekeyResult
	cur := s.keys.cur
	if cur == nil {
		return res, errors.New("rekey: the store has no key to seal with")
	}
	batch = max(batch, 1)
	tables := []struct {
		resealer
		count *int
	}{
		{resealer{
			table: "reflections",
			read:  `SELECT id, user_id, text, prompt FROM reflections WHERE id > ? ORDER BY id LIMIT ?`,
			fix: func(scan func(...any) error) (int64, []any, error) {
				var id, userID int64
				var text, prompt string
				if err := scan(&id, &userID, &text, &prompt); err != nil {
					return 0, nil, err
				}
				if sealedWith(text, cur) && (prompt == "" || sealedWith(prompt, cur)) {
					return id, nil, nil
				}
				tad, pad := reflectionAD("text", userID), reflectionAD("prompt", userID)
				t, err := s.keys.open(text, tad)
				if err != nil {
					return id, nil, err
				}
				p, err := s.keys.open(prompt, pad)
				if err != nil {
					return id, nil, err
				}
				return id, []any{s.keys.seal(t, tad), s.keys.seal(p, pad), id}, nil
			},
			update: `UPDATE reflections SET text = ?, prompt = ? WHERE id = ?`,
		}, &res.Reflections},
		{resealer{
			table: "users",
			read:  `SELECT id, platform, platform_id, name FROM users WHERE id > ? ORDER BY id LIMIT ?`,
			fix: func(scan func(...any) error) (int64, []any, error) {
				var id int64
				var platform, pid, name string
				if err := scan(&id, &platform, &pid, &name); err != nil {
					return 0, nil, err
				}
				if name == "" || sealedWith(name, cur) {
					return id, nil, nil
				}
				ad := nameAD(platform, pid)
				n, err := s.keys.open(name, ad)
				if err != nil {
					return id, nil, err
				}
				return id, []any{s.keys.seal(n, ad), id}, nil
			},
			update: `UPDATE users SET name = ? WHERE id = ?`,
		}, &res.Names},
		{safetyPlanResealer(s, cur), &res.SafetyPlans},
		{resealer{
			table: "telegram_inbox",
			read:  `SELECT update_id, raw FROM telegram_inbox WHERE update_id > ? ORDER BY update_id LIMIT ?`,
			fix: func(scan func(...any) error) (int64, []any, error) {
				var id int64
				var raw string
				if err := scan(&id, &raw); err != nil {
					return 0, nil, err
				}
				if sealedWith(raw, cur) {
					return id, nil, nil
				}
				plain, err := s.keys.open(raw, inboxAD(id))
				if err != nil {
					return id, nil, err
				}
				return id, []any{s.keys.seal(plain, inboxAD(id)), id}, nil
			},
			update: `UPDATE telegram_inbox SET raw = ? WHERE update_id = ?`,
		}, &res.Inbox},
	}
	for _, t := range tables {
		n, err := s.reseal(ctx, t.resealer, batch)
		*t.count += n
		if err != nil {
			return res, fmt.Errorf("rekey: %w", err)
		}
	}

	plain, err := s.checkKeys(ctx, newKeyring(Options{Key: cur}))
	if err != nil {
		return res, fmt.Errorf("rekey: values were written with another key meanwhile (is trustbot still running? stop it and run rekey again): %w", err)
	}
	if plain > 0 {
		return res, fmt.Errorf("rekey: %d values were written in the clear meanwhile (is trustbot still running? stop it and run rekey again)", plain)
	}
	s.plain = 0
	err = s.write(ctx, func(conn *sql.Conn) error {
		var busy, log, done int
		if err := conn.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &log, &done); err != nil {
			return err
		}
		if busy != 0 {
			return errors.New("the database was busy")
		}
		return nil
	})
	if err != nil {
		return res, fmt.Errorf("rekey: done, but checkpoint the WAL (old ciphertexts stay in it until the next checkpoint): %w", err)
	}
	return res, nil
}

// reseal runs r over its table, one transaction per batch, and returns how
// many rows it changed.
func (s *Store) reseal(ctx context.Context, r resealer, batch int) (int, error) {
	changed := 0
	last := int64(0)
	for {
		n, updated := 0, 0
		err := s.writeTx(ctx, func(tx *sql.Tx) error {
			rows, err := tx.QueryContext(ctx, r.read, last, batch)
			if err != nil {
				return err
			}
			var updates [][]any
			for rows.Next() {
				id, args, err := r.fix(rows.Scan)
				if err != nil {
					rows.Close()
					return fmt.Errorf("%s row %d: %w", r.table, id, err)
				}
				n++
				last = id
				if args != nil {
					updates = append(updates, args)
				}
			}
			if err := rows.Close(); err != nil {
				return err
			}
			if err := rows.Err(); err != nil {
				return err
			}
			for _, args := range updates {
				if _, err := tx.ExecContext(ctx, r.update, args...); err != nil {
					return fmt.Errorf("%s row %v: %w", r.table, args[len(args)-1], err)
				}
			}
			updated = len(updates)
			return nil
		})
		if err != nil {
			return changed, err
		}
		changed += updated
		if n < batch {
			return changed, nil
		}
	}
}

// openReflection opens r's sealed text and prompt in place.
func (s *Store) openReflection(r *bot.Reflection) error {
	var err error
	if r.Text, err = s.keys.open(r.Text, reflectionAD("text", r.UserID)); err != nil {
		return fmt.Errorf("text: %w", err)
	}
	if r.Prompt, err = s.keys.open(r.Prompt, reflectionAD("prompt", r.UserID)); err != nil {
		return fmt.Errorf("prompt: %w", err)
	}
	return nil
}
