-- Commands given to users for local delivery (DUIS CV 2, 6): kept so that a device's answer, returned with 8.13 Return
-- Local Command Response, is checked against the very command and taken once; forgotten 30 days after they were given.
CREATE TABLE local_command (
    request_id                 text NOT NULL PRIMARY KEY,  -- the CV 2/6 RequestID: originator the user, target the device
    service_reference_variant  text NOT NULL,
    body                       text NOT NULL,     -- the request's body element, as sent
    signed_pre_command         bytea,             -- CV 6: the user's signed pre-command
    command                    bytea NOT NULL,    -- as given, in the device's format
    issued_at                  bigint NOT NULL,   -- Unix ticks (100 ns)
    returned_at                bigint             -- when its answer came back (8.13); null until then
);
CREATE INDEX local_command_issued ON local_command (issued_at);
