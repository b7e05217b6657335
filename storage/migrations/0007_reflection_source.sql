-- 0007: the platform message a reflection came from, so that a message
-- delivered twice (the Telegram inbox replays updates after a crash) is
-- kept once. Empty for reflections from before, and from the console.
ALTER TABLE reflections ADD COLUMN source_id TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX reflections_source ON reflections (user_id, source_id) WHERE source_id <> '';
