-- DUIS replay protection: the highest RequestID counter accepted from each originator.
-- Counters are unsigned 64-bit, kept as 20-digit zero-padded text so that text order is numeric order.
CREATE TABLE replay_counter (
    originator    text PRIMARY KEY,           -- EUI-64, DUIS form
    last_counter  text NOT NULL CHECK (length(last_counter) = 20)
);
