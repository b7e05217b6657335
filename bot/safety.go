package bot

import (
	"strings"
	"unicode"
)

// Crisis detection matches phrases, never single words, so that figures of
// speech ("I could kill for a coffee", "this job is killing me") do not set
// it off. It errs towards answering: a caring message sent once too often
// costs little; one missed can cost a great deal.

// crisisPhrases are matched against the normalised text (lower case, letters,
// digits and apostrophes only, single spaces) on word boundaries.
var crisisPhrases = []string{
	// suicide and self-harm
	"kill myself", "killing myself", "end my life", "ending my life", "end it all",
	"take my own life", "taking my own life", "take my life",
	"want to die", "wanna die", "want to be dead", "wish i was dead", "wish i were dead",
	"better off dead", "better off without me", "suicide", "suicidal",
	"hurt myself", "hurting myself", "harm myself", "harming myself", "self harm", "selfharm",
	"cut myself", "cutting myself", "no reason to live", "nothing to live for", "not worth living",
	"don't want to live", "dont want to live", "do not want to live", "don't want to be alive",
	"dont want to be alive", "don't want to wake up", "dont want to wake up",
	"overdose", "overdosed",
	// danger and abuse
	"afraid for my life", "scared for my life", "fear for my life", "fearing for my life",
	"i'm not safe", "im not safe", "i am not safe", "not safe at home", "don't feel safe", "dont feel safe",
	"do not feel safe", "i'm in danger", "im in danger", "i am in danger", "my life is in danger",
	"my kids are in danger", "my children are in danger", "domestic violence", "domestic abuse", "abusive relationship",
	"threatened to kill", "threatens to kill", "threatening to kill",
	"raped me", "sexually assaulted", "assaulted me",
	"afraid of him", "afraid of her", "scared of him", "scared of her", "terrified of him", "terrified of her",
	"won't let me leave", "wont let me leave", "doesn't let me leave", "locks me in", "locked me in",
	"took my phone", "takes my phone", "controls my money", "tracks my phone",
}

// abuseSubjects and abuseActs combine: "<subject> <act>", e.g. "he hit me".
var abuseSubjects = []string{
	"he", "she", "they", "partner", "husband", "wife", "boyfriend", "girlfriend", "ex", "spouse", "fiance", "fiancee",
	"he has", "she has", "he's", "she's", "he keeps", "she keeps", "he always", "she always",
}

var abuseActs = []string{
	"hit me", "hits me", "hitting me", "beat me", "beats me", "beating me", "choked me", "chokes me",
	"strangled me", "strangles me", "pushed me down", "shoves me", "shoved me", "slapped me", "slaps me",
	"kicked me", "kicks me", "punched me", "punches me", "threatened me", "threatens me", "threatening me",
	"raped me", "forced himself on me", "forced herself on me", "abuses me", "abused me", "abusing me", "is abusive", "was abusive",
	"will kill me", "would kill me", "is going to kill me", "is gonna kill me", "said he'd kill me",
	"said she'd kill me", "hurt me physically", "grabbed me", "grabs me", "attacked me",
	"threw something at me", "throws things at me", "has a gun", "has a knife",
}

var crisisSet = func() map[string]bool {
	m := map[string]bool{}
	for _, p := range crisisPhrases {
		m[p] = true
	}
	for _, s := range abuseSubjects {
		for _, a := range abuseActs {
			m[s+" "+a] = true
		}
	}
	return m
}()

const maxPhraseWords = 6

// DetectCrisis reports whether text contains language about self-harm,
// suicide, violence, threats or abuse.
func DetectCrisis(text string) bool {
	// One normalised string with single spaces; phrases are slices of it, so
	// the lookups allocate nothing.
	norm := strings.Join(strings.Fields(normalise(text)), " ")
	starts := make([]int, 0, 64)
	for i := 0; i < len(norm); i++ {
		if i == 0 || norm[i-1] == ' ' {
			starts = append(starts, i)
		}
	}
	for wi, start := range starts {
		for n := 1; n <= maxPhraseWords && wi+n <= len(starts); n++ {
			end := len(norm)
			if wi+n < len(starts) {
				end = starts[wi+n] - 1
			}
			if crisisSet[norm[start:end]] {
				return true
			}
		}
	}
	return false
}

// normalise lower-cases text, turns typographic apostrophes into ASCII ones,
// and replaces everything but letters, digits and apostrophes with spaces.
func normalise(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r == '\u2019' || r == '\u2018' || r == '`':
			b.WriteByte('\'')
		case r == '-':
			// "self-harm" and "self harm" are the same phrase
			b.WriteByte(' ')
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '\'':
			b.WriteRune(unicode.ToLower(r))
		default:
			b.WriteByte(' ')
		}
	}
	return b.String()
}
