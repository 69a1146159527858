-- Foundation: DCC users, organisation certificates, the hash-chained message log.
CREATE TABLE dcc_user (
    id            text PRIMARY KEY,           -- EUI-64, DUIS form
    name          text NOT NULL,
    roles         text NOT NULL,              -- DUIS abbreviations, space-separated: 'IS GS'
    status        text NOT NULL,
    response_url  text NULL
);

CREATE TABLE organisation_certificate (
    thumbprint    text PRIMARY KEY,           -- SHA-256 of the DER, hex
    entity_id     text NOT NULL REFERENCES dcc_user (id),
    role          integer NOT NULL,           -- remote-party role code (OU)
    issuer_name   text NOT NULL,
    serial_number text NOT NULL,              -- decimal, as XMLDSig X509SerialNumber carries it
    not_before    bigint NOT NULL,            -- Unix ticks (100 ns)
    not_after     bigint NOT NULL,
    pem           text NOT NULL,
    UNIQUE (issuer_name, serial_number)
);
CREATE INDEX organisation_certificate_entity ON organisation_certificate (entity_id);

CREATE TABLE message_log (
    sequence      bigint PRIMARY KEY,
    at            bigint NOT NULL,            -- Unix ticks (100 ns)
    direction     smallint NOT NULL,
    user_id       text NULL,
    correlation   text NULL,
    outcome       text NOT NULL,
    payload       bytea NOT NULL,
    previous_hash bytea NOT NULL,
    hash          bytea NOT NULL
);

-- The chain head: the last sequence and its hash, updated in the same transaction as each append.
CREATE TABLE message_log_head (
    id            integer PRIMARY KEY CHECK (id = 1),
    sequence      bigint NOT NULL,
    hash          bytea NOT NULL
);
INSERT INTO message_log_head (id, sequence, hash) VALUES (1, 0, decode(repeat('00', 32), 'hex'));
