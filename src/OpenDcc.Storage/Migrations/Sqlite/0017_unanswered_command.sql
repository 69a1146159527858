-- Device commands acknowledged (I99) whose outcome has not yet been handed to delivery. Written with the request's
-- message log entry, deleted with the outcome's delivery queue row (or log entry): a hub that starts answers with
-- E21 those its predecessor left when it crashed. Without a rowid: one B-tree, the key, for each insert and delete.
CREATE TABLE unanswered_command (
    request_id                 TEXT NOT NULL,     -- DUIS RequestID
    device                     TEXT NOT NULL,     -- EUI-64, DUIS form (11.1 names several under one RequestID)
    user_id                    TEXT NOT NULL,     -- EUI-64, DUIS form: who gets the answer
    service_reference          TEXT NOT NULL,
    service_reference_variant  TEXT NOT NULL,
    schema_version             TEXT NOT NULL,
    acknowledged_at            INTEGER NOT NULL,  -- Unix ticks (100 ns)
    PRIMARY KEY (request_id, device)
) STRICT, WITHOUT ROWID;
