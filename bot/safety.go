package bot

import (
	"strings"
	"unicode"
)

// Crisis detection matches phrases, never single words, so that figures of
// speech ("I could kill for a coffee", "this job is killing me") do not set
// it off. It errs towards answering: a caring message sent once too often
// costs little; one missed can cost a great deal.

// crisisPhrases are matched against the normalised text (lower case, letters
// and digits only, apostrophes dropped, single spaces) on word boundaries;
// they are normalised the same way, so "won't" also matches "wont".
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
	"overdose", "overdosed", "took too many pills", "take all my pills", "taking all my pills",
	"sleep and never wake up", "never wake up again", "don't want to be here anymore", "don't want to exist", "wish i didn't exist",
	"wish i'd never been born", "wish i had never been born", "no point in living anymore", "no point in being alive",
	"tired of being alive", "hang myself", "hanging myself", "slit my wrists", "kms", "unalive myself",
	"jump off a bridge", "jump off the bridge", "jumping off a bridge", "jumping off the bridge",
	"jump in front of a train", "goodbye letter", "goodbye letters", "suicide note",
	"kill himself", "kill herself", // a threat to, or a risk for, someone else
	// danger and abuse
	"afraid for my life", "scared for my life", "fear for my life", "fearing for my life",
	"i'm not safe", "im not safe", "i am not safe", "not safe at home", "don't feel safe", "dont feel safe",
	"do not feel safe", "i'm in danger", "im in danger", "i am in danger", "my life is in danger",
	"my kids are in danger", "my children are in danger", "domestic violence", "domestic abuse", "abusive relationship",
	"threatened to kill", "threatens to kill", "threatening to kill",
	"raped me", "sexually assaulted", "assaulted me",
	"afraid of him", "afraid of her", "scared of him", "scared of her", "terrified of him", "terrified of her",
	"won't let me leave", "doesn't let me leave", "locks me in", "locked me in",
	"threatened to hurt me", "threatens to hurt me", "threatening to hurt me",
	"he'll hurt me", "she'll hurt me", "he'll kill me", "she'll kill me",
	"afraid of what he'll do", "afraid of what she'll do", "scared of what he'll do", "scared of what she'll do",
	"afraid of what he might do", "afraid of what she might do", "scared of what he might do", "scared of what she might do",
	"afraid to go home", "scared to go home", "hide from him", "hiding from him", "hide from her", "hiding from her",
	"stalking me", "stalks me", "stalked me", "forced me to have sex", "forces me to have sex",
	"made me have sex", "makes me have sex", "no one will believe me", "nobody will believe me",
	"punched the wall", "punches the wall", "punches walls", "punched a hole in the wall", "smashed my phone",
	// coercive control: isolation, money, movement, phone, children
	"took my phone away", "takes my phone away", "took away my phone", "takes away my phone",
	"controls my money", "controls all the money", "takes all my money", "took all my money", "tracks my phone",
	"won't let me see my friends", "won't let me see my family", "doesn't let me see my friends",
	"doesn't let me see my family", "not allowed to see my friends", "not allowed to see my family",
	"won't let me have friends", "won't let me go out", "doesn't let me go out",
	"not allowed to go out", "not allowed to leave the house",
	"cut me off from my friends", "cut me off from my family", "cuts me off from my friends", "cuts me off from my family",
	"isolated me from", "isolates me from", "ask his permission", "ask her permission",
	"need his permission", "need her permission",
	"threatened to take the kids", "threatens to take the kids", "threatened to take my kids", "threatens to take my kids",
	"threatened to take the children", "threatens to take the children", "threatened to take my children",
	"threatens to take my children",
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
	"pushed me against", "shoved me against", "threw me against", "threw me down", "threw me to the floor",
	"threw me on the floor", "pinned me down", "held me down", "dragged me by", "dragged me across",
	"bit me", "burned me", "spat on me", "pulled my hair", "twisted my arm", "smacked me", "stabbed me",
	"threw a plate at me", "threw a glass at me", "threw his phone at me", "threw her phone at me",
	"threw stuff at me", "throws stuff at me", "threw things at me",
	"gets violent", "got violent", "is violent", "was violent", "violent", "gets physical", "got physical", "gets rough", "got rough",
	"hits the kids", "hit the kids", "beats the kids", "hits the children", "hit the children",
}

var crisisSet = func() map[string]bool {
	m := map[string]bool{}
	add := func(p string) {
		ws := strings.Fields(normalise(p))
		m[strings.Join(ws, " ")] = true
		maxPhraseWords = max(maxPhraseWords, len(ws))
	}
	for _, p := range crisisPhrases {
		add(p)
	}
	for _, s := range abuseSubjects {
		for _, a := range abuseActs {
			add(s + " " + a)
		}
	}
	return m
}()

// fearPhrases ("scared of him") are about a person only when no verb in
// -ing follows: "scared of him" is, "scared of him finding out" is not.
var fearPhrases = func() map[string]bool {
	m := map[string]bool{}
	for _, f := range []string{"afraid", "scared", "terrified"} {
		for _, o := range []string{"him", "her"} {
			m[f+" of "+o] = true
		}
	}
	return m
}()

// maxPhraseWords is the number of words of the longest phrase, set as
// crisisSet is built.
var maxPhraseWords int

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
			if p := norm[start:end]; crisisSet[p] {
				if fearPhrases[p] && end < len(norm) && gerund(norm[end+1:]) {
					continue
				}
				return true
			}
		}
	}
	return false
}

// gerund reports whether the first word of s ends in "ing".
func gerund(s string) bool {
	w, _, _ := strings.Cut(s, " ")
	return len(w) > 4 && strings.HasSuffix(w, "ing")
}

// normalise lower-cases text, drops apostrophes (ASCII and typographic), and
// replaces everything but letters and digits with spaces.
func normalise(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r == '\'' || r == '\u2019' || r == '\u2018' || r == '`':
			// "won't" and "wont" are the same word
		case r == '-':
			// "self-harm" and "self harm" are the same phrase
			b.WriteByte(' ')
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(unicode.ToLower(r))
		default:
			b.WriteByte(' ')
		}
	}
	return b.String()
}
