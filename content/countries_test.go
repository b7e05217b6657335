package content

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/trustbot/trustbot/bot"
)

// countriesBlock goes into mini before its first step, from line 14.
const countriesBlock = `[[crisis.countries]]
code = "GB"
name = "the United Kingdom"

[[crisis.countries.resources]]
name = "Emergency services"
contact = "Call 999 or 112"
kind = "emergency"

[[crisis.countries]]
code = "DE"
name = "Germany"

[[crisis.countries.resources]]
name = "Notruf"
contact = "Call 112"
kind = "emergency"

[[crisis.countries.resources]]
name = "Hilfetelefon"
contact = "Call 116 016"
kind = "abuse"

`

// withCountries returns mini with countriesBlock, changed by the old/new
// pairs.
func withCountries(t *testing.T, pairs ...string) string {
	t.Helper()
	block := countriesBlock
	for i := 0; i+1 < len(pairs); i += 2 {
		if !strings.Contains(block, pairs[i]) {
			t.Fatalf("test setup: the countries block does not contain %q", pairs[i])
		}
		block = strings.Replace(block, pairs[i], pairs[i+1], 1)
	}
	return edit(t, "[[steps]]\nnumber = 1", block+"[[steps]]\nnumber = 1")
}

func TestLoadCountries(t *testing.T) {
	p, err := Load("mini.toml", []byte(withCountries(t)))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	de, ok := p.Crisis.ForCountry("DE")
	if !ok || de.Name != "Germany" || len(de.Resources) != 2 ||
		de.Resources[1] != (bot.Resource{Name: "Hilfetelefon", Contact: "Call 116 016", Kind: bot.ResourceAbuse}) {
		t.Fatalf("DE: got %+v, %v; want Germany with its two resources", de, ok)
	}
	if _, ok := p.Crisis.ForCountry("FR"); ok {
		t.Fatal("FR is not listed, but ForCountry found it")
	}
	if _, ok := p.Crisis.ForCountry(""); ok {
		t.Fatal(`ForCountry("") found a country`)
	}
	if len(p.Crisis.Resources) != 1 || p.Crisis.Resources[0].Kind != bot.ResourceOther {
		t.Fatalf("general resources: got %+v, want the one in mini, without a kind", p.Crisis.Resources)
	}
}

func TestLoadCountries_errors(t *testing.T) {
	for _, tc := range []struct {
		name string
		src  string
		want []string
	}{
		{"lower-case code", withCountries(t, `code = "DE"`, `code = "de"`),
			[]string{`mini.toml:24: crisis.countries[1].code: is "de", want an ISO 3166-1 alpha-2 code: two capital letters, like "GB" or "DE"`}},
		{"three letters", withCountries(t, `code = "DE"`, `code = "DEU"`),
			[]string{`mini.toml:24: crisis.countries[1].code: is "DEU", want an ISO 3166-1 alpha-2 code: two capital letters, like "GB" or "DE"`}},
		{"UK", withCountries(t, `code = "GB"`, `code = "UK"`),
			[]string{`mini.toml:15: crisis.countries[0].code: is "UK"; the ISO 3166-1 code of the United Kingdom is "GB"`}},
		{"duplicate", withCountries(t, `code = "DE"`, `code = "GB"`),
			[]string{`mini.toml:24: crisis.countries[1].code: duplicate country "GB" (also crisis.countries[0])`}},
		{"missing code", withCountries(t, "code = \"DE\"\n", ""),
			[]string{`mini.toml:23: crisis.countries[1].code: is required`}},
		{"missing name", withCountries(t, "name = \"Germany\"\n", ""),
			[]string{`mini.toml:23: crisis.countries[1].name: is required`}},
		{"no emergency number", withCountries(t, "name = \"Notruf\"\ncontact = \"Call 112\"\nkind = \"emergency\"", "name = \"Notruf\"\ncontact = \"Call 112\"\nkind = \"crisis\""),
			[]string{`mini.toml:27: crisis.countries[1].resources: has no emergency number: give one resource kind = "emergency"`}},
		{"unknown kind", withCountries(t, `kind = "abuse"`, `kind = "police"`),
			[]string{`mini.toml:35: crisis.countries[1].resources[1].kind: is "police", want one of "emergency", "crisis", "abuse" (or leave it out)`}},
		{"no resources", withCountries(t, "[[crisis.countries.resources]]\nname = \"Emergency services\"\ncontact = \"Call 999 or 112\"\nkind = \"emergency\"\n", ""),
			[]string{`mini.toml:14: crisis.countries[0].resources: at least one is required: add [[crisis.countries.resources]] tables with the emergency number first`}},
		{"missing contact", withCountries(t, "contact = \"Call 116 016\"\n", ""),
			[]string{`mini.toml:32: crisis.countries[1].resources[1].contact: is required`}},
		{"unknown key", withCountries(t, `name = "Germany"`, "name = \"Germany\"\nphone = \"112\""),
			[]string{`mini.toml:26: crisis.countries[1].phone: unknown key (a country has code, name and [[crisis.countries.resources]])`}},
		{"no general list", strings.Replace(withCountries(t), "[[crisis.resources]]\nname = \"Emergency services\"\ncontact = \"112\"\n", "", 1),
			[]string{`mini.toml:7: crisis.resources: is required when there are crisis.countries: the general helplines, for everyone whose country is not listed`}},
		{"countries not tables", edit(t, "[[steps]]\nnumber = 1", "[crisis.more]\n[[steps]]\nnumber = 1"),
			[]string{`mini.toml:14: crisis.more: unknown key`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load("mini.toml", []byte(tc.src))
			if err == nil {
				t.Fatalf("Load: no error, want %q", tc.want)
			}
			if got := strings.Split(err.Error(), "\n"); strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Fatalf("Load:\ngot  %s\nwant %s", strings.Join(got, "\n     "), strings.Join(tc.want, "\n     "))
			}
		})
	}
}

