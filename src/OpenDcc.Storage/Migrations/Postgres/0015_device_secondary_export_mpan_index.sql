-- 8.2 Read Inventory and the smart-grid reads find an electricity meter by any MPAN it serves: its import MPAN, and
-- its secondary import or export MPAN (0011) as well.
CREATE INDEX device_secondary_import_mpan ON device (secondary_import_mpan) WHERE secondary_import_mpan IS NOT NULL;
CREATE INDEX device_export_mpan ON device (export_mpan) WHERE export_mpan IS NOT NULL;
