-- Foundation: DCC users, organisation certificates, the hash-chained message log.
CREATE TABLE dcc_user (
    id            TEXT PRIMARY KEY,           -- EUI-64, DUIS form
    name          TEXT NOT NULL,
    roles         TEXT NOT NULL,              -- DUIS abbreviations, space-separated: 'IS GS'
    status        TEXT NOT NULL,
    response_url  TEXT NULL
) STRICT;

CREATE TABLE organisation_certificate (
    thumbprint    TEXT PRIMARY KEY,           -- SHA-256 of the DER, hex
    entity_id     TEXT NOT NULL REFERENCES dcc_user (id),
    role          INTEGER NOT NULL,           -- remote-party role code (OU)
    issuer_name   TEXT NOT NULL,
    serial_number TEXT NOT NULL,              -- decimal, as XMLDSig X509SerialNumber carries it
    not_before    INTEGER NOT NULL,           -- Unix ticks (100 ns)
    not_after     INTEGER NOT NULL,
    pem           TEXT NOT NULL,
    UNIQUE (issuer_name, serial_number)
) STRICT;
CREATE INDEX organisation_certificate_entity ON organisation_certificate (entity_id);

CREATE TABLE message_log (
    sequence      INTEGER PRIMARY KEY,
    at            INTEGER NOT NULL,           -- Unix ticks (100 ns)
    direction     INTEGER NOT NULL,
    user_id       TEXT NULL,
    correlation   TEXT NULL,
    outcome       TEXT NOT NULL,
    payload       BLOB NOT NULL,
    previous_hash BLOB NOT NULL,
    hash          BLOB NOT NULL
) STRICT;

-- The chain head: the last sequence and its hash, updated in the same transaction as each append.
CREATE TABLE message_log_head (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    sequence      INTEGER NOT NULL,
    hash          BLOB NOT NULL
) STRICT;
INSERT INTO message_log_head (id, sequence, hash) VALUES (1, 0, zeroblob(32));
