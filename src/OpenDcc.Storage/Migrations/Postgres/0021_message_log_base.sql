-- The log's base: the sequence and hash of the last entry archived and removed ('opendcc log archive'), which the
-- first entry still stored links to; 0 and the genesis hash while nothing has been archived.
CREATE TABLE message_log_base (
    id            integer PRIMARY KEY CHECK (id = 1),
    sequence      bigint NOT NULL,
    hash          bytea NOT NULL
);
INSERT INTO message_log_base (id, sequence, hash) VALUES (1, 0, decode(repeat('00', 32), 'hex'));
