-- The DSP's signatures over the message log's head (MessageLogCheckpoint), made by the hub as the log grows: an entry
-- rewritten at or before one, its chain recomputed, no longer matches it. Kept when their entries are archived.
CREATE TABLE message_log_checkpoint (
    sequence      INTEGER PRIMARY KEY,        -- the entry signed
    hash          BLOB NOT NULL,              -- its hash
    at            INTEGER NOT NULL,           -- Unix ticks (100 ns), when it was signed
    signature     BLOB NOT NULL,              -- ECDSA P-256, IEEE P1363
    signer        BLOB NOT NULL               -- the signing DSP XmlSign certificate, DER
) STRICT;
