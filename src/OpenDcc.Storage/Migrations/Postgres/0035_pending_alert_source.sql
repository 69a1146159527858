-- What a pending alert was taken from: a device's frame (every one kept before), or the WAN provider's report that a
-- comms hub lost mains power (its frame the instant it did, in ISO form), kept until its DCC Alert (AD1) is raised to
-- each of its users: the WAN provider does not report it again, so a hub stopping on the way would otherwise lose it.
ALTER TABLE pending_alert ADD COLUMN source text NOT NULL DEFAULT 'device' CHECK (source IN ('device', 'power_lost'));
