-- The metering point a meter serves: an ESME's MPAN core, a GSME's MPRN; and the MPAN's GSP group (from its
-- distributor), by which network operators ask for aggregate reads.
ALTER TABLE device ADD COLUMN mpan TEXT;
ALTER TABLE device ADD COLUMN mprn TEXT;
ALTER TABLE device ADD COLUMN gsp_group TEXT;
CREATE INDEX device_mpan ON device (mpan) WHERE mpan IS NOT NULL;
CREATE INDEX device_gsp_group ON device (gsp_group) WHERE gsp_group IS NOT NULL;
