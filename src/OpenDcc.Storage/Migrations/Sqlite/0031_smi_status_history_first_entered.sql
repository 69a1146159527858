-- When a device first entered an SMI status (Read Inventory's date commissioned): one entry read from this index,
-- however long the device's history has grown.
CREATE INDEX smi_status_history_device_status ON smi_status_history (device, status, id);
