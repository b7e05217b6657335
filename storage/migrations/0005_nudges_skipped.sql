-- 0005: skipped days in the daily-prompt history (issue 6).
--
-- A day whose prompt the scheduler skipped (the bot was down past it, or
-- its platform was not running) gets a row in state 'skipped', so that the
-- stats count it; a skipped day may still be claimed later the same day.
-- SQLite cannot change a CHECK constraint in place: the table is rebuilt
-- (foreign keys are not enforced while a migration runs; see storage.go).
CREATE TABLE nudges_new (
	user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	local_date  TEXT    NOT NULL CHECK (local_date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
	state       TEXT    NOT NULL CHECK (state IN ('claimed', 'sent', 'retry', 'failed', 'unreachable', 'skipped')),
	attempts    INTEGER NOT NULL DEFAULT 1,
	claimed_at  INTEGER NOT NULL,
	finished_at INTEGER,
	PRIMARY KEY (user_id, local_date)
) STRICT, WITHOUT ROWID;

INSERT INTO nudges_new (user_id, local_date, state, attempts, claimed_at, finished_at)
	SELECT user_id, local_date, state, attempts, claimed_at, finished_at FROM nudges;
DROP TABLE nudges;
ALTER TABLE nudges_new RENAME TO nudges;
