-- A meter's confirmed commissioning (its frame the SMI status it left, by name), kept as pending in the transaction
-- that stores its status change until its DCC Alert (N12) is raised: the meter does not confirm it again, so a hub
-- stopping between the change and the alert would otherwise lose the alert. SQLite cannot alter a CHECK, so the table
-- is made again with the wider one (https://sqlite.org/lang_altertable.html#otheralter), in this migration's
-- transaction, its rows kept: no index, trigger, view or foreign key names it.
CREATE TABLE pending_alert_0036 (
    take          TEXT PRIMARY KEY,          -- the taking's own ID: a take tried again after its commit's answer was lost finds itself
    device        TEXT NOT NULL,             -- EUI-64, DUIS form
    counter       TEXT CHECK (length(counter) = 20),  -- the alert's counter; none for a format without one (early smart), nor for a DCC alert's
    received_at   INTEGER NOT NULL,          -- Unix ticks (100 ns)
    frame         BLOB NOT NULL,             -- as the device sent it; for a DCC alert, what it is raised from
    source        TEXT NOT NULL DEFAULT 'device' CHECK (source IN ('device', 'power_lost', 'meter_commissioned'))
) STRICT;
INSERT INTO pending_alert_0036 (take, device, counter, received_at, frame, source)
    SELECT take, device, counter, received_at, frame, source FROM pending_alert;
DROP TABLE pending_alert;
ALTER TABLE pending_alert_0036 RENAME TO pending_alert;
