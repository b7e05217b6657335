package content

import (
	"sort"
	"strconv"
)

// The TOML library reports positions for syntax errors only: the positions it
// keeps for keys are private, and for arrays of tables it keeps one per key
// name, not one per element. locate finds them instead: it scans a file the
// library has already parsed and records the line of every table header and
// key, under the same field names the checker uses ("steps[2].prompts[0].text").
//
// It is a scanner, not a parser. It relies on the file being valid TOML, never
// panics on any input, and at worst leaves a field out, in which case the
// problem is reported on the line of the nearest enclosing table.

// positions maps field names to 1-based line numbers.
type positions map[string]int

// line returns the line of field, or of its nearest recorded parent, or 1.
func (p positions) line(field string) int {
	for field != "" {
		if n, ok := p[field]; ok {
			return n
		}
		field = parentField(field)
	}
	return 1
}

// parentField strips the last ".key" or "[i]" from a field name.
func parentField(field string) string {
	if n := len(field); field[n-1] == ']' {
		for i := n - 1; i >= 0; i-- {
			if field[i] == '[' {
				return field[:i]
			}
		}
		return ""
	}
	quoted := false
	for i := len(field) - 1; i >= 0; i-- {
		switch field[i] {
		case '"':
			quoted = !quoted
		case '.':
			if !quoted {
				return field[:i]
			}
		}
	}
	return ""
}

// child returns the field name of key inside parent. Keys that are not bare
// TOML keys are quoted.
func child(parent, key string) string {
	if !isBareKey(key) {
		key = strconv.Quote(key)
	}
	if parent == "" {
		return key
	}
	return parent + "." + key
}

// index returns the field name of element i of the array parent.
func index(parent string, i int) string {
	return parent + "[" + strconv.Itoa(i) + "]"
}

func isBareKey(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		if !isBareChar(k[i]) {
			return false
		}
	}
	return true
}

func isBareChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// maxDepth bounds the nesting of arrays and inline tables the scanner follows.
const maxDepth = 64

type scanner struct {
	src      []byte
	i        int
	newlines []int          // offsets of '\n' in src
	arrays   map[string]int // array-of-tables field -> elements seen
	pos      positions
}

func locate(src []byte) positions {
	s := &scanner{src: src, arrays: map[string]int{}, pos: positions{}}
	for i, c := range src {
		if c == '\n' {
			s.newlines = append(s.newlines, i)
		}
	}
	table := ""
	for {
		s.skipBlank(true)
		if s.i >= len(s.src) {
			break
		}
		start := s.i
		if s.src[s.i] == '[' {
			table = s.header(table)
		} else {
			s.keyValue(table, 0)
		}
		s.skipLine()
		if s.i == start { // no progress: give up rather than loop
			break
		}
	}
	return s.pos
}

// lineAt returns the 1-based line of byte offset off.
func (s *scanner) lineAt(off int) int {
	return sort.SearchInts(s.newlines, off) + 1
}

func (s *scanner) peek(k int) byte {
	if s.i+k < len(s.src) {
		return s.src[s.i+k]
	}
	return 0
}

// skipBlank skips spaces, tabs and comments, and newlines if newlines is set.
func (s *scanner) skipBlank(newlines bool) {
	for s.i < len(s.src) {
		switch c := s.src[s.i]; {
		case c == ' ' || c == '\t' || c == '\r':
			s.i++
		case c == '\n' && newlines:
			s.i++
		case c == '#':
			for s.i < len(s.src) && s.src[s.i] != '\n' {
				s.i++
			}
		default:
			return
		}
	}
}

// skipLine moves to the start of the next line, unless already there.
func (s *scanner) skipLine() {
	if s.i > 0 && s.i <= len(s.src) && s.src[s.i-1] == '\n' {
		return
	}
	for s.i < len(s.src) {
		s.i++
		if s.src[s.i-1] == '\n' {
			return
		}
	}
}

// header reads "[a.b]" or "[[a.b]]", records its line, and returns the field
// name of the table it opens.
func (s *scanner) header(table string) string {
	line := s.lineAt(s.i)
	array := s.peek(1) == '['
	if array {
		s.i += 2
	} else {
		s.i++
	}
	keys := s.key()
	if len(keys) == 0 {
		return table
	}
	field := ""
	for j, k := range keys {
		field = child(field, k)
		if j == len(keys)-1 && array {
			n := s.arrays[field]
			s.arrays[field] = n + 1
			if n == 0 { // the array itself starts at its first table
				s.pos[field] = line
			}
			field = index(field, n)
		} else if n := s.arrays[field]; n > 0 {
			field = index(field, n-1)
		}
	}
	s.pos[field] = line
	return field
}

