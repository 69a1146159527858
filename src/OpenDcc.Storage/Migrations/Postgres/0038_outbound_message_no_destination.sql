-- A message for a DCC user with no response URL registered goes to the failed queue when it is made, like any other
-- undeliverable message, with no URL it was for: its destination is the user's URL once a claim finds one.
ALTER TABLE outbound_message ALTER COLUMN destination DROP NOT NULL;
