-- 0001: the people walking the program and their journals.
--
-- Times are INTEGER unix seconds (UTC); NULL means the zero time.
-- Booleans are INTEGER 0 or 1.
-- Every table about a person references users (id) ON DELETE CASCADE:
-- that is how DeleteUser erases everything about them.
-- AUTOINCREMENT: ids are never reused, so a stale reference to a deleted
-- person or reflection (a scheduled job, an old button) can never land on
-- somebody else's row.

CREATE TABLE users (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	platform     TEXT    NOT NULL CHECK (platform <> ''),
	platform_id  TEXT    NOT NULL CHECK (platform_id <> ''),
	chat_id      TEXT    NOT NULL DEFAULT '',
	name         TEXT    NOT NULL DEFAULT '',
	role         TEXT    NOT NULL DEFAULT '',
	step         INTEGER NOT NULL DEFAULT 1,
	completed    INTEGER NOT NULL DEFAULT 0 CHECK (completed IN (0, 1)),
	prompt_index INTEGER NOT NULL DEFAULT 0,
	last_prompt  TEXT    NOT NULL DEFAULT '',
	nudge_time   TEXT    NOT NULL DEFAULT '',
	time_zone    TEXT    NOT NULL DEFAULT '',
	paused       INTEGER NOT NULL DEFAULT 0 CHECK (paused IN (0, 1)),
	paused_until INTEGER,
	unreachable  INTEGER NOT NULL DEFAULT 0 CHECK (unreachable IN (0, 1)),
	started_at   INTEGER,
	last_seen_at INTEGER,
	UNIQUE (platform, platform_id)
) STRICT;

CREATE TABLE reflections (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	step       INTEGER NOT NULL,
	prompt     TEXT    NOT NULL DEFAULT '',
	text       TEXT    NOT NULL,
	created_at INTEGER NOT NULL
) STRICT;

-- The journal, newest first, and its total.
CREATE INDEX reflections_user_created ON reflections (user_id, created_at DESC, id DESC);
-- How many reflections on a step.
CREATE INDEX reflections_user_step ON reflections (user_id, step);
