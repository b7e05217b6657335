-- 0003: the Telegram updates already handled.
--
-- Telegram delivers an update again when a webhook got no 2xx for it, and
-- a poller that crashed before confirming its offset gets the same updates
-- again. The adapter records each update_id once the engine has handled it
-- and drops repeats. Rows older than 24 hours are pruned as new ones are
-- written, through the index on handled_at, so the table holds about one
-- day of updates.
CREATE TABLE telegram_updates (
	update_id  INTEGER PRIMARY KEY,
	handled_at INTEGER NOT NULL
) STRICT;

CREATE INDEX telegram_updates_handled_at ON telegram_updates (handled_at);
