-- An ESME may serve, beside its import MPAN, a secondary import MPAN (a second import register, e.g. a separately
-- settled heating circuit) and an export MPAN (generation exported to the grid): DUIS 8.4 UpdateMPxN sets them, 8.2
-- Read Inventory shows them (SecondaryImportMPAN, ExportMPAN). MPAN cores, check digit verified before they are kept.
ALTER TABLE device ADD COLUMN secondary_import_mpan TEXT;
ALTER TABLE device ADD COLUMN export_mpan TEXT;
