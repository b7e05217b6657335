package scheduler_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trustbot/trustbot/bot"
	"github.com/trustbot/trustbot/content"
	"github.com/trustbot/trustbot/scheduler"
	"github.com/trustbot/trustbot/storage"
)

func TestSweep_oncePerLocalDay(t *testing.T) {
	h := newHarness(t, "2026-06-01 10:00")
	h.join("1")
	h.wantNext("1", "2026-06-01 18:00")

	if st := h.sweepAt("2026-06-01 17:59"); st.Due != 0 {
		t.Fatalf("a minute early: %+v, want nobody due", st)
	}
	h.wantCount("1", 0, "before 20:00")
	h.sweepAt("2026-06-01 18:00")
	h.wantCount("1", 1, "at 20:00")

	nudge := h.rec.last(t, "1")
	if !nudge.Personal {
		t.Error("the prompt is not marked personal")
	}
	mustContain(t, []bot.Reply{nudge}, "Step 1 of 10 — ")
	want := []bot.ActionKind{bot.ActReflect, bot.ActStep, bot.ActPause}
	var got []bot.ActionKind
	for _, row := range nudge.Buttons {
		for _, b := range row {
			got = append(got, b.Action.Kind)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("buttons: got %v, want %v", got, want)
	}
	if n := len([]rune(nudge.Text.String())); n > 600 {
		t.Errorf("the prompt is %d characters; want a short one", n)
	}

	for _, at := range []string{"2026-06-01 18:00", "2026-06-01 18:01", "2026-06-01 21:00"} {
		h.sweepAt(at)
	}
	h.wantCount("1", 1, "later the same day")
	h.restart()
	h.sweepAt("2026-06-01 18:30")
	h.wantCount("1", 1, "after a restart the same day")
	h.wantNext("1", "2026-06-02 18:00")

	h.restart()
	h.sweepAt("2026-06-02 18:00")
	h.wantCount("1", 2, "the next day, after another restart")
}

// Two processes on one database sweep at the same moment: every person
// gets exactly one prompt.
func TestSweep_concurrentSweeps(t *testing.T) {
	h := newHarness(t, "2026-06-01 10:00")
	const people = 60
	for i := range people {
		h.join(strconv.Itoa(i))
	}
	other, err := storage.Open(h.path) // a second process
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	_, second := h.build(other, h.rec)
	h.sched.Batch, second.Batch = 7, 7

	h.at("2026-06-01 18:00")
	var wg sync.WaitGroup
	stats := make([]scheduler.Stats, 2)
	for i, s := range []*scheduler.Scheduler{h.sched, second} {
		wg.Go(func() {
			st, err := s.Sweep(context.Background(), h.clock.Now())
			if err != nil {
				t.Errorf("sweep %d: %v", i, err)
			}
			stats[i] = st
		})
	}
	wg.Wait()
	for i := range people {
		h.wantCount(strconv.Itoa(i), 1, "after two concurrent sweeps")
	}
	if got := stats[0].Claimed + stats[1].Claimed; got != people {
		t.Errorf("claims: %d + %d, want %d in all", stats[0].Claimed, stats[1].Claimed, people)
	}
}

// blocker is a Sender whose sends wait until released (or their context
// ends), as a send in flight when the process dies.
type blocker struct {
	entered chan string
	release chan struct{}
}

func (b *blocker) Send(ctx context.Context, to bot.Address, _ []bot.Reply) error {
	b.entered <- to.UserID
	select {
	case <-b.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// A prompt whose send never reported back (the process died mid-send) is
// not sent again by the next process: at most once.
func TestSweep_crashMidSendIsNotResent(t *testing.T) {
	h := newHarness(t, "2026-06-01 10:00")
	h.join("1")

	stuck := &blocker{entered: make(chan string, 1), release: make(chan struct{})}
	dying, err := storage.Open(h.path)
	if err != nil {
		t.Fatal(err)
	}
	_, first := h.build(dying, stuck)
	sweepDone := make(chan struct{})
	go func() {
		defer close(sweepDone)
		first.Sweep(context.Background(), utc("2026-06-01 18:00"))
	}()
	select {
	case <-stuck.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the first process never started sending")
	}

	// The first process is frozen mid-send; "restart" on the same file.
	h.restart()
	for _, at := range []string{"2026-06-01 18:00", "2026-06-01 18:05", "2026-06-01 19:30"} {
		h.sweepAt(at)
	}
	h.wantCount("1", 0, "after the crash, the same day")
	h.sweepAt("2026-06-02 18:00")
	h.wantCount("1", 1, "the next day")

	close(stuck.release)
	<-sweepDone
	dying.Close()
}

func TestSweep_pauseAndResume(t *testing.T) {
	h := newHarness(t, "2026-06-01 10:00")
	h.join("1", "/pause")
	h.wantNext("1", "")
	h.sweepAt("2026-06-01 18:00")
	h.sweepAt("2026-06-02 18:00")
	h.wantCount("1", 0, "while paused")

	h.at("2026-06-03 10:00")
	mustContain(t, h.say("1", "/resume"), "on again", "The next one comes today at 20:00.")
	h.sweepAt("2026-06-03 18:00")
	h.wantCount("1", 1, "after /resume")

	// /pause 3 at 21:00 on the 3rd: until 21:00 on the 6th, so the next
	// prompt is on the 7th.
	h.at("2026-06-03 19:00")
	mustContain(t, h.say("1", "/pause 3"), "for 3 days")
	for _, day := range []string{"04", "05", "06"} {
		h.sweepAt("2026-06-" + day + " 18:00")
	}
	h.wantCount("1", 1, "during /pause 3")
	h.sweepAt("2026-06-07 18:00")
	h.wantCount("1", 2, "after the pause ran out")
	h.at("2026-06-07 19:00")
	mustContain(t, h.say("1", "/progress"), "Daily prompt at 20:00")

	// The prompt's own button pauses too.
	if _, err := h.eng.Handle(context.Background(), bot.Incoming{Platform: bot.PlatformTelegram, UserID: "1", ChatID: "c1", Private: true, Action: &bot.Action{Kind: bot.ActPause}}); err != nil {
		t.Fatal(err)
	}
	h.sweepAt("2026-06-08 18:00")
	h.wantCount("1", 2, "after pressing Pause reminders")
	h.wantNext("1", "")
}

func TestSweep_quietHours(t *testing.T) {
	t.Run("a chosen late time is honoured, gently", func(t *testing.T) {
		h := newHarness(t, "2026-06-01 10:00")
		h.join("1")
		mustContain(t, h.say("1", "/time 23:00"), "today at 23:00", "night hours", "since you chose it")
		h.sweepAt("2026-06-01 21:00")
		h.wantCount("1", 1, "at 23:00 Berlin")
	})
	t.Run("no gentle word for the evening", func(t *testing.T) {
		h := newHarness(t, "2026-06-01 10:00")
		h.join("1")
		rs := h.say("1", "/time 21:00")
		if got := text(rs); strings.Contains(got, "night hours") {
			t.Fatalf("21:00 got the quiet-hours word:\n%s", got)
		}
	})
	t.Run("back after the time, in quiet hours: the day is skipped", func(t *testing.T) {
		h := newHarness(t, "2026-06-01 10:00")
		h.join("1")
		h.sweepAt("2026-06-01 20:30") // 22:30 Berlin
		h.wantCount("1", 0, "back at 22:30")
		h.wantNext("1", "2026-06-02 18:00")
		h.sweepAt("2026-06-02 18:00")
		h.wantCount("1", 1, "the next day")
	})
	t.Run("back the same evening: one late prompt", func(t *testing.T) {
		h := newHarness(t, "2026-06-01 10:00")
		h.join("1")
		h.sweepAt("2026-06-01 19:00") // 21:00 Berlin
		h.wantCount("1", 1, "back at 21:00")
		h.sweepAt("2026-06-01 19:01")
		h.wantCount("1", 1, "the sweep after")
		h.wantNext("1", "2026-06-02 18:00")
	})
	t.Run("a missed early prompt waits for the end of quiet hours", func(t *testing.T) {
		h := newHarness(t, "2026-06-01 02:00")
		h.join("1", "/time 07:00") // chosen inside quiet hours: 05:00 UTC
		h.sweepAt("2026-06-01 05:30")
		h.wantCount("1", 0, "back at 07:30, still quiet")
		h.wantNext("1", "2026-06-01 06:00")
		h.sweepAt("2026-06-01 06:00")
		h.wantCount("1", 1, "at 08:00")
		h.wantNext("1", "2026-06-02 05:00")
	})
}

// After three prompts in a row with no message: every third day, then
// weekly; a message brings daily prompts back.
func TestSweep_backOffAndRecovery(t *testing.T) {
	h := newHarness(t, "2026-06-01 10:00")
	h.join("1")
	start := utc("2026-06-01 18:00")
	var days []int
	for d := range 24 {
		before := h.rec.count("1")
		h.clock.Set(start.AddDate(0, 0, d))
		h.sweep()
		if h.rec.count("1") > before {
			days = append(days, d)
		}
	}
	if got, want := fmt.Sprint(days), "[0 1 2 5 8 15 22]"; got != want {
		t.Fatalf("prompt days: got %s, want %s", got, want)
	}

	h.at("2026-06-23 19:00")
	h.say("1", "I'm still here, just quiet.")
	h.wantNext("1", "2026-06-24 18:00")
	for d := 23; d < 27; d++ {
		h.clock.Set(start.AddDate(0, 0, d))
		h.sweep()
	}
	if got := h.rec.count("1"); got != 7+3 {
		t.Fatalf("after the message: %d prompts in all, want 10 (daily again)", got)
	}
}

func TestSweep_unreachable(t *testing.T) {
	h := newHarness(t, "2026-06-01 10:00")
	h.join("1")
	h.join("2")
	h.rec.setFail(func(to bot.Address) error {
		if to.UserID == "1" {
			return bot.Errorf(bot.EUNREACHABLE, "blocked")
		}
		return nil
	})
	st := h.sweepAt("2026-06-01 18:00")
	if st.Unreachable != 1 || st.Sent != 1 {
		t.Fatalf("stats %+v, want 1 unreachable and 1 sent", st)
	}
	if u := h.user("1"); !u.Unreachable {
		t.Fatal("1 is not marked unreachable")
	}
	h.wantNext("1", "")
	h.sweepAt("2026-06-02 18:00")
	h.sweepAt("2026-06-03 18:00")
	if got := h.rec.attempts("1"); got != 1 {
		t.Fatalf("tries to reach 1: %d, want 1 (none after unreachable)", got)
	}
	h.wantCount("2", 3, "the other person")

	h.rec.setFail(nil)
	h.at("2026-06-04 09:00")
	h.say("1", "/step")
	h.wantNext("1", "2026-06-04 18:00")
	h.sweepAt("2026-06-04 18:00")
	h.wantCount("1", 1, "after they wrote again")
}

func TestSweep_transientFailures(t *testing.T) {
	t.Run("retried later the same day", func(t *testing.T) {
		h := newHarness(t, "2026-06-01 10:00")
		h.join("1")
		failures := 1
		h.rec.setFail(func(bot.Address) error {
			if failures > 0 {
				failures--
				return bot.Errorf(bot.ETRANSIENT, "rate limited")
			}
			return nil
		})
		if st := h.sweepAt("2026-06-01 18:00"); st.Retry != 1 {
			t.Fatalf("stats %+v, want 1 retry", st)
		}
		h.wantNext("1", "2026-06-01 18:05")
		h.sweepAt("2026-06-01 18:04")
		h.wantCount("1", 0, "before the retry")
		h.restart()
		h.sweepAt("2026-06-01 18:05")
		h.wantCount("1", 1, "at the retry, after a restart")
		h.sweepAt("2026-06-01 18:30")
		h.wantCount("1", 1, "after the retry")
		h.wantNext("1", "2026-06-02 18:00")
	})
	t.Run("given up after the last attempt", func(t *testing.T) {
		h := newHarness(t, "2026-06-01 10:00")
		h.join("1")
		h.rec.setFail(func(bot.Address) error { return bot.Errorf(bot.ETRANSIENT, "down") })
		for _, at := range []string{"18:00", "18:05", "18:15", "18:35", "19:15", "20:00"} {
			h.sweepAt("2026-06-01 " + at)
		}
		if got := h.rec.attempts("1"); got != 4 {
			t.Fatalf("attempts: %d, want 4 (5, 10 and 20 minutes apart)", got)
		}
		h.wantNext("1", "2026-06-02 18:00")
	})
	t.Run("not retried into quiet hours", func(t *testing.T) {
		h := newHarness(t, "2026-06-01 10:00")
		h.join("1", "/time 21:58")
		h.rec.setFail(func(bot.Address) error { return bot.Errorf(bot.ETRANSIENT, "down") })
		h.sweepAt("2026-06-01 19:58")
		h.wantNext("1", "2026-06-02 19:58")
	})
}

func TestSweep_promptRotation(t *testing.T) {
	h := newHarness(t, "2026-06-01 10:00")
	h.say("1", "/start")
	if _, err := h.eng.Handle(context.Background(), bot.Incoming{Platform: bot.PlatformTelegram, UserID: "1", ChatID: "c1", Private: true, Action: &bot.Action{Kind: bot.ActRole, Arg: string(bot.RoleHurt)}}); err != nil {
		t.Fatal(err)
	}
	step1 := content.Default().Steps[0]
	wordings := map[string]bool{}
	for _, p := range step1.Prompts {
		wordings[p.For(bot.RoleHurt)] = true
	}
	start := utc("2026-06-01 18:00")
	var prev, prevOpener string
	seen := map[string]bool{}
	for d := range 6 {
		h.clock.Set(start.AddDate(0, 0, d))
		h.sweep()
		nudge := h.rec.last(t, "1")
		if d == bot.CheckInEvery { // that day asks how things are instead: see TestSweep_checkIns
			mustContain(t, []bot.Reply{nudge}, "How are things today?")
			h.clock.Set(start.AddDate(0, 0, d).Add(time.Hour))
			h.say("1", "A few honest lines.")
			continue
		}
		prompt, opener := "", nudge.Text[0].Text
		for _, sp := range nudge.Text {
			if sp.Style == bot.Italic {
				prompt = sp.Text
			}
		}
		if !wordings[prompt] {
			t.Fatalf("day %d: prompt %q is not one of step 1's, worded for the hurt role", d, prompt)
		}
		if prompt == prev || opener == prevOpener {
			t.Fatalf("day %d: the same prompt or opener twice in a row: %q / %q", d, prompt, opener)
		}
		if got := h.user("1").LastPrompt; got != prompt {
			t.Fatalf("day %d: a reflection would answer %q, want the prompt just sent, %q", d, got, prompt)
		}
		prev, prevOpener = prompt, opener
		seen[prompt] = true
		// Answering keeps the prompts daily.
		h.clock.Set(start.AddDate(0, 0, d).Add(time.Hour))
		h.say("1", "A few honest lines.")
	}
	if len(seen) != len(step1.Prompts) {
		t.Fatalf("six prompts used %d of step 1's %d questions, want all", len(seen), len(step1.Prompts))
	}
	rs, _, err := h.store.Reflections(context.Background(), h.user("1").ID, 1, 0)
	if err != nil || len(rs) != 1 || rs[0].Prompt != prev {
		t.Fatalf("the last reflection answers %+v (%v), want the last prompt %q", rs, err, prev)
	}
}

func TestSweep_completionStopsPrompts(t *testing.T) {
	h := newHarness(t, "2026-06-01 10:00")
	h.join("1")
	for range len(content.Default().Steps) {
		h.say("1", "/next")
	}
	if !h.user("1").Completed {
		t.Fatal("not completed after ten /next")
	}
	h.wantNext("1", "")
	for d := 1; d <= 3; d++ {
		h.sweepAt(fmt.Sprintf("2026-06-0%d 18:00", d))
	}
	h.wantCount("1", 0, "after completing the program")

	h.at("2026-06-04 10:00")
	h.say("1", "/restart")
	h.sweepAt("2026-06-04 18:00")
	h.wantCount("1", 1, "after /restart")
}

// Down for days: no flood, no catch-up for past days, one prompt per sweep.
func TestSweep_downtime(t *testing.T) {
	h := newHarness(t, "2026-06-01 10:00")
	for i := range 5 {
		h.join(strconv.Itoa(i))
	}
	h.restart()
	st := h.sweepAt("2026-06-04 10:00") // down from the 1st to the 4th
	if st.Claimed != 0 || st.Moved != 5 {
		t.Fatalf("stats %+v: want 5 days skipped and nothing claimed", st)
	}
	h.wantNext("0", "2026-06-04 18:00")
	h.restart()
	h.sweepAt("2026-06-04 19:00") // back an hour late, in the evening
	h.sweepAt("2026-06-04 19:00")
	h.sweepAt("2026-06-04 19:30")
	for i := range 5 {
		h.wantCount(strconv.Itoa(i), 1, "after the downtime")
	}
}

func TestSweep_timeCommand(t *testing.T) {
	h := newHarness(t, "2026-06-01 10:00") // 12:00 in Berlin
	h.join("1")
	mustContain(t, h.say("1", "/time 19:00"), "The next one comes today at 19:00.")
	h.sweepAt("2026-06-01 17:00")
	h.wantCount("1", 1, "at 19:00")

	h.at("2026-06-01 17:30")
	mustContain(t, h.say("1", "/time 21:00"), "The next one comes tomorrow at 21:00.")
	mustContain(t, h.say("1", "/time 08:00"), "The next one comes tomorrow at 08:00.")
	mustContain(t, h.say("1", "/time 21:30"), "tomorrow at 21:30")
	h.sweepAt("2026-06-01 19:30")
	h.sweepAt("2026-06-01 20:00")
	h.wantCount("1", 1, "after moving the time later the same day")

	// 20:00 UTC is 01:45 on the 2nd in Kathmandu: its 21:30 is "today".
	mustContain(t, h.say("1", "/timezone Asia/Kathmandu"), "Asia/Kathmandu", "The next one comes today at 21:30.")
	h.wantNext("1", "2026-06-02 15:45")
	mustContain(t, h.say("1", "/time"), "21:30 (Asia/Kathmandu)", "today at 21:30")
	h.sweepAt("2026-06-02 15:45")
	h.wantCount("1", 2, "at 21:30 in Kathmandu")
}

// One slow send does not hold up the others: everyone due in the same
// minute is claimed and delivered while it waits.
func TestSweep_manyDueAtOnce(t *testing.T) {
	h := newHarness(t, "2026-06-01 10:00")
	const people = 300
	for i := range people {
		h.join(strconv.Itoa(i))
	}
	h.sched.Workers, h.sched.Batch = 4, 50
	othersDone := make(chan struct{})
	var once sync.Once
	slow := &slowSender{rec: h.rec, slowID: "0", others: people - 1, othersDone: othersDone, once: &once}
	h.sched.Senders[bot.PlatformTelegram] = slow
	st := h.sweepAt("2026-06-01 18:00")
	if st.Sent != people || h.rec.total() != people {
		t.Fatalf("stats %+v, delivered %d; want all %d", st, h.rec.total(), people)
	}
	if slow.timedOut {
		t.Fatal("the slow send waited for the others in vain: sends were held up behind it")
	}
}

// slowSender delays one person's send until everyone else's arrived.
type slowSender struct {
	rec        *recorder
	slowID     string
	others     int
	mu         sync.Mutex
	delivered  int
	othersDone chan struct{}
	once       *sync.Once
	timedOut   bool
}

func (s *slowSender) Send(ctx context.Context, to bot.Address, rs []bot.Reply) error {
	if to.UserID == s.slowID {
		select {
		case <-s.othersDone:
		case <-time.After(20 * time.Second):
			s.mu.Lock()
			s.timedOut = true
			s.mu.Unlock()
		}
		return s.rec.Send(ctx, to, rs)
	}
	err := s.rec.Send(ctx, to, rs)
	s.mu.Lock()
	s.delivered++
	if s.delivered == s.others {
		s.once.Do(func() { close(s.othersDone) })
	}
	s.mu.Unlock()
	return err
}

func TestSweep_platformWithoutSender(t *testing.T) {
	h := newHarness(t, "2026-06-01 10:00")
	h.join("1")
	if _, err := h.eng.Handle(context.Background(), bot.Incoming{Platform: bot.PlatformDiscord, UserID: "9", ChatID: "9", Private: true, Text: "/start"}); err != nil {
		t.Fatal(err)
	}
	st := h.sweepAt("2026-06-01 18:00")
	if st.Sent != 1 || st.Moved != 1 {
		t.Fatalf("stats %+v: want the Telegram prompt sent and the Discord day skipped", st)
	}
	u, err := h.store.User(context.Background(), bot.PlatformDiscord, "9")
	if err != nil {
		t.Fatal(err)
	}
	if want := utc("2026-06-02 18:00"); !u.NextDue.Equal(want) {
		t.Fatalf("discord person's next prompt %s, want %s", u.NextDue, want)
	}
}

// The due computation end to end in the four zones of the issue, across
// their 2026 changes: each local day's prompt arrives once, at the right
// instant.
func TestSweep_acrossDST(t *testing.T) {
	for _, tt := range []struct {
		zone, clock string
		from        string   // UTC, the day before the change
		want        []string // UTC instants of the next prompts
	}{
		{"America/New_York", "02:30", "2026-03-07 00:00", []string{"2026-03-07 07:30", "2026-03-08 07:00", "2026-03-09 06:30"}},
		{"America/New_York", "01:30", "2026-10-31 00:00", []string{"2026-10-31 05:30", "2026-11-01 05:30", "2026-11-02 06:30"}},
		{"Europe/Berlin", "02:30", "2026-03-28 00:00", []string{"2026-03-28 01:30", "2026-03-29 01:00", "2026-03-30 00:30"}},
		{"Europe/Berlin", "02:30", "2026-10-24 00:00", []string{"2026-10-24 00:30", "2026-10-25 00:30", "2026-10-26 01:30"}},
		{"Australia/Lord_Howe", "01:45", "2026-04-03 12:00", []string{"2026-04-03 14:45", "2026-04-04 14:45", "2026-04-05 15:15"}},
		{"Australia/Lord_Howe", "02:15", "2026-10-02 12:00", []string{"2026-10-02 15:45", "2026-10-03 15:30", "2026-10-04 15:15"}},
		{"Asia/Kathmandu", "20:00", "2026-06-01 00:00", []string{"2026-06-01 14:15", "2026-06-02 14:15", "2026-06-03 14:15"}},
	} {
		t.Run(tt.zone+"/"+tt.clock+"/"+tt.from[:10], func(t *testing.T) {
			h := newHarness(t, tt.from)
			h.join("1", "/timezone "+tt.zone, "/time "+tt.clock)
			for i, w := range tt.want {
				h.wantNext("1", w)
				due := utc(w)
				h.clock.Set(due.Add(-time.Minute))
				h.sweep()
				h.wantCount("1", i, "a minute before "+w)
				h.clock.Set(due)
				h.sweep()
				h.sweep()
				h.wantCount("1", i+1, "at "+w)
				// Answer, so the back-off stays out of it.
				h.clock.Set(due.Add(2 * time.Minute))
				h.say("1", "noted")
			}
		})
	}
}
