-- The failed queue per user (0019) over failed messages only. Keyed by user first, the index took each message queued
-- (a random place among the users', so a page of its own written per message on SQLite) and each change of its state
-- (two more), while only failed messages are ever asked for by user. Its queries name the state as a literal, which a
-- partial index needs (a bound parameter would not do).
DROP INDEX outbound_message_failed_by_user;
CREATE INDEX outbound_message_failed_by_user ON outbound_message (user_id, last_attempt_at) WHERE state = 'Failed';
