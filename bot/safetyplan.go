package bot

// The safety plan: a short guided flow, in the style of established
// wellbeing apps (and of the Stanley-Brown safety plan they draw on), in
// which a person writes down, in their own words, what to look out for and
// what to do in a hard moment. Each answer is stored as it is given; the
// plan is shown on request, exported with /export and erased by /delete.

import (
	"context"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"
)

// Flow is a guided conversation in progress, during which plain text
// answers the flow's question instead of being a reflection.
type Flow string

const (
	FlowNone       Flow = ""
	FlowSafetyPlan Flow = "safetyplan"
)

// PlanAction is what a button of the safety plan flow does.
type PlanAction string

const (
	PlanStart    PlanAction = "start"    // show the plan, or begin or resume writing it
	PlanContinue PlanAction = "continue" // ask the current question again
	PlanSkip     PlanAction = "skip"     // leave this answer as it is; next question
	PlanStop     PlanAction = "stop"     // stop for now; answers so far are kept
	PlanRedo     PlanAction = "redo"     // go through every question again
)

// Valid reports whether a is a known PlanAction.
func (a PlanAction) Valid() bool {
	switch a {
	case PlanStart, PlanContinue, PlanSkip, PlanStop, PlanRedo:
		return true
	}
	return false
}

// SafetyPlan is a person's safety plan, in their words. Empty fields are
// not written yet.
type SafetyPlan struct {
	WarningSigns string // what tells them a hard moment is coming
	Calming      string // what helps them calm down, on their own
	People       string // who they can contact
	Places       string // where they can go to be safe
	UpdatedAt    time.Time
}

// Empty reports whether nothing is written yet.
func (p SafetyPlan) Empty() bool {
	return p.WarningSigns == "" && p.Calming == "" && p.People == "" && p.Places == ""
}

// SafetyPlanStore keeps safety plans, one per person. storage.Store
// implements it, sealing the answers at rest like the journal.
type SafetyPlanStore interface {
	// SafetyPlan returns the person's plan; a zero plan if they have none.
	SafetyPlan(ctx context.Context, userID int64) (SafetyPlan, error)
	// SaveSafetyPlan stores the plan, replacing the one before. It returns
	// ENOTFOUND if the person is gone.
	SaveSafetyPlan(ctx context.Context, userID int64, p SafetyPlan) error
}

// MaxPlanAnswerRunes is the longest answer a safety plan keeps.
const MaxPlanAnswerRunes = 2000

// planQuestion is one question of the flow and the field its answer fills.
type planQuestion struct {
	title    string
	question string
	field    func(*SafetyPlan) *string
}

var planQuestions = []planQuestion{
	{"Warning signs", "What tells you a hard moment may be coming? Thoughts, feelings, situations, or things someone does.",
		func(p *SafetyPlan) *string { return &p.WarningSigns }},
	{"Things that calm me", "What helps you calm down or get through it, on your own? For example a walk, music, a shower, slow breathing, a place to sit.",
		func(p *SafetyPlan) *string { return &p.Calming }},
	{"People I can contact", "Who can you reach out to when things get hard? Names and numbers if you like: a friend, family, a neighbour, a counsellor.",
		func(p *SafetyPlan) *string { return &p.People }},
	{"Safe places", "Where could you go to be safe, or to get some space, if you needed to? A friend's or relative's home, a place that stays open late.",
		func(p *SafetyPlan) *string { return &p.Places }},
}

func (e *Engine) planStore() (SafetyPlanStore, bool) {
	ps, ok := e.Store.(SafetyPlanStore)
	return ps, ok
}

var planUnavailable = Reply{Text: Text{{Text: "I can't keep a safety plan here, sorry. Writing one on paper works just as well: warning signs, things that calm you, people you can contact, and safe places."}}}

