-- 0004: care and discretion (issue 7).
--
-- Settings on the person: discreet mode (neutral notifications, protected
-- messages), their country (ISO 3166-1 alpha-2, for the helplines), the
-- pace of daily prompts (0 or 1 daily, 2 every other day), the guided flow in
-- progress and its question, and when the last check-in was due (written
-- by the scheduler's claims only, like last_nudge_at).
ALTER TABLE users ADD COLUMN discreet INTEGER NOT NULL DEFAULT 0 CHECK (discreet IN (0, 1));
ALTER TABLE users ADD COLUMN country TEXT NOT NULL DEFAULT ''
	CHECK (country = '' OR (length(country) = 2 AND country GLOB '[A-Z][A-Z]'));
ALTER TABLE users ADD COLUMN pace INTEGER NOT NULL DEFAULT 0 CHECK (pace BETWEEN 0 AND 7);
ALTER TABLE users ADD COLUMN flow TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN flow_step INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN checkin_at INTEGER;

-- A person's safety plan, in their words. The four answers are personal
-- text: with an encryption key they are sealed like the journal (see
-- seal.go). Erased with the person.
CREATE TABLE safety_plans (
	user_id       INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
	warning_signs TEXT    NOT NULL DEFAULT '',
	calming       TEXT    NOT NULL DEFAULT '',
	people        TEXT    NOT NULL DEFAULT '',
	places        TEXT    NOT NULL DEFAULT '',
	updated_at    INTEGER NOT NULL
) STRICT;

-- Answers to "How are things today?", one per person and local date (the
-- last answer that day wins). Erased with the person.
CREATE TABLE moods (
	user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	local_date TEXT    NOT NULL CHECK (local_date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
	mood       TEXT    NOT NULL CHECK (mood IN ('better', 'same', 'harder', 'unsafe')),
	PRIMARY KEY (user_id, local_date)
) STRICT, WITHOUT ROWID;

-- The ids of messages sent to and received from people in private chats,
-- so that /wipe can delete them from the chat. Ids only, never text. The
-- rows belong to a chat, not to a person (someone who has not started, or
-- has just been erased, may still clear the chat): DeleteUser erases the
-- rows of the person's chat explicitly, and rows older than 48 hours are
-- pruned as new ones are recorded, through chat_messages_at.
CREATE TABLE chat_messages (
	platform   TEXT    NOT NULL CHECK (platform <> ''),
	chat_id    TEXT    NOT NULL CHECK (chat_id <> ''),
	message_id TEXT    NOT NULL CHECK (message_id <> ''),
	from_bot   INTEGER NOT NULL CHECK (from_bot IN (0, 1)),
	at         INTEGER NOT NULL,
	PRIMARY KEY (platform, chat_id, message_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX chat_messages_at ON chat_messages (at);
