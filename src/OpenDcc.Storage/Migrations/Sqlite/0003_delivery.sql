-- Delivery: the outbound queue of signed responses and alerts to DCC users, with retries and the failed queue.
-- AUTOINCREMENT so that a purged message's id is never given to another.
CREATE TABLE outbound_message (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id         TEXT NOT NULL,            -- EUI-64, DUIS form
    destination     TEXT NOT NULL,            -- the user's response URL when queued
    correlation     TEXT NOT NULL,            -- RequestID or alert identity
    payload         BLOB NOT NULL,            -- signed XML, sent as-is
    enqueued_at     INTEGER NOT NULL,         -- Unix ticks (100 ns)
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('Pending', 'Delivered', 'Failed')),
    last_error      TEXT NULL,
    last_attempt_at INTEGER NULL,
    claimed_until   INTEGER NULL              -- a dispatcher's lease; NULL or past when unclaimed
) STRICT;
CREATE INDEX outbound_message_due ON outbound_message (state, next_attempt_at);
CREATE INDEX outbound_message_settled ON outbound_message (state, last_attempt_at);
