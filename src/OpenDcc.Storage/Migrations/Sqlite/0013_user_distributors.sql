-- The electricity distributors a DCC user acts for (space-separated distributor IDs, '13 18'): a network
-- operator's REST smart-grid reads are limited to MPANs of these distributors.
ALTER TABLE dcc_user ADD COLUMN distributors TEXT NOT NULL DEFAULT '';
