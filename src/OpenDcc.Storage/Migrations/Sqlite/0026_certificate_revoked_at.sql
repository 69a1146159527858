-- When an operator revoked a certificate (certs revoke): from then on it signs nothing OpenDcc accepts. Kept, not
-- deleted, so that certs list still shows it and when it stopped.
ALTER TABLE organisation_certificate ADD COLUMN revoked_at INTEGER NULL; -- Unix ticks (100 ns)
