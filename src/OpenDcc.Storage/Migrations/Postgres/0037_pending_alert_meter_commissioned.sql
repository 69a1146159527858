-- A meter's confirmed commissioning (its frame the SMI status it left, by name), kept as pending in the transaction
-- that stores its status change until its DCC Alert (N12) is raised: the meter does not confirm it again, so a hub
-- stopping between the change and the alert would otherwise lose the alert. 0035 named its CHECK; widened here.
ALTER TABLE pending_alert
    DROP CONSTRAINT pending_alert_source_check,
    ADD CONSTRAINT pending_alert_source_check CHECK (source IN ('device', 'power_lost', 'meter_commissioned'));
