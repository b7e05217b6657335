package content

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/trustbot/trustbot/bot"
)

// The file is decoded into a map[string]any and checked here against the
// schema, rather than decoded into structs and checked with
// toml.MetaData.Undecoded: the library matches struct fields without regard
// to case (so "Title" would silently fill title), stops at the first type
// mismatch, and names undecoded keys without their array index. Walking the
// map catches all of those, and names every field exactly.

// A text is a string field of a table.
type text struct {
	key      string
	required bool
	limit    int  // the number of runes the text must stay under
	oneLine  bool // must not contain a line break
}

var (
	programTexts = []text{
		{key: "id", required: true, limit: 64, oneLine: true},
		{key: "title", required: true, limit: MaxLineRunes, oneLine: true},
		{key: "language", limit: 36, oneLine: true},
		{key: "version", limit: 64, oneLine: true},
		{key: "about", limit: MaxTextRunes},
		{key: "welcome", required: true, limit: MaxTextRunes},
		{key: "not_this", required: true, limit: MaxTextRunes},
		{key: "how_it_works", limit: MaxTextRunes},
		{key: "breaks", limit: MaxTextRunes},
		{key: "completion", required: true, limit: MaxTextRunes},
	}
	programTables = []string{"crisis", "steps"}

	crisisTexts    = []text{{key: "message", required: true, limit: MaxTextRunes}}
	crisisTables   = []string{"resources", "countries"}
	resourceTexts  = []text{{key: "name", required: true, limit: MaxLineRunes, oneLine: true}, {key: "contact", required: true, limit: MaxLineRunes}, {key: "kind", limit: 16, oneLine: true}}
	countryTexts   = []text{{key: "code", required: true, limit: 8, oneLine: true}, {key: "name", required: true, limit: MaxLineRunes, oneLine: true}}
	countryTables  = []string{"resources"}
	stepTexts      = []text{{key: "title", required: true, limit: MaxLineRunes, oneLine: true}, {key: "summary", required: true, limit: MaxLineRunes, oneLine: true}, {key: "body", required: true, limit: MaxBodyRunes}, {key: "action", required: true, limit: MaxLineRunes}}
	stepOthers     = []string{"number", "prompts"}
	promptTexts    = []text{{key: "text", required: true, limit: MaxLineRunes}}
	promptVariants = []bot.Role{bot.RoleRepairing, bot.RoleHurt, bot.RoleTogether}
)

type checker struct {
	file     string
	pos      positions
	problems []Problem
}

func (c *checker) add(field, format string, args ...any) {
	c.problems = append(c.problems, Problem{File: c.file, Line: c.pos.line(field), Field: field, Msg: fmt.Sprintf(format, args...)})
}

// program checks the whole file and returns the program it describes. The
// program is only meaningful if no problems were found.
func (c *checker) program(raw map[string]any) *bot.Program {
	var known []string
	for _, t := range programTexts {
		known = append(known, t.key)
	}
	c.unknownKeys("", raw, append(known, programTables...), "")

	s := c.texts("", raw, programTexts)
	p := &bot.Program{
		ID: s["id"], Title: s["title"], Language: s["language"], Version: s["version"],
		About: s["about"], Welcome: s["welcome"], NotThis: s["not_this"],
		HowItWorks: s["how_it_works"], Breaks: s["breaks"], Completion: s["completion"],
	}
	if p.ID != "" && strings.ContainsFunc(p.ID, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.')
	}) {
		c.add("id", "must contain only letters, digits, '-', '_' and '.'")
	}

	if v, ok := raw["crisis"]; !ok {
		c.add("crisis", "is required: a [crisis] table with a message")
	} else if m, ok := v.(map[string]any); !ok {
		c.add("crisis", "must be a table ([crisis]), not %s", typeName(v))
	} else {
		p.Crisis = c.crisis(m)
	}

	steps, ok := c.tables("", raw, "steps", "steps")
	if ok && len(steps) == 0 {
		c.add("steps", "at least one step is required: add a [[steps]] table")
	}
	first := map[int64]int{} // step number -> index of the first step with it
	for i, m := range steps {
		p.Steps = append(p.Steps, c.step(index("steps", i), i, m, first))
	}

	sort.SliceStable(c.problems, func(i, j int) bool { return c.problems[i].Line < c.problems[j].Line })
	return p
}

