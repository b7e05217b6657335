-- 0002: the daily prompt schedule.
--
-- next_due is when a person's next daily prompt is due (unix seconds, UTC);
-- NULL means none is planned (paused, completed, unreachable). The sweep
-- reads the due rows through users_next_due in next_due order, so a sweep
-- with nobody due touches one index page, however many people there are.
ALTER TABLE users ADD COLUMN next_due INTEGER;
-- The instant the last claimed daily prompt was due, and how many prompts
-- in a row went without a message from the person (for the back-off).
ALTER TABLE users ADD COLUMN last_nudge_at INTEGER;
ALTER TABLE users ADD COLUMN nudge_streak INTEGER NOT NULL DEFAULT 0;

CREATE INDEX users_next_due ON users (next_due) WHERE next_due IS NOT NULL;

-- One row per person and local date claimed, written before the prompt is
-- sent: the primary key makes a second prompt for the same day impossible,
-- across restarts, overlapping sweeps and processes. state is 'claimed'
-- until the outcome is known; a row left 'claimed' (a crash mid-send) is
-- never sent again. Only 'retry' rows may be claimed again. Rows older than
-- a week are pruned as new ones are claimed.
CREATE TABLE nudges (
	user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	local_date  TEXT    NOT NULL CHECK (local_date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
	state       TEXT    NOT NULL CHECK (state IN ('claimed', 'sent', 'retry', 'failed', 'unreachable')),
	attempts    INTEGER NOT NULL DEFAULT 1,
	claimed_at  INTEGER NOT NULL,
	finished_at INTEGER,
	PRIMARY KEY (user_id, local_date)
) STRICT, WITHOUT ROWID;

-- People who were here before: due "at the epoch", which the first sweep
-- treats like a day missed while the bot was down: nothing is sent, and
-- their next prompt is planned from their time and time zone.
UPDATE users SET next_due = 0
	WHERE completed = 0 AND unreachable = 0 AND NOT (paused = 1 AND paused_until IS NULL);
