-- The comms hub a device is joined to (its commands queue in that hub's grain) and the hub's SM WAN region.
ALTER TABLE device ADD COLUMN comms_hub TEXT;
ALTER TABLE device ADD COLUMN wan_region TEXT;
