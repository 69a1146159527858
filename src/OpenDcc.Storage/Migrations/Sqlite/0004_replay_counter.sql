-- DUIS replay protection: the highest RequestID counter accepted from each originator.
-- Counters are unsigned 64-bit, kept as 20-digit zero-padded text so that text order is numeric order.
CREATE TABLE replay_counter (
    originator    TEXT PRIMARY KEY,           -- EUI-64, DUIS form
    last_counter  TEXT NOT NULL CHECK (length(last_counter) = 20)
) STRICT;
