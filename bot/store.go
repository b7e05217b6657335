package bot

import "context"

// Store keeps people and their journals. storage.Store implements it with
// SQLite. Methods return an *Error with code ENOTFOUND where they say so.
type Store interface {
	UserStore
	JournalStore
}

// UserStore keeps people's progress and settings.
type UserStore interface {
	// User returns the person with this platform id, or ENOTFOUND.
	User(ctx context.Context, p Platform, platformID string) (*User, error)
	// SaveUser inserts u (setting u.ID) or updates it when u.ID != 0.
	SaveUser(ctx context.Context, u *User) error
	// DeleteUser erases the person and every row about them, so that their
	// text does not linger in the database file. Deleting someone who is not
	// there returns nil, so a repeated /delete succeeds.
	DeleteUser(ctx context.Context, userID int64) error
}

// JournalStore keeps reflections.
type JournalStore interface {
	// AddReflection stores r durably (once it returns, r survives the process
	// being killed and a power loss) and sets r.ID. It returns ENOTFOUND if the
	// person no longer exists. Times are kept to the second, in UTC. If the
	// person already has a reflection with r.SourceID (non-empty), nothing
	// is added and r gets that reflection's ID and CreatedAt.
	AddReflection(ctx context.Context, r *Reflection) error
	// Reflections returns up to limit of the person's reflections, newest
	// first, skipping offset, and how many there are in all. A limit of 0 or
	// less means all of them.
	Reflections(ctx context.Context, userID int64, limit, offset int) ([]Reflection, int, error)
	// CountReflections returns how many reflections the person wrote on
	// step, or on all steps when step is 0.
	CountReflections(ctx context.Context, userID int64, step int) (int, error)
}

// Sender delivers replies to a person outside of a conversation turn, e.g. a
// daily prompt. Adapters implement it. It returns an *Error with code
// EUNREACHABLE when the platform says the person cannot be messaged (the
// caller marks them unreachable) and ETRANSIENT when a later try may work.
type Sender interface {
	Send(ctx context.Context, to Address, replies []Reply) error
}
