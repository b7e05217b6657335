package bot_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trustbot/trustbot/bot"
	"github.com/trustbot/trustbot/storage"
)

// firstLine is what a notification preview shows of a reply.
func firstLine(r bot.Reply) string {
	line, _, _ := strings.Cut(r.Text.String(), "\n")
	return line
}

// topicWords give away what the bot is about; no preview of a discreet
// person's messages may hold one.
var topicWords = []string{"trust", "betray", "partner", "relationship", "affair", "cheat", "forgiv",
	"marri", "husband", "wife", "couple", "abus", "violen", "crisis", "suicid", "helpline", "danger",
	"safe", "hurt", "rebuild", "emergency"}

func revealing(s string) string {
	s = strings.ToLower(s)
	for _, w := range topicWords {
		if strings.Contains(s, w) {
			return w
		}
	}
	return ""
}

func TestDiscreet(t *testing.T) {
	h := started(t)
	rs := h.send("/discreet")
	mustContain(t, rs, "Discreet mode is off")
	if as := buttons(rs); len(as) != 1 || as[0] != (bot.Action{Kind: bot.ActDiscreet, Arg: "on"}) {
		t.Fatalf("/discreet buttons = %v, want one to turn it on", as)
	}
	mustContain(t, h.send("/discreet maybe"), "/discreet on or /discreet off")
	mustContain(t, h.press(bot.Action{Kind: bot.ActDiscreet, Arg: "on"}), "Discreet mode is on", "Your daily note is ready", "previews")
	if !h.user().Discreet {
		t.Fatal("discreet mode is not stored")
	}
	h.send("/country GB")

	// Every reply is protected, and none opens with a line that gives the
	// topic away.
	for _, in := range []string{"/start", "/step", "/step 1", "/next", "/journal", "/progress", "/help", "/about",
		"/privacy", "/role", "/country", "/discreet", "I keep replaying the night I found out.",
		"he hit me again tonight", "/safetyplan", "I stop sleeping", "/time 21:00", "/export", "/delete"} {
		for i, r := range h.send(in) {
			if !r.Protect {
				t.Errorf("%q: reply %d is not protected", in, i)
			}
			if w := revealing(firstLine(r)); w != "" {
				t.Errorf("%q: reply %d opens with %q, which gives away %q", in, i, firstLine(r), w)
			}
		}
	}
	for _, a := range []bot.Action{{Kind: bot.ActMood, Arg: "unsafe"}, {Kind: bot.ActPlan, Arg: "stop"}, {Kind: bot.ActRole, Arg: "hurt"}} {
		for i, r := range h.press(a) {
			if !r.Protect || revealing(firstLine(r)) != "" {
				t.Errorf("%v: reply %d protect=%v, first line %q", a, i, r.Protect, firstLine(r))
			}
		}
	}

	// The daily prompt says only that a note is ready.
	u := h.user()
	rs = h.eng.Nudge(u)
	if len(rs) != 1 || rs[0].Text.String() != "Your daily note is ready." || !rs[0].Protect {
		t.Fatalf("discreet daily prompt = %q (protect %v), want only %q, protected", all(rs), len(rs) > 0 && rs[0].Protect, "Your daily note is ready.")
	}
	if u.LastPrompt == "" {
		t.Fatal("the discreet prompt did not move to the next question")
	}
	// Opening it shows the question.
	mustContain(t, h.press(buttons(rs)[0]), h.user().LastPrompt)

	mustContain(t, h.send("/discreet off"), "Discreet mode is off")
	if h.user().Discreet {
		t.Fatal("discreet mode is still on")
	}
	for _, r := range h.send("/step") {
		if r.Protect {
			t.Fatal("a reply is protected after /discreet off")
		}
	}
	u = h.user()
	mustContain(t, h.eng.Nudge(u), " of 10 — ", u.LastPrompt)
}