// key reads a possibly dotted key and returns its parts.
func (s *scanner) key() []string {
	var keys []string
	for {
		s.skipBlank(false)
		if s.i >= len(s.src) {
			return keys
		}
		var k string
		switch c := s.src[s.i]; {
		case c == '"' || c == '\'':
			s.i++
			start := s.i
			s.stringBody(c)
			k = string(s.src[start:s.i])
			if s.i < len(s.src) {
				s.i++ // closing quote
			}
		case isBareChar(c):
			start := s.i
			for s.i < len(s.src) && isBareChar(s.src[s.i]) {
				s.i++
			}
			k = string(s.src[start:s.i])
		default:
			return keys
		}
		keys = append(keys, k)
		s.skipBlank(false)
		if s.peek(0) != '.' {
			return keys
		}
		s.i++
	}
}

// keyValue reads "key = value" inside table and records the key's line.
func (s *scanner) keyValue(table string, depth int) {
	line := s.lineAt(s.i)
	keys := s.key()
	if len(keys) == 0 {
		return
	}
	field := table
	for _, k := range keys {
		field = child(field, k)
	}
	if _, seen := s.pos[field]; !seen {
		s.pos[field] = line
	}
	s.skipBlank(false)
	if s.peek(0) != '=' {
		return
	}
	s.i++
	s.skipBlank(false)
	s.value(field, depth)
}

// value skips one value, recording the elements of arrays and the keys of
// inline tables under field.
func (s *scanner) value(field string, depth int) {
	if depth > maxDepth {
		s.i = len(s.src)
		return
	}
	switch {
	case s.peek(0) == '"' && s.peek(1) == '"' && s.peek(2) == '"':
		s.multiline('"')
	case s.peek(0) == '\'' && s.peek(1) == '\'' && s.peek(2) == '\'':
		s.multiline('\'')
	case s.peek(0) == '"' || s.peek(0) == '\'':
		q := s.src[s.i]
		s.i++
		s.stringBody(q)
		if s.i < len(s.src) && s.src[s.i] == q {
			s.i++
		}
	case s.peek(0) == '[':
		n := 0
		s.items(']', func() {
			elem := index(field, n)
			s.pos[elem] = s.lineAt(s.i)
			s.value(elem, depth+1)
			n++
		})
	case s.peek(0) == '{':
		s.items('}', func() { s.keyValue(field, depth+1) })
	default: // numbers, booleans, dates
		for s.i < len(s.src) {
			switch s.src[s.i] {
			case ',', ']', '}', '\n', '#':
				return
			}
			s.i++
		}
	}
}

// stringBody skips the content of a one-line string whose opening quote q
// was just read, up to its closing quote, the end of the line or of src.
func (s *scanner) stringBody(q byte) {
	for s.i < len(s.src) && s.src[s.i] != q && s.src[s.i] != '\n' {
		if q == '"' && s.src[s.i] == '\\' {
			s.i++ // the escaped character
		}
		s.i++
	}
	s.i = min(s.i, len(s.src))
}

// items reads the comma-separated items of an array or inline table, from
// its opening bracket to close, calling each at the start of every item.
// An item each cannot read is skipped a byte at a time.
func (s *scanner) items(close byte, each func()) {
	s.i++
	for {
		s.skipBlank(true)
		if s.i >= len(s.src) {
			return
		}
		switch s.src[s.i] {
		case close:
			s.i++
			return
		case ',':
			s.i++
			continue
		}
		start := s.i
		each()
		if s.i == start {
			s.i++
		}
	}
}

// multiline skips a multi-line string, from its three opening quotes to
// its closing ones. q is the quote character: a double quote for a basic
// string, an apostrophe for a literal one.
func (s *scanner) multiline(q byte) {
	s.i += 3
	for s.i < len(s.src) {
		c := s.src[s.i]
		if q == '"' && c == '\\' {
			s.i += 2
			continue
		}
		if c == q && s.peek(1) == q && s.peek(2) == q {
			s.i += 3
			// Up to two more quotes belong to the string's content.
			for k := 0; k < 2 && s.peek(0) == q; k++ {
				s.i++
			}
			return
		}
		s.i++
	}
	if s.i > len(s.src) {
		s.i = len(s.src)
	}
}
