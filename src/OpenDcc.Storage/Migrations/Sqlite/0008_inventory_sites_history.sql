-- The smart metering inventory in full: what a device is (manufacturer, firmware, SMETS/CHTS version), the premises it
-- is at, the radio cell of a comms hub, the devices it is joined to, the history of its SMI status, and the device
-- models that may join the inventory at all.
ALTER TABLE device ADD COLUMN manufacturer TEXT;
ALTER TABLE device ADD COLUMN firmware_version TEXT;
ALTER TABLE device ADD COLUMN smets_chts_version TEXT;
ALTER TABLE device ADD COLUMN uprn INTEGER;                  -- the site (premises) the device is installed at
ALTER TABLE device ADD COLUMN radio_cell TEXT;               -- a comms hub's SM WAN radio cell
CREATE INDEX device_uprn ON device (uprn) WHERE uprn IS NOT NULL;
CREATE INDEX device_mprn ON device (mprn) WHERE mprn IS NOT NULL;
CREATE INDEX device_comms_hub ON device (comms_hub) WHERE comms_hub IS NOT NULL;

-- Premises, as DUIS names them: the UPRN, or a post code with an address identifier (Read Inventory's PropertyFilter).
CREATE TABLE site (
    uprn               INTEGER PRIMARY KEY,
    post_code          TEXT,                              -- normalised: upper case, one space before the inward code
    address_identifier TEXT,
    lead_supplier      TEXT                               -- EUI-64 of the DCC user that leads the premises
) STRICT;
CREATE INDEX site_address ON site (post_code, address_identifier) WHERE post_code IS NOT NULL;

-- HAN joins between devices, kept both ways round so either side finds the other (PPMID-ESME, IHD-ESME, GSME-GPF …).
CREATE TABLE device_join (
    device TEXT NOT NULL,
    other  TEXT NOT NULL,
    PRIMARY KEY (device, other)
) STRICT, WITHOUT ROWID;

-- Every SMI status a device has had: which, from when, and by which service request and DCC user (null: an operator
-- through the CLI). Kept when a device is deleted from the inventory: it is the audit trail.
CREATE TABLE smi_status_history (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    device    TEXT NOT NULL,
    status    TEXT NOT NULL,
    since     INTEGER NOT NULL,                               -- Unix ticks (100 ns)
    srv       TEXT,                                           -- service reference variant, e.g. 8.3
    by_user   TEXT                                            -- EUI-64 of the DCC user
) STRICT;
CREATE INDEX smi_status_history_device ON smi_status_history (device, id);

-- The device models that comply with the approved technical specification (the Central Products List).
CREATE TABLE approved_model (
    manufacturer TEXT NOT NULL,                              -- upper case
    model        TEXT NOT NULL,                              -- upper case
    PRIMARY KEY (manufacturer, model)
) STRICT, WITHOUT ROWID;