// storeWiper is what an adapter's Wiper does, on a platform where the bot
// deletes its own messages and, if theirs is set, the person's: it reads
// the message log in storage, deletes (here: records) what it may, and
// forgets what it deleted. fail lists ids the platform refuses.
type storeWiper struct {
	log     *storage.Store
	theirs  bool
	fail    map[string]bool
	err     error
	deleted []string
}

func (w *storeWiper) Wipe(ctx context.Context, chat bot.Address, since time.Time) (bot.WipeResult, error) {
	var res bot.WipeResult
	if w.err != nil {
		return res, w.err
	}
	ms, err := w.log.RecentMessages(ctx, chat.Platform, chat.ChatID, since)
	if err != nil {
		return res, err
	}
	var gone []string
	for _, m := range ms {
		switch {
		case !m.FromBot && !w.theirs:
			res.TheirsKept++
		case w.fail[m.ID]:
			res.Failed++
		default:
			res.Removed++
			gone = append(gone, m.ID)
		}
	}
	w.deleted = append(w.deleted, gone...)
	return res, w.log.ForgetMessages(ctx, chat.Platform, chat.ChatID, gone)
}

func (h *harness) record(ids ...string) {
	h.t.Helper()
	var ms []bot.ChatMessage
	for i, id := range ids {
		ms = append(ms, bot.ChatMessage{ID: id, FromBot: i%2 == 1, At: h.clock.Now()})
	}
	if err := h.store.RecordMessages(context.Background(), bot.PlatformTelegram, alice, ms); err != nil {
		h.t.Fatal(err)
	}
}

