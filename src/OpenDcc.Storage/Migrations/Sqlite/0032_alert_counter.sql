-- The counter of the last alert taken from each device (its GBCS originator counter, under the frame's MAC): an alert
-- is taken only above it, so a frame captured on the SM WAN and sent again is refused after a restart too.
-- Unsigned 64-bit, kept as 20-digit zero-padded text so that text order is numeric.
CREATE TABLE alert_counter (
    device        TEXT PRIMARY KEY,           -- EUI-64, DUIS form
    last_counter  TEXT NOT NULL CHECK (length(last_counter) = 20)
) STRICT, WITHOUT ROWID;
