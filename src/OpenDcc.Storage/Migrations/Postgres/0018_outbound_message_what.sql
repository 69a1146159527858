-- What a queued message is, for the message log entry of each attempt to deliver it: its DUIS response code, and for
-- one the hub made up itself (E20, E21 …) why; a DCC alert's code and cause. Null for a message queued before.
ALTER TABLE outbound_message ADD COLUMN what TEXT;