func (c *checker) crisis(m map[string]any) bot.Crisis {
	c.unknownKeys("crisis", m, append(keys(crisisTexts), crisisTables...), "")
	cr := bot.Crisis{Message: c.texts("crisis", m, crisisTexts)["message"]}
	cr.Resources = c.resources("crisis", m, "crisis.resources")
	countries, ok := c.tables("crisis", m, "countries", "crisis.countries")
	if ok && len(countries) > 0 && len(cr.Resources) == 0 {
		c.add("crisis.resources", "is required when there are crisis.countries: the general helplines, for everyone whose country is not listed")
	}
	first := map[string]int{} // code -> index of the first country with it
	for i, cm := range countries {
		cr.Countries = append(cr.Countries, c.country(index("crisis.countries", i), i, cm, first))
	}
	return cr
}

// resources checks the resources of table m, whose TOML header is
// [[header]].
func (c *checker) resources(table string, m map[string]any, header string) []bot.Resource {
	var out []bot.Resource
	rs, _ := c.tables(table, m, "resources", header)
	for i, r := range rs {
		field := index(child(table, "resources"), i)
		c.unknownKeys(field, r, keys(resourceTexts), "")
		s := c.texts(field, r, resourceTexts)
		kind := bot.ResourceKind(s["kind"])
		if kind != bot.ResourceOther && !slices.Contains(bot.ResourceKinds, kind) {
			c.add(child(field, "kind"), "is %q, want one of %s (or leave it out)", s["kind"], kindNames())
		}
		out = append(out, bot.Resource{Name: s["name"], Contact: s["contact"], Kind: kind})
	}
	return out
}

func kindNames() string {
	var ns []string
	for _, k := range bot.ResourceKinds {
		ns = append(ns, strconv.Quote(string(k)))
	}
	return strings.Join(ns, ", ")
}

// country checks one [[crisis.countries]] table: an ISO 3166-1 alpha-2
// code (upper case, once), a name, and resources with an emergency number.
func (c *checker) country(field string, i int, m map[string]any, first map[string]int) bot.Country {
	c.unknownKeys(field, m, append(keys(countryTexts), countryTables...), "a country has code, name and [[crisis.countries.resources]]")
	s := c.texts(field, m, countryTexts)
	cc := bot.Country{Code: s["code"], Name: s["name"]}
	if code, ok := s["code"]; ok && code != "" {
		cf := child(field, "code")
		switch {
		case code == "UK":
			c.add(cf, "is \"UK\"; the ISO 3166-1 code of the United Kingdom is \"GB\"")
		case len(code) != 2 || code[0] < 'A' || code[0] > 'Z' || code[1] < 'A' || code[1] > 'Z':
			c.add(cf, "is %q, want an ISO 3166-1 alpha-2 code: two capital letters, like \"GB\" or \"DE\"", code)
		default:
			if j, dup := first[code]; dup {
				c.add(cf, "duplicate country %q (also %s)", code, index("crisis.countries", j))
			} else {
				first[code] = i
			}
		}
	}
	if _, ok := m["resources"]; !ok {
		c.add(child(field, "resources"), "at least one is required: add [[crisis.countries.resources]] tables with the emergency number first")
		return cc
	}
	cc.Resources = c.resources(field, m, "crisis.countries.resources")
	emergency := false
	for _, r := range cc.Resources {
		emergency = emergency || r.Kind == bot.ResourceEmergency
	}
	if !emergency && len(cc.Resources) > 0 {
		c.add(child(field, "resources"), "has no emergency number: give one resource kind = \"emergency\"")
	}
	return cc
}

func (c *checker) step(field string, i int, m map[string]any, first map[int64]int) bot.Step {
	c.unknownKeys(field, m, append(keys(stepTexts), stepOthers...), "")
	s := c.texts(field, m, stepTexts)
	st := bot.Step{Number: i + 1, Title: s["title"], Summary: s["summary"], Body: s["body"], Action: s["action"]}

	nf := child(field, "number")
	switch v, ok := m["number"]; {
	case !ok:
		c.add(nf, "is required (this step would be number %d)", i+1)
	default:
		n, ok := v.(int64)
		if !ok {
			c.add(nf, "must be an integer, not %s", typeName(v))
			break
		}
		if j, dup := first[n]; dup {
			c.add(nf, "duplicate step number %d (also %s)", n, index("steps", j))
			break
		}
		first[n] = i
		if n != int64(i+1) {
			c.add(nf, "is %d, want %d: steps must be numbered 1, 2, 3... in order, with no gaps", n, i+1)
		}
	}

	prompts, ok := c.tables(field, m, "prompts", "steps.prompts")
	if ok && len(prompts) < MinPrompts {
		c.add(child(field, "prompts"), "has %d %s, want at least %d", len(prompts), plural(len(prompts), "prompt"), MinPrompts)
	}
	for j, pm := range prompts {
		st.Prompts = append(st.Prompts, c.prompt(index(child(field, "prompts"), j), pm))
	}
	return st
}

