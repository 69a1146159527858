-- The device's model, which picks its translation adapter (null: the default adapter).
ALTER TABLE device ADD COLUMN model TEXT;