func TestWipe(t *testing.T) {
	t.Run("NoWiper", func(t *testing.T) {
		h := started(t)
		rs := h.send("/wipe")
		mustContain(t, rs, "can't remove messages here")
		if len(buttons(rs)) != 0 {
			t.Fatalf("/wipe without a wiper offers buttons: %v", buttons(rs))
		}
		if as := buttons(h.send("/delete")); len(as) != 2 {
			t.Fatalf("/delete without a wiper: buttons %v, want delete and cancel only", as)
		}
	})

	tests := []struct {
		name   string
		theirs bool
		fail   map[string]bool
		wants  []string
		nots   []string
		gone   []string
	}{
		{"Telegram", true, nil, []string{"removed 4 messages", "older than 48 hours", "journal is still stored"}, []string{"could not", "you sent"}, []string{"1", "2", "3", "4"}},
		{"DiscordKeepsTheirs", false, nil, []string{"removed 2 messages", "The 2 messages you sent are still there", "delete them yourself"}, []string{"could not"}, []string{"2", "4"}},
		{"SomeRefused", true, map[string]bool{"3": true}, []string{"removed 3 messages", "1 message could not be removed"}, nil, []string{"1", "2", "4"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := started(t)
			w := &storeWiper{log: h.store, theirs: tt.theirs, fail: tt.fail}
			h.eng.SetWiper(bot.PlatformTelegram, w)
			h.record("1", "2", "3", "4")
			h.clock.Advance(time.Hour)
			rs := h.send("/wipe")
			if as := buttons(rs); len(as) != 2 || as[0].Kind != bot.ActWipe || as[1].Kind != bot.ActWipeCancel {
				t.Fatalf("/wipe buttons = %v, want [wipe nowipe]", as)
			}
			mustContain(t, h.press(bot.Action{Kind: bot.ActWipeCancel}), "Nothing was removed")
			if len(w.deleted) != 0 {
				t.Fatal("cancel deleted messages")
			}
			rs = h.press(bot.Action{Kind: bot.ActWipe})
			mustContain(t, rs, tt.wants...)
			mustNotContain(t, rs, tt.nots...)
			if !slices.Equal(w.deleted, tt.gone) {
				t.Fatalf("deleted %v, want %v", w.deleted, tt.gone)
			}
			// A second wipe finds only what could not go.
			w.deleted = nil
			h.press(bot.Action{Kind: bot.ActWipe})
			if len(w.deleted) != 0 {
				t.Fatalf("a second wipe deleted %v again", w.deleted)
			}
			if n, _ := h.store.CountReflections(context.Background(), h.user().ID, 0); n != 0 {
				t.Fatalf("wiping stored %d reflections", n)
			}
		})
	}

	t.Run("OldMessagesOutOfReach", func(t *testing.T) {
		h := started(t)
		w := &storeWiper{log: h.store, theirs: true}
		h.eng.SetWiper(bot.PlatformTelegram, w)
		h.record("1", "2")
		h.clock.Advance(49 * time.Hour)
		mustContain(t, h.press(bot.Action{Kind: bot.ActWipe}), "nothing I could remove")
	})

	t.Run("Error", func(t *testing.T) {
		h := started(t)
		h.eng.SetWiper(bot.PlatformTelegram, &storeWiper{log: h.store, err: errors.New("telegram: 502")})
		in := h.in("")
		in.Action = &bot.Action{Kind: bot.ActWipe}
		rs, err := h.eng.Handle(context.Background(), in)
		if err == nil {
			t.Fatal("a failed wipe returned no error to log")
		}
		mustContain(t, rs, "Something went wrong")
		mustNotContain(t, rs, "502")
	})

	t.Run("DeleteAndWipe", func(t *testing.T) {
		h := started(t)
		w := &storeWiper{log: h.store, theirs: true}
		h.eng.SetWiper(bot.PlatformTelegram, w)
		h.send("a reflection")
		h.record("1", "2")
		as := buttons(h.send("/delete"))
		if len(as) != 3 || as[2].Kind != bot.ActDeleteWipe {
			t.Fatalf("/delete with a wiper: buttons %v, want delete, cancel, and delete-and-clear", as)
		}
		rs := h.press(as[2])
		mustContain(t, rs, "removed 2 messages", "everything I kept about you is erased")
		if _, err := h.store.User(context.Background(), bot.PlatformTelegram, alice); bot.ErrorCode(err) != bot.ENOTFOUND {
			t.Fatalf("after delete-and-clear the user is still there: %v", err)
		}
		// The chat can still be cleared after /delete: it is not the journal.
		h.record("3", "4")
		mustContain(t, h.send("/wipe"), "Clear this chat?")
		rs = h.press(bot.Action{Kind: bot.ActWipe})
		mustContain(t, rs, "removed 2 messages")
		mustNotContain(t, rs, "journal is still stored")
		if _, err := h.store.User(context.Background(), bot.PlatformTelegram, alice); bot.ErrorCode(err) != bot.ENOTFOUND {
			t.Fatalf("/wipe after /delete created a user: %v", err)
		}
	})
}