// loadPlan returns u's plan.
func (e *Engine) loadPlan(ctx context.Context, u *User) (SafetyPlan, error) {
	ps, _ := e.planStore()
	p, err := ps.SafetyPlan(ctx, u.ID)
	if err != nil {
		return SafetyPlan{}, fmt.Errorf("load safety plan: %w", err)
	}
	return p, nil
}

// safetyPlanCmd answers /safetyplan and the plan buttons.
func (e *Engine) safetyPlan(ctx context.Context, u *User, a PlanAction) ([]Reply, error) {
	if _, ok := e.planStore(); !ok {
		return []Reply{planUnavailable}, nil
	}
	p, err := e.loadPlan(ctx, u)
	if err != nil {
		return nil, err
	}
	switch a {
	case PlanStop:
		if u.Flow != FlowSafetyPlan {
			return []Reply{reply("Your safety plan is kept as it is. /safetyplan shows it.")}, nil
		}
		u.Flow, u.FlowStep = FlowNone, 0
		return []Reply{reply("Stopped here. What you wrote so far is kept, and /safetyplan picks up where you left off.")}, nil
	case PlanSkip:
		if u.Flow != FlowSafetyPlan {
			return e.showPlan(u, p), nil
		}
		return e.planNext(u, p), nil
	case PlanRedo:
		u.Flow, u.FlowStep = FlowSafetyPlan, 0
		return []Reply{e.planQuestion(u, p)}, nil
	case PlanContinue:
		if u.Flow == FlowSafetyPlan {
			return []Reply{e.planQuestion(u, p)}, nil
		}
	}
	// PlanStart, and a continue after the flow ended.
	if u.Flow == FlowSafetyPlan {
		return []Reply{e.planQuestion(u, p)}, nil
	}
	first := firstUnanswered(p)
	if !p.Empty() && first < 0 {
		return e.showPlan(u, p), nil
	}
	if !p.Empty() {
		// Written in part: show it, then go on with the rest.
		u.Flow, u.FlowStep = FlowSafetyPlan, first
		return append(e.showPlan(u, p), e.planQuestion(u, p)), nil
	}
	u.Flow, u.FlowStep = FlowSafetyPlan, 0
	var b textBuilder
	b.bold("A plan for hard moments").para().
		plain("A safety plan is a short list, in your own words, for hard moments: the signs that one is coming, what helps you through it, who you can contact, and where you can go. ",
			"It helps to write it on a calmer day, so it's there when you need it.").para().
		plain(fmt.Sprintf("There are %d questions. Answer in a few words or a few lines, skip any you like, and stop whenever you want. ", len(planQuestions)),
			"What you write is kept privately, /safetyplan shows it again, and /delete erases it.")
	return []Reply{{Text: b.text(), Personal: true}, e.planQuestion(u, p)}, nil
}

func firstUnanswered(p SafetyPlan) int {
	for i, q := range planQuestions {
		if *q.field(&p) == "" {
			return i
		}
	}
	return -1
}

// planQuestion asks question u.FlowStep, showing the answer so far.
func (e *Engine) planQuestion(u *User, p SafetyPlan) Reply {
	i := min(max(u.FlowStep, 0), len(planQuestions)-1)
	q := planQuestions[i]
	var b textBuilder
	b.bold(fmt.Sprintf("%d of %d: %s", i+1, len(planQuestions), q.title)).para().plain(q.question)
	skip := "Skip this one"
	if now := *q.field(&p); now != "" {
		b.para().plain("What you wrote before: ").italic(now).para().plain("Send a new answer to replace it, or keep it.")
		skip = "Keep it"
	}
	return Reply{Text: b.text(), Personal: true, Buttons: [][]Button{{
		{Label: skip, Action: Action{Kind: ActPlan, Arg: string(PlanSkip)}},
		{Label: "Stop for now", Action: Action{Kind: ActPlan, Arg: string(PlanStop)}},
	}}}
}

