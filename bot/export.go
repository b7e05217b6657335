package bot

// /export: everything stored about a person, as one JSON document.

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Export is the document /export sends: everything stored about a person.
type Export struct {
	ExportedAt  time.Time          `json:"exported_at"`
	Program     string             `json:"program"`
	User        ExportUser         `json:"user"`
	Reflections []ExportReflection `json:"reflections"`
	SafetyPlan  *ExportSafetyPlan  `json:"safety_plan,omitempty"`
	CheckIns    []ExportMood       `json:"check_ins"`
}

// ExportUser is the person's stored record in an Export.
type ExportUser struct {
	Platform    Platform   `json:"platform"`
	PlatformID  string     `json:"platform_id"`
	ChatID      string     `json:"chat_id"`
	Name        string     `json:"name"`
	Role        Role       `json:"role,omitempty"`
	Step        int        `json:"step"`
	Completed   bool       `json:"completed"`
	NudgeTime   string     `json:"nudge_time"`
	TimeZone    string     `json:"time_zone"`
	Paused      bool       `json:"paused"`
	PausedUntil *time.Time `json:"paused_until,omitempty"`
	Unreachable bool       `json:"unreachable"`
	LastPrompt  string     `json:"last_prompt,omitempty"`
	StartedAt   time.Time  `json:"started_at"`
	LastSeenAt  time.Time  `json:"last_seen_at"`
	// The daily prompt's schedule.
	NextPromptAt      *time.Time `json:"next_prompt_at,omitempty"`
	LastPromptAt      *time.Time `json:"last_prompt_at,omitempty"`
	PromptsUnanswered int        `json:"prompts_unanswered"`
	// Care settings.
	Discreet      bool       `json:"discreet"`
	Country       string     `json:"country,omitempty"`
	EveryOtherDay bool       `json:"prompts_every_other_day"`
	LastCheckInAt *time.Time `json:"last_check_in_at,omitempty"`
}

// ExportReflection is one journal entry in an Export.
type ExportReflection struct {
	Step      int       `json:"step"`
	Prompt    string    `json:"prompt,omitempty"`
	Text      string    `json:"text"`
	CreatedAt time.Time `json:"created_at"`
}

func (e *Engine) export(ctx context.Context, u *User) ([]Reply, error) {
	x := Export{ExportedAt: e.now().UTC(), Program: e.Program.ID, User: ExportUser{
		Platform: u.Platform, PlatformID: u.PlatformID, ChatID: u.ChatID, Name: u.Name, Role: u.Role,
		Step: u.Step, Completed: u.Completed, NudgeTime: u.NudgeTime, TimeZone: u.TimeZone,
		Paused: u.Paused, Unreachable: u.Unreachable, LastPrompt: u.LastPrompt,
		StartedAt: u.StartedAt.UTC(), LastSeenAt: u.LastSeenAt.UTC(),
		Discreet: u.Discreet, Country: u.Country, EveryOtherDay: u.Pace >= 2,
		PausedUntil: utcPtr(u.PausedUntil), NextPromptAt: utcPtr(u.NextDue),
		LastPromptAt: utcPtr(u.LastNudgeAt), LastCheckInAt: utcPtr(u.CheckInAt),
	}, Reflections: []ExportReflection{}}
	if !u.LastNudgeAt.IsZero() && !u.LastSeenAt.After(u.LastNudgeAt) { // no message since
		x.User.PromptsUnanswered = u.NudgeStreak
	}
	// One read (a limit of 0 is all of them), so the list is one snapshot.
	rs, _, err := e.Store.Reflections(ctx, u.ID, 0, 0)
	if err != nil {
		return nil, fmt.Errorf("export reflections: %w", err)
	}
	for _, r := range rs {
		x.Reflections = append(x.Reflections, ExportReflection{Step: r.Step, Prompt: r.Prompt, Text: r.Text, CreatedAt: r.CreatedAt.UTC()})
	}
	if err := e.exportCare(ctx, u, &x); err != nil {
		return nil, err
	}
	data, err := json.MarshalIndent(x, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode export: %w", err)
	}
	data = append(data, '\n')
	return []Reply{{
		Text:     Text{{Text: fmt.Sprintf("Here is everything I keep about you, as a JSON file: your settings and %d %s.", len(x.Reflections), plural(len(x.Reflections), "reflection", "reflections"))}},
		Doc:      &Document{Name: "trustbot-export-" + e.now().UTC().Format("2006-01-02") + ".json", MIME: "application/json", Data: data},
		Personal: true,
	}}, nil
}

// ExportSafetyPlan is the safety plan in an Export.
type ExportSafetyPlan struct {
	WarningSigns string    `json:"warning_signs"`
	Calming      string    `json:"things_that_calm_me"`
	People       string    `json:"people_i_can_contact"`
	Places       string    `json:"safe_places"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// ExportMood is one check-in answer in an Export.
type ExportMood struct {
	Date string `json:"date"`
	Mood Mood   `json:"answer"`
}

// exportCare adds the safety plan and the check-ins to x.
func (e *Engine) exportCare(ctx context.Context, u *User, x *Export) error {
	if ps, ok := e.planStore(); ok {
		p, err := ps.SafetyPlan(ctx, u.ID)
		if err != nil {
			return fmt.Errorf("export safety plan: %w", err)
		}
		if !p.Empty() {
			x.SafetyPlan = &ExportSafetyPlan{WarningSigns: p.WarningSigns, Calming: p.Calming, People: p.People, Places: p.Places, UpdatedAt: p.UpdatedAt.UTC()}
		}
	}
	x.CheckIns = []ExportMood{}
	if ms, ok := e.Store.(MoodStore); ok {
		es, err := ms.Moods(ctx, u.ID, "0000-01-01")
		if err != nil {
			return fmt.Errorf("export check-ins: %w", err)
		}
		for _, en := range es {
			x.CheckIns = append(x.CheckIns, ExportMood{Date: en.Date, Mood: en.Mood})
		}
	}
	return nil
}

// utcPtr returns t in UTC, or nil for the zero time (omitted from the JSON).
func utcPtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}
