-- The DSP's signatures over the message log's head (MessageLogCheckpoint), made by the hub as the log grows: an entry
-- rewritten at or before one, its chain recomputed, no longer matches it. Kept when their entries are archived.
CREATE TABLE message_log_checkpoint (
    sequence      bigint PRIMARY KEY,         -- the entry signed
    hash          bytea NOT NULL,             -- its hash
    at            bigint NOT NULL,            -- Unix ticks (100 ns), when it was signed
    signature     bytea NOT NULL,             -- ECDSA P-256, IEEE P1363
    signer        bytea NOT NULL              -- the signing DSP XmlSign certificate, DER
);
