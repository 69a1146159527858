-- Whether the 8.13 that took a local command's answer was logged (set in the message log's own transaction). A mark
-- whose 8.13 never was (the log failed, and taking the mark back failed too) holds the answer only for a while: then
-- another 8.13 of the user may take it, so that an answer the user never had is not held for the command's 30 days.
ALTER TABLE local_command ADD COLUMN return_logged integer NOT NULL DEFAULT 0;
UPDATE local_command SET return_logged = 1 WHERE returned_at IS NOT NULL;
