-- A user's failed messages, as the dispatcher asks for them each time a message reaches the user (to send them again)
-- and 'opendcc delivery failed --user' lists them: without it each such question read every failed message of every
-- user, and, being an UPDATE, held the store's write lock meanwhile, so one user's dead endpoint slowed everyone.
CREATE INDEX outbound_message_failed_by_user ON outbound_message (state, user_id, last_attempt_at);
