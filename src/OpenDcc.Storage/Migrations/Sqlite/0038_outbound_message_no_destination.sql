-- A message for a DCC user with no response URL registered goes to the failed queue when it is made, like any other
-- undeliverable message, with no URL it was for: its destination is the user's URL once a claim finds one. SQLite
-- cannot drop a NOT NULL, so the table is made again (https://sqlite.org/lang_altertable.html#otheralter), in this
-- migration's transaction, with its rows, its indexes, and its AUTOINCREMENT's high mark, so that a purged message's id
-- is still never given to another: no trigger, view or foreign key names it.
CREATE TABLE outbound_message_0037 (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id         TEXT NOT NULL,            -- EUI-64, DUIS form
    destination     TEXT NULL,                -- the user's response URL when queued (none when it had none), then when last claimed
    correlation     TEXT NOT NULL,            -- RequestID or alert identity
    payload         BLOB NOT NULL,            -- signed XML, sent as-is
    enqueued_at     INTEGER NOT NULL,         -- Unix ticks (100 ns)
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('Pending', 'Delivered', 'Failed')),
    last_error      TEXT NULL,
    last_attempt_at INTEGER NULL,
    claimed_until   INTEGER NULL,             -- a dispatcher's lease; NULL or past when unclaimed
    what            TEXT
) STRICT;
INSERT INTO outbound_message_0037 (id, user_id, destination, correlation, payload, enqueued_at, attempts, next_attempt_at, state, last_error, last_attempt_at, claimed_until, what)
    SELECT id, user_id, destination, correlation, payload, enqueued_at, attempts, next_attempt_at, state, last_error, last_attempt_at, claimed_until, what FROM outbound_message;
-- Its own row made afresh from the old one: the old may have one with no rows left (all purged), the copy then none.
DELETE FROM sqlite_sequence WHERE name = 'outbound_message_0037';
INSERT INTO sqlite_sequence (name, seq) SELECT 'outbound_message_0037', seq FROM sqlite_sequence WHERE name = 'outbound_message';
DROP TABLE outbound_message;
ALTER TABLE outbound_message_0037 RENAME TO outbound_message;
CREATE INDEX outbound_message_due ON outbound_message (state, next_attempt_at);
CREATE INDEX outbound_message_settled ON outbound_message (state, last_attempt_at);
CREATE INDEX outbound_message_expiry ON outbound_message (state, enqueued_at);
CREATE INDEX outbound_message_failed_by_user ON outbound_message (state, user_id, last_attempt_at);
