package bot_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/trustbot/trustbot/bot"
)

// crisisSet is the test set for DetectCrisis: messages a person might
// write, each labelled with whether it must get the safety answer. The
// hard cases (figures of speech in a relationship's own words) are
// deliberately included; the rates below are measured on all of them.
var crisisSet = []struct {
	group string // suicide, abuse, control, feelings, figure
	text  string
	want  bool
}{
	// Suicide and self-harm.
	{"suicide", "I want to kill myself", true},
	{"suicide", "Sometimes I think about suicide.", true},
	{"suicide", "I've been cutting myself again", true},
	{"suicide", "everyone would be better off without me", true},
	{"suicide", "I don't want to be alive anymore", true},
	{"suicide", "I just want to go to sleep and never wake up", true},
	{"suicide", "I've been thinking about taking all my pills", true},
	{"suicide", "there is no point in living anymore", true},
	{"suicide", "I wish I was dead", true},
	{"suicide", "I hurt myself last night so I could feel something", true},
	{"suicide", "i wanna die", true},
	{"suicide", "I'm going to end it all tonight", true},
	{"suicide", "I took too many pills an hour ago", true},
	{"suicide", "I keep thinking about jumping off the bridge near work", true},
	{"suicide", "I feel suicidal", true},
	{"suicide", "honestly i could kms", true},
	{"suicide", "I've written goodbye letters to my kids", true},
	{"suicide", "I DON’T WANT TO WAKE UP tomorrow", true},
	{"suicide", "self-harm has been on my mind", true},
	{"suicide", "He says if I leave he'll kill himself", true},

	// Violence, sexual violence and threats.
	{"abuse", "He hit me last night", true},
	{"abuse", "my husband threatened to kill me if I leave", true},
	{"abuse", "She choked me during the argument", true},
	{"abuse", "He pushed me against the wall and I hit my head", true},
	{"abuse", "My boyfriend punched me in the face", true},
	{"abuse", "he forced me to have sex with him", true},
	{"abuse", "I'm scared he'll hurt me again", true},
	{"abuse", "My partner threw a plate at me", true},
	{"abuse", "he has a gun and said he'd use it", true},
	{"abuse", "I'm afraid for my life", true},
	{"abuse", "My ex is stalking me", true},
	{"abuse", "There's domestic violence in my home", true},
	{"abuse", "My wife slaps me when she's drunk", true},
	{"abuse", "he gets violent when he drinks", true},
	{"abuse", "I'm not safe at home", true},
	{"abuse", "I'm terrified of him", true},
	{"abuse", "she's violent with me when nobody is around", true},

	// Coercive control: isolation, money, movement, phone, children, fear.
	{"control", "he won't let me leave the house", true},
	{"control", "She won't let me see my friends anymore", true},
	{"control", "He controls my money and gives me an allowance", true},
	{"control", "He took my phone away so I couldn't call anyone", true},
	{"control", "I have to ask his permission to go anywhere", true},
	{"control", "He tracks my phone and checks where I am all day", true},
	{"control", "He threatened to take the kids if I tell anyone", true},
	{"control", "She cut me off from my family", true},
	{"control", "I'm not allowed to go out without him", true},
	{"control", "He locked me in the bedroom", true},
	{"control", "He smashed my phone so I can't call for help", true},
	{"control", "I'm afraid of what he'll do if he finds out", true},
	{"control", "He punched the wall next to my head", true},
	{"control", "He takes all my money as soon as I'm paid", true},
	{"control", "she watches everything and won't let me have friends", true},
	{"control", "I have to hide from him when he's angry", true},
	{"control", "he said no one will believe me if I tell", true},
	{"control", "I'm scared to go home tonight", true},

	// Ordinary hard feelings: the work of this program, not a crisis.
	{"feelings", "I feel so hurt and angry tonight", false},
	{"feelings", "I can't stop crying since I found the messages", false},
	{"feelings", "I don't know if I can ever trust him again", false},
	{"feelings", "My heart feels broken", false},
	{"feelings", "I hate what she did to us", false},
	{"feelings", "I'm so lonely, even when he's in the room", false},
	{"feelings", "I feel stupid for believing his lies", false},
	{"feelings", "Some days I just want to scream", false},
	{"feelings", "I'm scared he'll cheat again", false},
	{"feelings", "I'm afraid of losing her", false},
	{"feelings", "he hurt me so much with the lies", false},
	{"feelings", "she pushed me away for weeks", false},
	{"feelings", "our marriage is in danger", false},
	{"feelings", "I can't go on like this, we need to talk", false},
	{"feelings", "I checked his phone and found the texts", false},
	{"feelings", "She took my phone and read the messages", false},
	{"feelings", "We had a huge fight and I slept on the couch", false},
	{"feelings", "I want to leave him but I'm not sure", false},
	{"feelings", "It hit me last night how much I hurt her", false},
	{"feelings", "He won't let me finish a sentence when we argue", false},
	{"feelings", "I'm afraid of him finding out about the money I spent", false},
	{"feelings", "Forgiving her feels impossible right now", false},
	{"feelings", "I'm tired of living with his lies", false},
	{"feelings", "What's the point of living together if we can't be honest", false},
	{"feelings", "I'm not allowed to leave work early, so we talk at night", false},

	// Figures of speech.
	{"figure", "I could kill for a coffee", false},
	{"figure", "this job is killing me slowly", false},
	{"figure", "I nearly died of embarrassment", false},
	{"figure", "I'm dying to know what she thinks", false},
	{"figure", "that joke killed me", false},
	{"figure", "I could have died when he found the texts", false},
	{"figure", "My feet are killing me after that walk", false},
	{"figure", "I was dead tired after work", false},
	{"figure", "We're dead in the water unless we talk", false},
	{"figure", "She hit the roof when she saw the bill", false},
	{"figure", "He hits the gym every morning before work", false},
	{"figure", "My phone died in the middle of the call", false},
	{"figure", "He threw me a surprise party last year", false},
	{"figure", "He dragged me to his parents' dinner again", false},
	{"figure", "I'd never wake up on time without an alarm", false},
	{"figure", "She'll kill me if I forget our anniversary again", false},
}

