-- Delivery: the outbound queue of signed responses and alerts to DCC users, with retries and the failed queue.
CREATE TABLE outbound_message (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id         text NOT NULL,            -- EUI-64, DUIS form
    destination     text NOT NULL,            -- the user's response URL when queued
    correlation     text NOT NULL,            -- RequestID or alert identity
    payload         bytea NOT NULL,           -- signed XML, sent as-is
    enqueued_at     bigint NOT NULL,          -- Unix ticks (100 ns)
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at bigint NOT NULL,
    state           text NOT NULL CHECK (state IN ('Pending', 'Delivered', 'Failed')),
    last_error      text NULL,
    last_attempt_at bigint NULL,
    claimed_until   bigint NULL               -- a dispatcher's lease; NULL or past when unclaimed
);
CREATE INDEX outbound_message_due ON outbound_message (state, next_attempt_at);
CREATE INDEX outbound_message_settled ON outbound_message (state, last_attempt_at);
