-- REST API keys: bearer tokens issued to DCC users by 'opendcc users api-key'. Only the SHA-256 of the token is
-- kept (the token is shown once); a revoked key stays, with when it was revoked.
CREATE TABLE api_key (
    id            text PRIMARY KEY,           -- the public part of the token, for listing and revoking
    user_id       text NOT NULL REFERENCES dcc_user (id),
    token_hash    text NOT NULL UNIQUE,       -- SHA-256 of the whole token, lower-case hex
    created_at    bigint NOT NULL,            -- Unix ticks (100 ns)
    revoked_at    bigint NULL
);
CREATE INDEX api_key_user ON api_key (user_id);
