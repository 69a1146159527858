-- The Transform (CV 4) accepted under an originator's last counter, until its Signed Pre-Command comes under the same
-- RequestID: the device and SRV that Signed Pre-Command must be for. Kept with the counter, in the message log's
-- transaction, so that a restart (or the originator's grain going idle) does not close it.
ALTER TABLE replay_counter ADD COLUMN open_target text NULL;
ALTER TABLE replay_counter ADD COLUMN open_variant text NULL;