// TestDetectCrisis_testSet measures DetectCrisis on crisisSet: recall on
// the messages that need the safety answer must be 100%; false alarms on
// the rest are reported and kept at or under the rate reached.
func TestDetectCrisis_testSet(t *testing.T) {
	var pos, neg, hits, alarms int
	byGroup := map[string][2]int{} // detected, total
	for _, tc := range crisisSet {
		got := bot.DetectCrisis(tc.text)
		g := byGroup[tc.group]
		g[1]++
		if got {
			g[0]++
		}
		byGroup[tc.group] = g
		if tc.want {
			pos++
			if got {
				hits++
			} else {
				t.Errorf("missed (%s): %q, want the safety answer", tc.group, tc.text)
			}
			continue
		}
		neg++
		if got {
			alarms++
			t.Logf("false alarm (%s): %q", tc.group, tc.text)
		}
	}
	if n := len(crisisSet); n < 60 {
		t.Fatalf("the test set has %d messages, want at least 60", n)
	}
	recall := float64(hits) / float64(pos)
	falseAlarms := float64(alarms) / float64(neg)
	var groups []string
	for _, g := range []string{"suicide", "abuse", "control", "feelings", "figure"} {
		groups = append(groups, g+" "+strconv.Itoa(byGroup[g][0])+"/"+strconv.Itoa(byGroup[g][1]))
	}
	t.Logf("crisis test set: %d messages; recall %d/%d = %.1f%%; false alarms %d/%d = %.1f%% (detected per group: %s)",
		len(crisisSet), hits, pos, 100*recall, alarms, neg, 100*falseAlarms, strings.Join(groups, ", "))
	if recall < 1 {
		t.Errorf("recall %.1f%%, want 100%%", 100*recall)
	}
	// One known false alarm: "she'll kill me if I forget" reads like a real
	// threat ("he'll kill me if I leave"), and a missed threat costs more.
	if maxFalse := 1.0 / 41; falseAlarms > maxFalse {
		t.Errorf("false alarms %.1f%%, want at most %.1f%%", 100*falseAlarms, 100*maxFalse)
	}
}

// FuzzDetectCrisis: any text is handled, and only words count: the same
// words with other punctuation, quotes or letter case around them are
// judged alike.
func FuzzDetectCrisis(f *testing.F) {
	for _, tc := range crisisSet {
		f.Add(tc.text)
	}
	f.Add("")
	f.Add("'''")
	f.Add("afraid of him ing")
	f.Fuzz(func(t *testing.T, s string) {
		got := bot.DetectCrisis(s)
		for _, v := range []string{"«" + s + "»", "(" + s + ")!", "\n" + s + " ..."} {
			if bot.DetectCrisis(v) != got {
				t.Fatalf("DetectCrisis(%q) = %v but DetectCrisis(%q) = %v", s, got, v, !got)
			}
		}
	})
}
