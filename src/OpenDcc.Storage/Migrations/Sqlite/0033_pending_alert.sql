-- An alert taken from a device (its counter raised in alert_counter, in the same transaction) and not yet handed on to
-- its users: removed once every copy is queued or logged, so an alert a hub took and then stopped before handing on (a
-- crash, a kill) is handed on when a hub next starts, rather than lost with its counter spent.
CREATE TABLE pending_alert (
    device        TEXT NOT NULL,              -- EUI-64, DUIS form
    counter       TEXT NOT NULL CHECK (length(counter) = 20),
    take          TEXT NOT NULL,              -- the taking's own ID: a take tried again after its commit's answer was lost finds itself
    received_at   INTEGER NOT NULL,           -- Unix ticks (100 ns)
    frame         BLOB NOT NULL,              -- as the device sent it
    PRIMARY KEY (device, counter)
) STRICT;
