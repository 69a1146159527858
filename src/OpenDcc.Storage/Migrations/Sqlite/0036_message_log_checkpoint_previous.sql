-- The checkpoint the hub made before each (MessageLogCheckpoint v2 signs its sequence), so that log verify finds one
-- deleted from the store; NULL in those signed before (v1), which name none, and 0 in a log's first.
ALTER TABLE message_log_checkpoint ADD COLUMN previous INTEGER;