// The default program's helplines: every country valid and with an
// emergency number, and the numbers we are sure of exactly as published.
// A number changed here must be checked against the service's own site.
func TestDefaultCountries(t *testing.T) {
	c := Default().Crisis
	if len(c.Countries) < 10 {
		t.Fatalf("got %d countries, want the table of helplines", len(c.Countries))
	}
	want := map[string][]string{
		"US": {"Call 911", "988", "1-800-799-7233", "text START to 88788"},
		"GB": {"Call 999 or 112", "116 123", "0808 2000 247"},
		"IE": {"112 or 999", "116 123"},
		"CA": {"Call 911", "Call or text 988"},
		"AU": {"Call 000", "13 11 14", "1800 737 732"},
		"NZ": {"Call 111", "0800 543 354", "1737"},
		"DE": {"Call 112", "0800 111 0 111", "0800 111 0 222", "116 016"},
		"FR": {"Call 112", "3114", "3919"},
		"AT": {"Call 112", "142"},
		"CH": {"Call 112", "143"},
		"ES": {"Call 112", "024", "016"},
		"NL": {"Call 112", "113", "0800 0113", "0800 2000"},
		"IT": {"Call 112", "1522"},
	}
	for code, numbers := range want {
		cc, ok := c.ForCountry(code)
		if !ok {
			t.Errorf("%s: not listed", code)
			continue
		}
		var all strings.Builder
		kinds := map[bot.ResourceKind]bool{}
		for _, r := range cc.Resources {
			all.WriteString(r.Name + ": " + r.Contact + "\n")
			kinds[r.Kind] = true
		}
		for _, n := range numbers {
			if !strings.Contains(all.String(), n) {
				t.Errorf("%s: resources %q lack %q", code, all.String(), n)
			}
		}
		if !kinds[bot.ResourceEmergency] || !(kinds[bot.ResourceCrisis] || kinds[bot.ResourceAbuse]) {
			t.Errorf("%s: kinds %v, want an emergency number and a crisis or abuse line", code, kinds)
		}
		// The crisis answer (message and this country's lines) fits one
		// Discord message.
		if n := utf8.RuneCountInString(c.Message) + all.Len(); n >= discordLimit {
			t.Errorf("%s: the crisis answer has %d characters, want under %d", code, n, discordLimit)
		}
	}
	for _, cc := range c.Countries {
		if _, ok := want[cc.Code]; !ok {
			t.Errorf("%s (%s) is listed but its numbers are not checked here: add them to want", cc.Code, cc.Name)
		}
	}
}
