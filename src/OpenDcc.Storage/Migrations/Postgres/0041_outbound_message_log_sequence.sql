-- A queued message's bytes are those of the message log entry that handed it over, read from the entry (log_sequence)
-- rather than copied into the queue: one place for them. A message for a user with no response URL was logged with its
-- bytes and copied into the failed queue besides, each device response written twice. A row has its own bytes (payload)
-- or its entry's (log_sequence), never both, never neither: those queued before this migration keep theirs, and one
-- whose entry is removed from the log (archived) is given them first.
ALTER TABLE outbound_message ALTER COLUMN payload DROP NOT NULL;
ALTER TABLE outbound_message ADD COLUMN log_sequence bigint NULL;  -- message_log.sequence of the entry that handed it over, whose payload it is
ALTER TABLE outbound_message ADD CONSTRAINT outbound_message_payload_or_log_sequence CHECK ((payload IS NULL) <> (log_sequence IS NULL));
-- The messages whose bytes are a stretch of log entries, given them before those entries are removed (RemoveThroughAsync).
CREATE INDEX outbound_message_log_sequence ON outbound_message (log_sequence);