func TestCountry(t *testing.T) {
	h := started(t)
	tests := []struct {
		text  string
		wants []string
		want  string // stored country
	}{
		{"/country", []string{"I don't know your country yet", "Germany (DE)", "the United Kingdom (GB)"}, ""},
		{"/country de", []string{"Done: Germany", "TelefonSeelsorge", "0800 111 0 111", "116 016"}, "DE"},
		{"/country", []string{"Your country is Germany (DE)"}, "DE"},
		{"/country uk", []string{"Done: the United Kingdom", "Samaritans", "116 123", "0808 2000 247"}, "GB"},
		{"/country Germany", []string{"two letters"}, "GB"},
		{"/country 12", []string{"two letters"}, "GB"},
		{"/country ZZ", []string{"noted ZZ", "findahelpline.com"}, "ZZ"},
		{"/country off", []string{"forgotten your country"}, ""},
		{"/country us", []string{"911", "988", "1-800-799-7233", "START to 88788"}, "US"},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			mustContain(t, h.send(tt.text), tt.wants...)
			if got := h.user().Country; got != tt.want {
				t.Fatalf("country = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCrisisAnswer(t *testing.T) {
	crisis := "Some nights I want to end my life."
	t.Run("UnknownCountry", func(t *testing.T) {
		h := started(t)
		rs := h.send(crisis)
		if len(rs) != 1 {
			t.Fatalf("crisis answer: %d replies, want one", len(rs))
		}
		mustContain(t, rs, "Couples work is not advised while someone is unsafe", "findahelpline.com", "/country")
		for _, r := range h.eng.Program.Crisis.Resources {
			mustContain(t, rs, r.Contact)
		}
		mustNotContain(t, rs, "To reflect on", "For today", "Step 1 of")
		as := buttons(rs)
		if len(as) != 2 || as[0].Kind != bot.ActPause || as[1] != (bot.Action{Kind: bot.ActPlan, Arg: "start"}) {
			t.Fatalf("crisis buttons = %v, want [Pause the program] [Make a safety plan]", as)
		}
		mustContain(t, h.press(as[0]), "paused")
		if !h.user().Paused {
			t.Fatal("Pause the program did not pause")
		}
		mustContain(t, h.press(as[1]), "A safety plan is", "1 of 4: Warning signs")
	})
	t.Run("KnownCountry", func(t *testing.T) {
		h := started(t)
		h.send("/country AU")
		rs := h.send("my boyfriend punched me in the face")
		mustContain(t, rs, "000", "13 11 14", "1800 737 732", "Couples work is not advised")
		mustNotContain(t, rs, "988", "/country", "For today")
	})
	t.Run("StrangerGetsGeneralLines", func(t *testing.T) {
		h := newHarness(t)
		rs := h.send("he won't let me see my friends and took my phone away")
		mustContain(t, rs, "findahelpline.com")
		if len(buttons(rs)) != 0 {
			t.Fatalf("a stranger's crisis answer has buttons %v; there is nobody to pause", buttons(rs))
		}
	})
	t.Run("UnsafeCheckIn", func(t *testing.T) {
		h := started(t)
		h.send("/country NZ")
		rs := h.press(bot.Action{Kind: bot.ActMood, Arg: "unsafe"})
		mustContain(t, rs, "111", "0800 543 354", "1737", "Couples work is not advised")
		if len(buttons(rs)) != 2 {
			t.Fatalf("unsafe check-in buttons %v, want pause and safety plan", buttons(rs))
		}
	})
}

func TestSafetyPlanFlow(t *testing.T) {
	h := started(t)
	ctx := context.Background()
	plan := func() bot.SafetyPlan {
		t.Helper()
		p, err := h.store.SafetyPlan(ctx, h.user().ID)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	reflections := func() int {
		n, _ := h.store.CountReflections(ctx, h.user().ID, 0)
		return n
	}

	rs := h.send("/safetyplan")
	mustContain(t, rs, "A plan for hard moments", "A safety plan is a short list", "1 of 4: Warning signs")
	if u := h.user(); u.Flow != bot.FlowSafetyPlan || u.FlowStep != 0 {
		t.Fatalf("flow = %q/%d, want safetyplan/0", u.Flow, u.FlowStep)
	}

	steps := []struct {
		name  string
		send  string
		press *bot.Action
		wants []string
		step  int
		flow  bot.Flow
	}{
		{"Answer1", "I stop sleeping and stop eating", nil, []string{"Kept.", "2 of 4: Things that calm me"}, 1, bot.FlowSafetyPlan},
		{"Skip2", "", &bot.Action{Kind: bot.ActPlan, Arg: "skip"}, []string{"3 of 4: People I can contact"}, 2, bot.FlowSafetyPlan},
		{"Stop", "", &bot.Action{Kind: bot.ActPlan, Arg: "stop"}, []string{"Stopped here", "picks up where you left off"}, 0, bot.FlowNone},
		{"TextAfterStopIsAReflection", "Today was calmer.", nil, nil, 0, bot.FlowNone},
		{"Resume", "/safetyplan", nil, []string{"Your safety plan", "I stop sleeping", "not written yet", "2 of 4: Things that calm me"}, 1, bot.FlowSafetyPlan},
		{"Answer2", "A walk by the river", nil, []string{"3 of 4: People I can contact"}, 2, bot.FlowSafetyPlan},
		{"CrisisAnswerIsKept", "my sister, but when I want to die I can't call anyone", nil, []string{"Couples work is not advised"}, 3, bot.FlowSafetyPlan},
		{"GoOn", "", &bot.Action{Kind: bot.ActPlan, Arg: "continue"}, []string{"4 of 4: Safe places"}, 3, bot.FlowSafetyPlan},
		{"Answer4", "my sister's flat", nil, []string{"That's your safety plan", "Your safety plan", "my sister's flat", "A walk by the river", "Help, any time"}, 0, bot.FlowNone},
		{"ShowComplete", "/safetyplan", nil, []string{"Your safety plan", "I stop sleeping"}, 0, bot.FlowNone},
		{"Redo", "", &bot.Action{Kind: bot.ActPlan, Arg: "redo"}, []string{"1 of 4: Warning signs", "What you wrote before: ", "I stop sleeping"}, 0, bot.FlowSafetyPlan},
		{"KeepIt", "", &bot.Action{Kind: bot.ActPlan, Arg: "skip"}, []string{"2 of 4"}, 1, bot.FlowSafetyPlan},
		{"CommandEndsFlow", "/step", nil, []string{"Step 1 of 10"}, 0, bot.FlowNone},
	}
	for _, st := range steps {
		before := reflections()
		var rs []bot.Reply
		if st.press != nil {
			rs = h.press(*st.press)
		} else {
			rs = h.send(st.send)
		}
		mustContain(t, rs, st.wants...)
		if st.name == "CrisisAnswerIsKept" {
			if as := buttons(rs); len(as) != 2 || as[0] != (bot.Action{Kind: bot.ActPlan, Arg: "continue"}) || as[1].Kind != bot.ActPause {
				t.Fatalf("crisis answer in the flow: buttons %v, want [Go on with my safety plan] [Pause the program]", as)
			}
		}
		u := h.user()
		if u.Flow != st.flow || u.FlowStep != st.step {
			t.Fatalf("%s: flow = %q/%d, want %q/%d", st.name, u.Flow, u.FlowStep, st.flow, st.step)
		}
		wantReflections := before
		if st.name == "TextAfterStopIsAReflection" {
			wantReflections++
		}
		if got := reflections(); got != wantReflections {
			t.Fatalf("%s: %d reflections, want %d: answers to the plan are not journal entries", st.name, got, wantReflections)
		}
	}
	want := bot.SafetyPlan{WarningSigns: "I stop sleeping and stop eating", Calming: "A walk by the river",
		People: "my sister, but when I want to die I can't call anyone", Places: "my sister's flat"}
	got := plan()
	got.UpdatedAt = time.Time{}
	if got != want {
		t.Fatalf("stored plan = %+v, want %+v", got, want)
	}
	as := buttons(h.send("/safetyplan"))
	if len(as) != 1 || as[0] != (bot.Action{Kind: bot.ActPlan, Arg: "redo"}) {
		t.Fatalf("complete plan buttons = %v, want one to change it", as)
	}

	// /progress mentions it, /export includes it, /delete erases it.
	mustContain(t, h.send("/progress"), "Safety plan: 4 of 4 parts written")
	x := exportOf(t, h)
	if x.SafetyPlan == nil || x.SafetyPlan.Places != "my sister's flat" || x.SafetyPlan.WarningSigns != want.WarningSigns {
		t.Fatalf("export safety plan = %+v", x.SafetyPlan)
	}
	id := h.user().ID
	h.send("/delete")
	h.press(bot.Action{Kind: bot.ActDeleteConfirm})
	if p, err := h.store.SafetyPlan(ctx, id); err != nil || !p.Empty() {
		t.Fatalf("safety plan after /delete = %+v, %v; want none", p, err)
	}

	t.Run("TooLong", func(t *testing.T) {
		h := started(t)
		h.send("/safetyplan")
		mustContain(t, h.send(strings.Repeat("x", bot.MaxPlanAnswerRunes+1)), "Nothing was saved yet")
		if u := h.user(); u.FlowStep != 0 || u.Flow != bot.FlowSafetyPlan {
			t.Fatalf("a refused answer moved the flow to %q/%d", u.Flow, u.FlowStep)
		}
	})
}

func exportOf(t *testing.T, h *harness) bot.Export {
	t.Helper()
	rs := h.send("/export")
	if len(rs) != 1 || rs[0].Doc == nil {
		t.Fatalf("export = %s, want a document", all(rs))
	}
	var x bot.Export
	if err := json.Unmarshal(rs[0].Doc.Data, &x); err != nil {
		t.Fatal(err)
	}
	return x
}

// The role changes the wording, never the program: the one who broke trust
// hears about ownership and change; the hurt partner about needs and
// limits, and is never asked to forgive.
func TestRoles(t *testing.T) {
	push := []string{"should forgive", "need to forgive", "ready to forgive", "time to forgive", "let it go", "move on", "forgive him", "forgive her", "forgive them"}
	tests := []struct {
		role  bot.Role
		wants []string
	}{
		{bot.RoleHurt, []string{"what you need", "never push you to forgive"}},
		{bot.RoleRepairing, []string{"owning what happened", "what you are changing"}},
		{bot.RoleTogether, []string{"for the two of you"}},
		{bot.RoleNone, []string{"/role"}},
	}
	for _, tt := range tests {
		t.Run(string(tt.role)+"_", func(t *testing.T) {
			h := newHarness(t)
			h.send("/start")
			rs := h.press(bot.Action{Kind: bot.ActRole, Arg: string(tt.role)})
			mustContain(t, rs, tt.wants...)
			u := h.user()
			st, _ := h.eng.Program.Step(1)
			if want := st.Prompts[u.PromptIndex].For(tt.role); u.LastPrompt != want {
				t.Fatalf("the question after choosing %q is %q, want it worded for the role: %q", tt.role, u.LastPrompt, want)
			}
			acks := map[string]bool{}
			for i := range 6 {
				ack := all(h.send("thought " + string(rune('a'+i))))
				acks[ack] = true
				if tt.role == bot.RoleHurt {
					for _, p := range push {
						if strings.Contains(strings.ToLower(ack), p) {
							t.Fatalf("hurt acknowledgment %q contains %q", ack, p)
						}
					}
				}
			}
			if len(acks) < 4 {
				t.Fatalf("six reflections got %d different acknowledgments, want variety", len(acks))
			}
			// The daily prompt is worded for the role too.
			u = h.user()
			rs = h.eng.Nudge(u)
			mustContain(t, rs, u.LastPrompt)
			if tt.role == bot.RoleHurt {
				mustContain(t, rs, "nothing to decide")
			}
		})
	}
	t.Run("RepairingAndHurtDiffer", func(t *testing.T) {
		ack := func(r bot.Role) string {
			h := newHarness(t)
			h.send("/start")
			h.press(bot.Action{Kind: bot.ActRole, Arg: string(r)})
			return all(h.send("a thought"))
		}
		if a, b := ack(bot.RoleRepairing), ack(bot.RoleHurt); a == b {
			t.Fatalf("both roles got the acknowledgment %q", a)
		}
	})
	t.Run("RoleCommand", func(t *testing.T) {
		h := started(t)
		rs := h.send("/role")
		mustContain(t, rs, "haven't told me")
		if got := len(buttons(rs)); got != 4 {
			t.Fatalf("/role has %d buttons, want the three roles and skip", got)
		}
		h.press(bot.Action{Kind: bot.ActRole, Arg: "repairing"})
		mustContain(t, h.send("/role"), "You told me that you broke the trust")
		if h.user().Role != bot.RoleRepairing {
			t.Fatal("role not changed")
		}
	})
}

// Every CheckInEvery days the daily prompt asks how things are; the
// answers are stored, shape the pace, and show in /progress and /export.
func TestCheckIn(t *testing.T) {
	h := planned(t)
	u := h.user()
	// The first days ask questions; the fourth asks how things are.
	for day := range 4 {
		rs := h.eng.Nudge(u)
		mustNotContain(t, rs, "How are things today?")
		if day < 3 {
			h.clock.Advance(24 * time.Hour)
		}
	}
	h.clock.Advance(24 * time.Hour)
	prompt := u.LastPrompt
	rs := h.eng.Nudge(u)
	mustContain(t, rs, "How are things today?")
	want := []bot.Action{{Kind: bot.ActMood, Arg: "better"}, {Kind: bot.ActMood, Arg: "same"}, {Kind: bot.ActMood, Arg: "harder"}, {Kind: bot.ActMood, Arg: "unsafe"}}
	if got := buttons(rs); !slices.Equal(got, want) {
		t.Fatalf("check-in buttons = %v, want %v", got, want)
	}
	if u.LastPrompt != prompt {
		t.Fatal("a check-in moved on to another question")
	}
	if !u.CheckInAt.Equal(h.clock.Now()) {
		t.Fatalf("CheckInAt = %v, want now (%v)", u.CheckInAt, h.clock.Now())
	}
	// The same day again (a retry of an undelivered prompt) asks again;
	// the next days ask questions.
	mustContain(t, h.eng.Nudge(u), "How are things today?")
	for range bot.CheckInEvery - 1 {
		h.clock.Advance(24 * time.Hour)
		mustNotContain(t, h.eng.Nudge(u), "How are things today?")
	}
	h.clock.Advance(24 * time.Hour)
	mustContain(t, h.eng.Nudge(u), "How are things today?")

	tests := []struct {
		mood  string
		wants []string
		acts  []bot.ActionKind
		pace  int
	}{
		{"better", []string{"Good to hear", "question for today"}, []bot.ActionKind{bot.ActReflect}, 0},
		{"same", []string{"Steady days count too", "question for today"}, []bot.ActionKind{bot.ActReflect}, 0},
		{"harder", []string{"sorry today is harder", "every other day", "/safetyplan"}, []bot.ActionKind{bot.ActPace, bot.ActPace, bot.ActPause}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.mood, func(t *testing.T) {
			rs := h.press(bot.Action{Kind: bot.ActMood, Arg: tt.mood})
			mustContain(t, rs, tt.wants...)
			var kinds []bot.ActionKind
			for _, a := range buttons(rs) {
				kinds = append(kinds, a.Kind)
			}
			if !slices.Equal(kinds, tt.acts) {
				t.Fatalf("buttons %v, want %v", kinds, tt.acts)
			}
			h.clock.Advance(24 * time.Hour)
		})
	}

	// "Harder" offers every other day; the scheduler plans it (see
	// scheduler.TestSweep_pace).
	mustContain(t, h.press(bot.Action{Kind: bot.ActPace, Arg: "2"}), "every other day")
	if got := h.user().Pace; got != 2 {
		t.Fatalf("pace = %d, want 2", got)
	}
	mustContain(t, h.send("/progress"), "A prompt every other day at")
	rs = h.press(bot.Action{Kind: bot.ActMood, Arg: "better"})
	mustContain(t, rs, "daily again")
	mustContain(t, h.press(bot.Action{Kind: bot.ActPace, Arg: "1"}), "a prompt every day")
	mustContain(t, h.send("/pace"), "every day")
	mustContain(t, h.send("/pace alternate"), "every other day")
	mustContain(t, h.send("/pace sometimes"), "/pace daily or /pace alternate")
	if got := h.user().Pace; got != 2 {
		t.Fatalf("pace after /pace alternate = %d, want 2", got)
	}

	// The answers are a mood line that /progress draws, one symbol a day.
	h.clock.Advance(24 * time.Hour)
	h.press(bot.Action{Kind: bot.ActMood, Arg: "unsafe"})
	rs = h.send("/progress")
	mustContain(t, rs, "How things have been", "+ better", "! not safe", "· no answer")
	chart := all(rs)
	for _, sym := range []string{"+", "=", "-", "!"} {
		if !strings.Contains(chart[strings.Index(chart, "How things have been"):], " "+sym) {
			t.Fatalf("the chart lacks %q:\n%s", sym, chart)
		}
	}
	x := exportOf(t, h)
	var moods []string
	for _, m := range x.CheckIns {
		moods = append(moods, string(m.Mood))
	}
	if want := []string{"better", "same", "harder", "better", "unsafe"}; !slices.Equal(moods, want) {
		t.Fatalf("exported check-ins %v, want %v", moods, want)
	}
	if !x.User.EveryOtherDay || x.User.LastCheckInAt != nil {
		t.Fatalf("export user: every other day %v, last check-in %v", x.User.EveryOtherDay, x.User.LastCheckInAt)
	}
}

// The mood chart has one line per week, Monday first, and one symbol per
// day up to today.
func TestMoodChart(t *testing.T) {
	h := started(t) // Wed 25 Nov 2026, 22:30 in Berlin
	ctx := context.Background()
	id := h.user().ID
	for date, m := range map[string]bot.Mood{
		"2026-11-02": bot.MoodHarder, // Monday three weeks back: the first day shown
		"2026-11-01": bot.MoodUnsafe, // the Sunday before: not shown
		"2026-11-18": bot.MoodSame,
		"2026-11-25": bot.MoodBetter, // today
	} {
		if err := h.store.SetMood(ctx, id, date, m); err != nil {
			t.Fatal(err)
		}
	}
	got := all(h.send("/progress"))
	want := "How things have been\nMon 2 Nov  - · · · · · ·\nMon 9 Nov  · · · · · · ·\nMon 16 Nov  · · = · · · ·\nMon 23 Nov  · · +\n+ better"
	if !strings.Contains(got, want) {
		t.Fatalf("/progress chart:\n%s\nwant it to contain:\n%s", got, want)
	}
	if strings.Contains(got, "Mon 26 Oct") || strings.Count(got, "!") != 1 {
		t.Fatalf("the chart shows a day before its first Monday:\n%s", got)
	}
}

func TestCareCommands(t *testing.T) {
	h := newHarness(t)
	help := all(h.send("/help"))
	for _, c := range []string{"discreet", "wipe", "country", "safetyplan", "role", "pace"} {
		found := false
		for _, ci := range bot.Commands {
			found = found || ci.Name == c
		}
		if !found {
			t.Errorf("/%s is not in bot.Commands, so platform menus miss it", c)
		}
		if !strings.Contains(help, "/"+c+" — ") {
			t.Errorf("/help does not list /%s", c)
		}
	}
	for _, a := range []bot.Action{
		{Kind: bot.ActDiscreet, Arg: "on"}, {Kind: bot.ActDiscreet, Arg: "off"}, {Kind: bot.ActWipe}, {Kind: bot.ActWipeCancel},
		{Kind: bot.ActDeleteWipe}, {Kind: bot.ActMood, Arg: "better"}, {Kind: bot.ActMood, Arg: "unsafe"},
		{Kind: bot.ActPace, Arg: "1"}, {Kind: bot.ActPace, Arg: "2"}, {Kind: bot.ActPlan, Arg: "start"},
		{Kind: bot.ActPlan, Arg: "continue"}, {Kind: bot.ActPlan, Arg: "redo"},
	} {
		if got, ok := bot.ParseAction(a.String()); !ok || got != a {
			t.Errorf("ParseAction(%q) = %+v, %v; want %+v", a.String(), got, ok, a)
		}
	}
	for _, s := range []string{"discreet", "discreet:maybe", "mood:fine", "pace:3", "plan:", "plan:jump", "wipe:1"} {
		if a, ok := bot.ParseAction(s); ok {
			t.Errorf("ParseAction(%q) = %+v, true; want false", s, a)
		}
	}
}
