-- The smart metering inventory in full: what a device is (manufacturer, firmware, SMETS/CHTS version), the premises it
-- is at, the radio cell of a comms hub, the devices it is joined to, the history of its SMI status, and the device
-- models that may join the inventory at all.
ALTER TABLE device ADD COLUMN manufacturer text;
ALTER TABLE device ADD COLUMN firmware_version text;
ALTER TABLE device ADD COLUMN smets_chts_version text;
ALTER TABLE device ADD COLUMN uprn bigint;                   -- the site (premises) the device is installed at
ALTER TABLE device ADD COLUMN radio_cell text;               -- a comms hub's SM WAN radio cell
CREATE INDEX device_uprn ON device (uprn) WHERE uprn IS NOT NULL;
CREATE INDEX device_mprn ON device (mprn) WHERE mprn IS NOT NULL;
CREATE INDEX device_comms_hub ON device (comms_hub) WHERE comms_hub IS NOT NULL;

-- Premises, as DUIS names them: the UPRN, or a post code with an address identifier (Read Inventory's PropertyFilter).
CREATE TABLE site (
    uprn               bigint PRIMARY KEY,
    post_code          text,                              -- normalised: upper case, one space before the inward code
    address_identifier text,
    lead_supplier      text                               -- EUI-64 of the DCC user that leads the premises
);
CREATE INDEX site_address ON site (post_code, address_identifier) WHERE post_code IS NOT NULL;

-- HAN joins between devices, kept both ways round so either side finds the other (PPMID-ESME, IHD-ESME, GSME-GPF …).
CREATE TABLE device_join (
    device text NOT NULL,
    other  text NOT NULL,
    PRIMARY KEY (device, other)
);

-- Every SMI status a device has had: which, from when, and by which service request and DCC user (null: an operator
-- through the CLI). Kept when a device is deleted from the inventory: it is the audit trail.
CREATE TABLE smi_status_history (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    device    text NOT NULL,
    status    text NOT NULL,
    since     bigint NOT NULL,                                -- Unix ticks (100 ns)
    srv       text,                                           -- service reference variant, e.g. 8.3
    by_user   text                                            -- EUI-64 of the DCC user
);
CREATE INDEX smi_status_history_device ON smi_status_history (device, id);

-- The device models that comply with the approved technical specification (the Central Products List).
CREATE TABLE approved_model (
    manufacturer text NOT NULL,                              -- upper case
    model        text NOT NULL,                              -- upper case
    PRIMARY KEY (manufacturer, model)
);
