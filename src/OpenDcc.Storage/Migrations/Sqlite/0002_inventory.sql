-- Smart metering inventory: the devices DUIS requests may name (E19 when unknown, E11 by type, E5 by status).
-- Sites, comms hub pairings and status history refer to device (id) in later migrations.
CREATE TABLE device (
    id            TEXT PRIMARY KEY,           -- EUI-64, DUIS form
    device_type   TEXT NOT NULL,              -- DUIS DeviceType: ESME, GSME, CHF, GPF, PPMID, HCALCS, IHD
    smi_status    TEXT NOT NULL               -- DUIS DeviceStatus: Pending, Whitelisted, InstalledNotCommissioned, Commissioned …
) STRICT, WITHOUT ROWID;                      -- looked up only by id: the rows live in the key's b-tree, no second index
