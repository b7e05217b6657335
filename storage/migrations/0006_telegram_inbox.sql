-- 0006: the Telegram updates received and not yet handled (issue 6).
--
-- A poller confirms an update to Telegram (by asking for the next offset)
-- before the adapter's per-chat queues have handled it; a webhook answers
-- 200 before then too. So each update is first written here, durably, and
-- only then confirmed; marking it handled (telegram_updates) deletes its
-- row, and at start the rows left by a crash are handled again, in order.
-- raw is the update's JSON as Telegram sent it, which holds what the person
-- wrote: it is sealed like a reflection's text when a key is configured.
CREATE TABLE telegram_inbox (
	update_id   INTEGER PRIMARY KEY,
	raw         TEXT    NOT NULL,
	received_at INTEGER NOT NULL
) STRICT;
