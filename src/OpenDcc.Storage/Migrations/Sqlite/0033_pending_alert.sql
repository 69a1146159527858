-- An alert taken from a device (a GBCS alert's counter raised in alert_counter, in the same transaction) and not yet
-- handed on to its users: removed once every copy is queued or logged, so an alert a hub took and then stopped before
-- handing on (a crash, a kill, a fault on the way) is handed on when a hub next starts, rather than lost.
CREATE TABLE pending_alert (
    take          TEXT PRIMARY KEY,          -- the taking's own ID: a take tried again after its commit's answer was lost finds itself
    device        TEXT NOT NULL,             -- EUI-64, DUIS form
    counter       TEXT CHECK (length(counter) = 20),  -- the alert's counter; none for a format without one (early smart)
    received_at   INTEGER NOT NULL,          -- Unix ticks (100 ns)
    frame         BLOB NOT NULL              -- as the device sent it
) STRICT;
