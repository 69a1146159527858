-- Device commands acknowledged (I99) whose outcome has not yet been handed to delivery. Written with the request's
-- message log entry, deleted with the outcome's delivery queue row (or log entry): a hub that starts answers with
-- E21 those its predecessor left when it crashed.
CREATE TABLE unanswered_command (
    request_id                 text NOT NULL,     -- DUIS RequestID
    device                     text NOT NULL,     -- EUI-64, DUIS form (11.1 names several under one RequestID)
    user_id                    text NOT NULL,     -- EUI-64, DUIS form: who gets the answer
    service_reference          text NOT NULL,
    service_reference_variant  text NOT NULL,
    schema_version             text NOT NULL,
    acknowledged_at            bigint NOT NULL,   -- Unix ticks (100 ns)
    PRIMARY KEY (request_id, device)
);
