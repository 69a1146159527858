-- The originator counter of the last critical command (a signed pre-command, CV 5 or 6) each user sent each device,
-- which the device keeps too: OpenDcc sends on only a higher one, so no two of a user's critical commands to a device
-- share a counter, and a device's answer, which names the counter and the signer, answers one command (8.13 relies on it).
-- Counters are unsigned 64-bit, kept as 20-digit zero-padded text so that text order is numeric order.
CREATE TABLE critical_counter (
    user_id       TEXT NOT NULL,     -- EUI-64, DUIS form: the signer
    device        TEXT NOT NULL,     -- EUI-64, DUIS form
    last_counter  TEXT NOT NULL CHECK (length(last_counter) = 20),
    request_id    TEXT NOT NULL,     -- the request that sent it, which may claim it again (sent again after a 503)
    PRIMARY KEY (user_id, device)
) STRICT, WITHOUT ROWID;