func (c *checker) prompt(field string, m map[string]any) bot.Prompt {
	known := keys(promptTexts)
	for _, r := range promptVariants {
		known = append(known, string(r))
	}
	c.unknownKeys(field, m, known, "a prompt has text and the role variants repairing, hurt and together")
	p := bot.Prompt{Text: c.texts(field, m, promptTexts)["text"]}
	for _, r := range promptVariants {
		v, ok := m[string(r)]
		if !ok {
			continue
		}
		f := child(field, string(r))
		s, ok := v.(string)
		if !ok {
			c.add(f, "must be a string, not %s", typeName(v))
			continue
		}
		s = clean(s)
		if s == "" {
			c.add(f, "must not be empty (leave it out to use text)")
			continue
		}
		c.limit(f, s, text{limit: MaxLineRunes})
		if p.Variants == nil {
			p.Variants = make(map[bot.Role]string, len(promptVariants))
		}
		p.Variants[r] = s
	}
	return p
}

// texts checks the string fields ts of table m and returns their cleaned
// values.
func (c *checker) texts(table string, m map[string]any, ts []text) map[string]string {
	out := make(map[string]string, len(ts))
	for _, t := range ts {
		f := child(table, t.key)
		v, ok := m[t.key]
		if !ok {
			if t.required {
				c.add(f, "is required")
			}
			continue
		}
		s, ok := v.(string)
		if !ok {
			c.add(f, "must be a string, not %s", typeName(v))
			continue
		}
		s = clean(s)
		if s == "" && t.required {
			c.add(f, "must not be empty")
			continue
		}
		c.limit(f, s, t)
		out[t.key] = s
	}
	return out
}

func (c *checker) limit(field, s string, t text) {
	if n := utf8.RuneCountInString(s); t.limit > 0 && n >= t.limit {
		c.add(field, "must be under %d characters, has %d", t.limit, n)
	}
	if t.oneLine && strings.ContainsAny(s, "\n\r") {
		c.add(field, "must be a single line")
	}
}

// tables returns the array of tables at m[key], whose TOML header is
// [[header]]. ok is false if it is missing or is not an array of tables; the
// latter is reported, and so is a missing steps or prompts array.
func (c *checker) tables(table string, m map[string]any, key, header string) (ts []map[string]any, ok bool) {
	f := child(table, key)
	v, found := m[key]
	if !found {
		switch key {
		case "steps":
			c.add(f, "at least one step is required: add a [[steps]] table")
		case "prompts":
			c.add(f, "has 0 prompts, want at least %d: add [[steps.prompts]] tables to this step", MinPrompts)
		}
		return nil, false
	}
	switch v := v.(type) {
	case []map[string]any:
		return v, true
	case []any: // an inline array: every element must be a table
		ts = make([]map[string]any, 0, len(v))
		for i, e := range v {
			t, isTable := e.(map[string]any)
			if !isTable {
				c.add(index(f, i), "must be a table, not %s", typeName(e))
				return nil, false
			}
			ts = append(ts, t)
		}
		return ts, true
	}
	c.add(f, "must be an array of tables ([[%s]]), not %s", header, typeName(v))
	return nil, false
}

// unknownKeys reports the keys of m not in known, suggesting a known key
// that differs only in case or in '-' for '_'. hint, if set, is added to
// every report.
func (c *checker) unknownKeys(table string, m map[string]any, known []string, hint string) {
	var unknown []string
	for k := range m {
		if !slices.Contains(known, k) {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	for _, k := range unknown {
		msg := "unknown key"
		norm := strings.ToLower(strings.ReplaceAll(k, "-", "_"))
		for _, kk := range known {
			if norm == kk {
				msg += fmt.Sprintf("; did you mean %q?", kk)
				break
			}
		}
		if hint != "" {
			msg += " (" + hint + ")"
		}
		c.add(child(table, k), "%s", msg)
	}
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

func keys(ts []text) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.key
	}
	return out
}

// clean normalizes line endings and trims white space around a text.
func clean(s string) string {
	if strings.IndexByte(s, '\r') >= 0 {
		s = strings.ReplaceAll(s, "\r\n", "\n")
	}
	return strings.TrimSpace(s)
}

// typeName names the TOML type of a decoded value.
func typeName(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case bool:
		return "a boolean"
	case time.Time:
		return "a date-time"
	case map[string]any:
		return "a table"
	case []map[string]any:
		return "an array of tables"
	case []any:
		return "an array"
	}
	return fmt.Sprintf("%T", v)
}