// planNext moves the flow to the next question, or ends it and shows the
// plan.
func (e *Engine) planNext(u *User, p SafetyPlan) []Reply {
	u.FlowStep++
	if u.FlowStep < len(planQuestions) {
		return []Reply{e.planQuestion(u, p)}
	}
	u.Flow, u.FlowStep = FlowNone, 0
	if p.Empty() {
		return []Reply{reply("That's all the questions. Nothing is written yet; /safetyplan starts again whenever you like.")}
	}
	rs := []Reply{reply("That's your safety plan. Keep it where you can find it: /safetyplan shows it any time.")}
	return append(rs, e.showPlan(u, p)...)
}

// planAnswer stores plain text as the answer to the flow's question. Crisis
// language still gets the safety answer, after the answer is kept.
func (e *Engine) planAnswer(ctx context.Context, u *User, text string) ([]Reply, error) {
	ps, ok := e.planStore()
	if !ok {
		u.Flow, u.FlowStep = FlowNone, 0
		return []Reply{planUnavailable}, nil
	}
	if n := utf8.RuneCountInString(text); n > MaxPlanAnswerRunes {
		return []Reply{reply(fmt.Sprintf("That's longer than one answer can be (%d characters; up to %d). Nothing was saved yet: could you say it more briefly?", n, MaxPlanAnswerRunes))}, nil
	}
	p, err := e.loadPlan(ctx, u)
	if err != nil {
		return nil, err
	}
	i := min(max(u.FlowStep, 0), len(planQuestions)-1)
	*planQuestions[i].field(&p) = text
	p.UpdatedAt = e.now()
	if err := ps.SaveSafetyPlan(ctx, u.ID, p); err != nil {
		return nil, fmt.Errorf("save safety plan: %w", err)
	}
	u.FlowStep = i
	if DetectCrisis(text) {
		u.FlowStep++
		if u.FlowStep >= len(planQuestions) {
			u.Flow, u.FlowStep = FlowNone, 0
		}
		return []Reply{e.crisisReply(u)}, nil
	}
	rs := e.planNext(u, p)
	if u.Flow == FlowSafetyPlan {
		rs[0].Text = append(Text{{Text: "Kept.\n\n"}}, rs[0].Text...)
	}
	return rs, nil
}

// showPlan shows the plan with the helplines for u's country.
func (e *Engine) showPlan(u *User, p SafetyPlan) []Reply {
	var b textBuilder
	b.bold("Your safety plan")
	for _, q := range planQuestions {
		b.para().bold(q.title).plain("\n")
		if v := *q.field(&p); v != "" {
			b.plain(v)
		} else {
			b.italic("not written yet")
		}
	}
	if rs := e.resourcesFor(u); len(rs) > 0 {
		b.para().bold("Help, any time").plain("\n")
		writeResources(&b, rs)
	}
	rows := []Button{{Label: "Change it", Action: Action{Kind: ActPlan, Arg: string(PlanRedo)}}}
	if firstUnanswered(p) >= 0 {
		rows = append([]Button{{Label: "Fill in the rest", Action: Action{Kind: ActPlan, Arg: string(PlanStart)}}}, rows...)
	}
	return []Reply{{Text: b.text(), Personal: true, Buttons: [][]Button{rows}}}
}

// flowDone says whether a message ends the flow in progress: any command
// but /safetyplan, any button but the flow's own.
func flowDone(in Incoming, cmd Command, isCmd bool) bool {
	switch {
	case in.Action != nil:
		return in.Action.Kind != ActPlan
	case isCmd:
		return cmd.Name != "safetyplan"
	}
	return false
}

// planStatus is a line for /progress about the plan; "" for none.
func planStatus(p SafetyPlan) string {
	if p.Empty() {
		return ""
	}
	n := 0
	for _, q := range planQuestions {
		if *q.field(&p) != "" {
			n++
		}
	}
	return "Safety plan: " + strconv.Itoa(n) + " of " + strconv.Itoa(len(planQuestions)) + " parts written; /safetyplan shows it."
}
