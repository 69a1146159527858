-- A queued message's bytes are those of the message log entry that handed it over, read from the entry (log_sequence)
-- rather than copied into the queue: one place for them. A message for a user with no response URL was logged with its
-- bytes and copied into the failed queue besides, each device response written twice (on SQLite a page of 4 KB more a
-- response). A row has its own bytes (payload) or its entry's (log_sequence), never both, never neither: those queued
-- before this migration keep theirs, and one whose entry is removed from the log (archived) is given them first. SQLite
-- cannot drop a NOT NULL or add a CHECK, so the table is made again as 0038 made it (https://sqlite.org/lang_altertable.html#otheralter),
-- in this migration's transaction, with its rows, its AUTOINCREMENT's high mark (a purged message's id is still never
-- given to another) and its indexes as 0039 and 0040 left them: no trigger, view or foreign key names it.
CREATE TABLE outbound_message_0040 (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id         TEXT NOT NULL,            -- EUI-64, DUIS form
    destination     TEXT NULL,                -- the user's response URL when queued (none when it had none), then when last claimed
    correlation     TEXT NOT NULL,            -- RequestID or alert identity
    payload         BLOB NULL,                -- signed XML, sent as-is; NULL when it is its log entry's
    enqueued_at     INTEGER NOT NULL,         -- Unix ticks (100 ns)
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('Pending', 'Delivered', 'Failed')),
    last_error      TEXT NULL,
    last_attempt_at INTEGER NULL,
    claimed_until   INTEGER NULL,             -- a dispatcher's lease; NULL or past when unclaimed
    what            TEXT,
    log_sequence    INTEGER NULL,             -- message_log.sequence of the entry that handed it over, whose payload it is
    CONSTRAINT outbound_message_payload_or_log_sequence CHECK ((payload IS NULL) <> (log_sequence IS NULL))
) STRICT;
INSERT INTO outbound_message_0040 (id, user_id, destination, correlation, payload, enqueued_at, attempts, next_attempt_at, state, last_error, last_attempt_at, claimed_until, what)
    SELECT id, user_id, destination, correlation, payload, enqueued_at, attempts, next_attempt_at, state, last_error, last_attempt_at, claimed_until, what FROM outbound_message;
-- Its own row made afresh from the old one: the old may have one with no rows left (all purged), the copy then none.
DELETE FROM sqlite_sequence WHERE name = 'outbound_message_0040';
INSERT INTO sqlite_sequence (name, seq) SELECT 'outbound_message_0040', seq FROM sqlite_sequence WHERE name = 'outbound_message';
DROP TABLE outbound_message;
ALTER TABLE outbound_message_0040 RENAME TO outbound_message;
CREATE INDEX outbound_message_failed_by_user ON outbound_message (user_id, last_attempt_at) WHERE state = 'Failed';
CREATE INDEX outbound_message_due ON outbound_message (next_attempt_at, id) WHERE state = 'Pending';
CREATE INDEX outbound_message_settled ON outbound_message (last_attempt_at, id) WHERE state = 'Delivered';
CREATE INDEX outbound_message_failed ON outbound_message (last_attempt_at, id) WHERE state = 'Failed';
CREATE INDEX outbound_message_expiry ON outbound_message (enqueued_at, id) WHERE state = 'Failed';
-- The messages whose bytes are a stretch of log entries, given them before those entries are removed (RemoveThroughAsync).
CREATE INDEX outbound_message_log_sequence ON outbound_message (log_sequence);
